"""Messages at the service layer, against messaging's real PostgreSQL: sending to
staff, groups and the citizen's e-service under the right to send (MS-3), the
citizen's side (MS-2), read receipts, folders and unread counts, reply, reply-all,
forward, drafts and delete (MS-4, MS-5); every access checked and audited."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.config import TIME_ZONE
from messaging.mailboxes import service as mailboxes
from messaging.messages import service
from messaging.messages.schemas import (
    CitizenMessageForm,
    CitizenReplyForm,
    ForwardForm,
    MessageForm,
    ReplyForm,
)
from messaging.models import Folder, Mailbox, MailboxKind, Message
from shared.auth import User
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound


def days_from_today(days: int) -> date:
    return datetime.now(TIME_ZONE).date() + timedelta(days=days)


DELIVERED = "se.omsorg.messaging.message.delivered-to-e-service.v1"


def label(user: User) -> str:
    assert user.pnr is not None
    return f"{user.name} ({user.pnr[:8]}-{user.pnr[8:]})"


async def personal(session: AsyncSession, user: User) -> Mailbox:
    return (await mailboxes.usable(session, user))[0]


async def group(session: AsyncSession, unit: str) -> Mailbox:
    box = await session.scalar(select(Mailbox).where(Mailbox.kind == MailboxKind.GROUP, Mailbox.unit == unit))
    assert box is not None
    return box


async def messages_about(session: AsyncSession, pnr: str) -> int:
    return int(await session.scalar(select(func.count()).where(Message.person_pnr == pnr)) or 0)


async def test_the_caseworker_writes_to_the_citizen_who_reads_it_in_the_e_service(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, outbox: Any, audit_log: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    box = await personal(session, caseworker)

    sent = await service.send(
        session,
        caseworker,
        MessageForm(
            from_mailbox_id=box.id,
            to_client=person.person_id,
            subject="Påminnelse av mötestid",
            body="<p>Torsdag kl 14.00<script>alert(1)</script></p>",
            read_receipt=True,
        ),
    )

    assert sent.folder == "sent" and sent.status == "sent"
    assert sent.client is not None and sent.client.label == label(person.user)
    assert sent.body == "<p>Torsdag kl 14.00</p>"  # sanitised, never stored raw
    [event] = await outbox(DELIVERED, str(sent.client.id))
    assert event == {
        "message_id": str(sent.id),
        "mailbox_id": str(sent.client.id),
        "person_id": str(person.person_id),
        "kind": "message",
        "delivered_at": event["delivered_at"],
    }
    assert (await service.citizen_mailbox(session, person.user, None)).unread == 1
    [line] = await service.citizen_list(session, person.user, None, Folder.INBOX)
    assert line.unread is True and line.from_label == "Marita Aronsson"

    read = await service.citizen_read(session, person.user, None, sent.id)

    assert read.subject == "Påminnelse av mötestid" and read.read_at is not None
    assert (await service.citizen_mailbox(session, person.user, None)).unread == 0
    # Läskvitto: the sender is told once, when the citizen first opened it.
    [receipt] = await service.list_folder(session, caseworker, box.id, Folder.INBOX)
    assert receipt.kind == "receipt" and receipt.subject == "Läskvitto: Påminnelse av mötestid"
    assert receipt.from_label == label(person.user)
    await service.citizen_read(session, person.user, None, sent.id)
    assert len(await service.list_folder(session, caseworker, box.id, Folder.INBOX)) == 1
    actions = [(e["actor_role"], e["action"], e["outcome"]) for e in await audit_log(person.user.pnr)]
    assert ("caseworker", "send", "allowed") in actions
    assert ("citizen", "read", "allowed") in actions


async def test_the_citizen_replies_and_it_lands_in_the_caseworkers_inbox_with_the_personnummer(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    box = await personal(session, caseworker)
    sent = await service.send(
        session,
        caseworker,
        MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Kallelse"),
    )

    reply = await service.citizen_reply(
        session, person.user, None, sent.id, CitizenReplyForm(body="<p>Det passar bra</p>")
    )

    assert reply.subject == "Sv: Kallelse" and [t.id for t in reply.to] == [box.id]
    [line] = await service.list_folder(session, caseworker, box.id, Folder.INBOX)
    assert line.id == reply.id and line.unread is True
    assert line.from_label == label(person.user)
    opened = await service.read(session, caseworker, reply.id, None)
    assert opened.from_label == label(person.user) and opened.author.role == "citizen"
    assert (await service.overview(session, caseworker))[0].unread == 0


async def test_a_new_citizen_message_goes_to_their_caseworkers(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    first, second = make_staff(), make_staff(name="Kalle Annan")
    person = await world.citizen(make_citizen, caseworker=first)
    await world.assign(person, second)

    to_all = await service.citizen_send(
        session, person.user, None, CitizenMessageForm(subject="Fråga", body="Hej")
    )
    to_one = await service.citizen_send(
        session, person.user, None, CitizenMessageForm(to_caseworker=second.sub, subject="Till Kalle")
    )

    assert sorted(t.label for t in to_all.to) == ["Kalle Annan", "Marita Aronsson"]
    assert [t.label for t in to_one.to] == ["Kalle Annan"]
    assert [c.name for c in (await service.citizen_mailbox(session, person.user, None)).caseworkers] == [
        "Marita Aronsson",
        "Kalle Annan",
    ]
    with pytest.raises(InvalidInput):
        await service.citizen_send(
            session, person.user, None, CitizenMessageForm(to_caseworker="someone-else", subject="x")
        )


def test_an_empty_subject_or_a_sixth_attachment_is_refused_by_the_form() -> None:
    with pytest.raises(ValidationError):
        MessageForm(from_mailbox_id=uuid.uuid4(), to=[uuid.uuid4()], subject="   ")
    with pytest.raises(ValidationError):
        MessageForm(
            from_mailbox_id=uuid.uuid4(),
            to=[uuid.uuid4()],
            subject="x",
            attachment_ids=[uuid.uuid4() for _ in range(6)],
        )
    with pytest.raises(ValidationError):
        MessageForm(from_mailbox_id=uuid.uuid4(), subject="Till ingen")


async def test_a_citizen_without_an_active_e_service_gets_nothing(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, outbox: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker, enabled=False)
    box = await personal(session, caseworker)
    form = MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Hej")

    with pytest.raises(Conflict):
        await service.send(session, caseworker, form)
    with pytest.raises(Conflict):  # nobody casework ever told us about either
        await service.send(session, caseworker, form.model_copy(update={"to_client": uuid.uuid4()}))
    with pytest.raises(NotFound):
        await service.citizen_mailbox(session, person.user, None)
    assert await messages_about(session, str(person.user.pnr)) == 0


async def test_turning_the_message_function_off_takes_effect_at_once(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    box = await personal(session, caseworker)
    await service.send(
        session, caseworker, MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Hej")
    )

    await world.e_service(person, enabled=False)

    with pytest.raises(NotFound):
        await service.citizen_list(session, person.user, None, Folder.INBOX)
    with pytest.raises(Conflict):
        await service.send(
            session,
            caseworker,
            MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Igen"),
        )
    await world.e_service(person, enabled=True)
    assert len(await service.citizen_list(session, person.user, None, Folder.INBOX)) == 1


async def test_only_the_citizens_caseworker_may_write_to_them(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    person = await world.citizen(make_citizen, caseworker=make_staff())
    other = make_staff(name="Kalle Annan")
    box = await personal(session, other)

    with pytest.raises(NotAllowed):
        await service.send(
            session, other, MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Hej")
        )

    assert await refusals(other.sub) == [
        {
            "actor_role": "caseworker",
            "action": "send",
            "object_type": "e_service_mailbox",
            "object_id": str(person.person_id),
            "subject_pnr": str(person.user.pnr),
        }
    ]
    assert await messages_about(session, str(person.user.pnr)) == 0


async def test_a_related_person_writes_for_the_citizen_inside_the_period_as_themselves(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, audit_log: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    related = make_citizen(name="Josefine Test")
    approval = await world.approve(person, related)

    written = await service.citizen_send(
        session, related, approval, CitizenMessageForm(subject="För mamma", body="Hon mår bättre")
    )

    assert written.author.name == "Josefine Test" and written.author.role == "related_person"
    assert written.author.on_behalf_of == person.user.name
    assert written.from_label == f"{label(related)} för {label(person.user)}"
    opened = await service.read(session, caseworker, written.id, None)
    assert opened.from_label == f"{label(related)} för {label(person.user)}"
    assert len(await service.citizen_list(session, related, approval, Folder.SENT)) == 1
    # The citizen sees what was written on their behalf.
    assert [m.id for m in await service.citizen_list(session, person.user, None, Folder.SENT)] == [written.id]
    entries = await audit_log(str(person.user.pnr))
    assert {"actor": related.sub, "actor_role": "related_person", "action": "send"}.items() <= next(
        e for e in entries if e["action"] == "send"
    ).items()


async def test_a_related_person_outside_the_period_or_revoked_is_refused(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    person = await world.citizen(make_citizen, caseworker=make_staff())
    related = make_citizen(name="Josefine Test")
    later = await world.approve(person, related, valid_from=days_from_today(30))
    revoked = await world.approve(person, related)
    await world.revoke(person, related, revoked)
    stranger = make_citizen(name="Okänd Person")
    current = await world.approve(person, related)

    for user, approval, detail in (
        (related, later, "not today"),
        (related, revoked, "revoked"),
        (stranger, current, "not yours"),
    ):
        with pytest.raises(NotAllowed, match=detail):
            await service.citizen_send(session, user, approval, CitizenMessageForm(subject="Hej"))
    with pytest.raises(NotAllowed):
        await service.citizen_list(session, related, later, Folder.INBOX)

    assert len(await refusals(related.sub)) == 3
    assert len(await refusals(stranger.sub)) == 1
    assert await messages_about(session, str(person.user.pnr)) == 0


async def test_citizen_a_cannot_open_citizen_bs_message(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    caseworker = make_staff()
    a = await world.citizen(make_citizen, caseworker=caseworker)
    b = await world.citizen(make_citizen, caseworker=caseworker)
    box = await personal(session, caseworker)
    to_b = await service.send(
        session, caseworker, MessageForm(from_mailbox_id=box.id, to_client=b.person_id, subject="Till B")
    )

    with pytest.raises(NotAllowed):
        await service.citizen_read(session, a.user, None, to_b.id)
    with pytest.raises(NotAllowed):
        await service.citizen_reply(session, a.user, None, to_b.id, CitizenReplyForm(body="x"))

    assert [(r["action"], r["object_id"]) for r in await refusals(a.user.sub)] == [
        ("read", str(to_b.id)),
        ("reply", str(to_b.id)),
    ]


async def test_a_group_mailbox_reaches_every_member_of_its_unit_and_nobody_else(
    session: AsyncSession, make_staff: Any, refusals: Any
) -> None:
    sender = make_staff()
    member = make_staff(name="Vera Vuxen", units=("ifo-vuxen",))
    colleague = make_staff(name="Ville Vuxen", units=("ifo-vuxen", "testenhet"))
    outsider = make_staff(name="Bo Barn", units=("ifo-barn-och-familj",))
    vuxen = await group(session, "ifo-vuxen")

    async def unread(user: User) -> int:  # the group is shared with other tests' commits: count the change
        return {m.name: m.unread for m in await service.overview(session, user)}["IFO vuxen"]

    before = await unread(member)
    sent = await service.send(
        session,
        sender,
        MessageForm(from_mailbox_id=(await personal(session, sender)).id, to=[vuxen.id], subject="Ärende"),
    )

    assert await unread(member) == await unread(colleague) == before + 1
    assert "IFO vuxen" not in {m.name for m in await service.overview(session, outsider)}
    opened = await service.read(session, member, sent.id, vuxen.id)
    assert opened.mailbox_id == vuxen.id
    # Read by one member, read for the group.
    assert await unread(colleague) == before

    with pytest.raises(NotAllowed):
        await service.list_folder(session, outsider, vuxen.id, Folder.INBOX)
    with pytest.raises(NotAllowed):
        await service.read(session, outsider, sent.id, None)
    with pytest.raises(NotAllowed):
        await service.read(session, outsider, sent.id, vuxen.id)
    with pytest.raises(NotAllowed):  # someone's personal mailbox
        await service.list_folder(session, outsider, (await personal(session, member)).id, Folder.INBOX)
    assert [(r["action"], r["object_type"]) for r in await refusals(outsider.sub)] == [
        ("list", "mailbox"),
        ("read", "message"),
        ("read", "mailbox"),
        ("list", "mailbox"),
    ]


async def test_reply_all_and_forward_with_a_receipt_only_for_the_first_opening(
    session: AsyncSession, make_staff: Any
) -> None:
    anna, bo, cecilia = make_staff(name="Anna"), make_staff(name="Bo"), make_staff(name="Cecilia")
    anna_box, bo_box, cecilia_box = [await personal(session, u) for u in (anna, bo, cecilia)]
    sent = await service.send(
        session,
        anna,
        MessageForm(from_mailbox_id=anna_box.id, to=[bo_box.id, cecilia_box.id], subject="Möte", body="Kl 9"),
    )

    everyone = await service.reply(session, bo, sent.id, ReplyForm(body="Jag kommer"), everyone=True)
    only_anna = await service.reply(session, cecilia, sent.id, ReplyForm(body="Jag med"), everyone=False)
    forwarded = await service.forward(session, bo, sent.id, ForwardForm(to=[anna_box.id], body="Se nedan"))

    assert sorted(t.label for t in everyone.to) == ["Anna", "Cecilia"]
    assert [t.label for t in only_anna.to] == ["Anna"]
    assert everyone.subject == "Sv: Möte" and everyone.reply_to_id == sent.id
    assert forwarded.subject == "Vb: Möte" and forwarded.forwarded_from_id == sent.id
    assert "Kl 9" in forwarded.body and "Se nedan" in forwarded.body
    assert len(await service.list_folder(session, anna, anna_box.id, Folder.INBOX)) == 3
    assert len(await service.list_folder(session, bo, bo_box.id, Folder.SENT)) == 2


async def test_drafts_are_kept_then_sent_and_a_delete_removes_only_ones_own_copy(
    session: AsyncSession, make_staff: Any, refusals: Any
) -> None:
    anna, bo = make_staff(name="Anna"), make_staff(name="Bo")
    anna_box, bo_box = await personal(session, anna), await personal(session, bo)
    draft = await service.send(
        session,
        anna,
        MessageForm(from_mailbox_id=anna_box.id, to=[bo_box.id], subject="Utkast", draft=True),
    )
    assert draft.status == "draft" and draft.folder == "drafts"
    assert await service.list_folder(session, bo, bo_box.id, Folder.INBOX) == []
    assert [m.id for m in await service.list_folder(session, anna, anna_box.id, Folder.DRAFTS)] == [draft.id]

    sent = await service.send_draft(session, anna, draft.id)

    assert sent.status == "sent" and sent.folder == "sent"
    assert await service.list_folder(session, anna, anna_box.id, Folder.DRAFTS) == []
    with pytest.raises(Conflict):
        await service.send_draft(session, anna, draft.id)
    await service.delete(session, bo, draft.id, None)
    assert await service.list_folder(session, bo, bo_box.id, Folder.INBOX) == []
    assert len(await service.list_folder(session, anna, anna_box.id, Folder.SENT)) == 1
    with pytest.raises(NotAllowed):  # gone from Bo's mailbox
        await service.read(session, bo, draft.id, None)


async def test_a_recipient_that_is_a_citizens_mailbox_or_unknown_is_refused(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    box = await personal(session, caseworker)
    citizen_box = (await service.citizen_mailbox(session, person.user, None)).id

    for recipient in (citizen_box, uuid.uuid4()):
        with pytest.raises(InvalidInput):
            await service.send(
                session, caseworker, MessageForm(from_mailbox_id=box.id, to=[recipient], subject="Hej")
            )
    with pytest.raises(NotAllowed):  # nor may staff send from a citizen's mailbox
        await service.send(
            session, caseworker, MessageForm(from_mailbox_id=citizen_box, to=[box.id], subject="Hej")
        )
    assert await messages_about(session, str(person.user.pnr)) == 0
