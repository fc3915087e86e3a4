"""Settings and absence at the service layer, against messaging's real PostgreSQL
(MS-7, MS-8): one's settings round trip; forwarding only to one's own group
mailboxes; unplanned absence set by an administrator with the permission only;
the automatic reply once per conversation and sender; delivery also to the group
mailbox while away, and not outside the period. Every refusal is audited and
writes nothing."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.config import TIME_ZONE
from messaging.mailboxes import service as mailboxes
from messaging.messages import service as messages
from messaging.messages.schemas import CitizenMessageForm, CitizenReplyForm, MessageForm, ReplyForm
from messaging.models import Folder, Mailbox, MailboxKind
from messaging.settings import service
from messaging.settings.models import StaffSettings
from messaging.settings.schemas import AbsenceForm, SettingsForm
from shared import audit
from shared.auth import User
from shared.problems import Conflict, NotAllowed, NotFound

UNIT = "ifo-vuxen"
OTHER_UNIT = "lss-handlaggare"


def days_from_today(days: int) -> date:
    return datetime.now(TIME_ZONE).date() + timedelta(days=days)


async def personal(session: AsyncSession, user: User) -> Mailbox:
    return (await mailboxes.usable(session, user))[0]


async def group(session: AsyncSession, unit: str) -> Mailbox:
    box = await session.scalar(select(Mailbox).where(Mailbox.kind == MailboxKind.GROUP, Mailbox.unit == unit))
    assert box is not None
    return box


async def in_group(session: AsyncSession, member: User, box: Mailbox) -> set[uuid.UUID]:
    return {m.id for m in await messages.list_folder(session, member, box.id, Folder.INBOX)}


async def entries_of(session: AsyncSession, actor: str) -> list[dict[str, Any]]:
    """The audit entries one actor caused, the collected refusals included, oldest first."""
    await audit.write_refusals(session)
    audit.collect_refusals(session)
    rows = await session.execute(
        text("""
        SELECT actor_role, action, object_type, object_id, outcome, reason FROM audit_log
        WHERE actor = :actor ORDER BY id"""),
        {"actor": actor},
    )
    return [dict(r._mapping) for r in rows]


async def away_with_forwarding(
    session: AsyncSession, user: User, start: int = 0, end: int = 5, message: str = "Jag är ledig."
) -> Mailbox:
    """The user's planned absence with forwarding to their unit's group mailbox; that mailbox."""
    box = await group(session, UNIT)
    await service.update_mine(
        session,
        user,
        SettingsForm(
            absence=AbsenceForm(
                enabled=True,
                message=message,
                valid_from=days_from_today(start),
                valid_to=days_from_today(end),
                forward_to_mailbox_id=box.id,
            )
        ),
    )
    return box


async def test_settings_round_trip_with_the_group_mailboxes_one_has_access_to(
    session: AsyncSession, make_staff: Any
) -> None:
    user = make_staff(units=(UNIT, "testenhet"))
    box = await group(session, UNIT)

    empty = await service.mine(session, user)
    assert empty.signature == "" and empty.absence.enabled is False
    assert [(g.name, g.unit) for g in empty.group_mailboxes] == [("IFO vuxen", UNIT)]

    saved = await service.update_mine(
        session,
        user,
        SettingsForm(
            signature="Marita Aronsson, verksamhetsutvecklare",
            absence=AbsenceForm(
                enabled=True,
                message="Jag är på semester till och med fredag.",
                valid_from=days_from_today(-1),
                valid_to=days_from_today(4),
                forward_to_mailbox_id=box.id,
            ),
        ),
    )

    again = await service.mine(session, user)
    assert again == saved
    assert again.signature == "Marita Aronsson, verksamhetsutvecklare"
    assert again.absence.message == "Jag är på semester till och med fredag."
    assert (again.absence.valid_from, again.absence.valid_to) == (days_from_today(-1), days_from_today(4))
    assert again.absence.forward_to is not None and again.absence.forward_to.id == box.id
    assert again.absence.active_today is True and again.absence.set_by == user.sub
    assert [(e["action"], e["outcome"]) for e in await entries_of(session, user.sub)] == [
        ("read", "allowed"),
        ("update", "allowed"),
        ("read", "allowed"),  # the answer of the update
        ("read", "allowed"),
    ]


def test_an_absence_ending_before_it_starts_or_saying_nothing_is_bad_input() -> None:
    with pytest.raises(ValidationError):
        AbsenceForm(enabled=True, message="Borta", valid_from=days_from_today(3), valid_to=days_from_today(1))
    with pytest.raises(ValidationError):
        AbsenceForm(enabled=True)  # neither a message nor forwarding
    with pytest.raises(ValidationError):
        SettingsForm(signature="x" * 501)
    with pytest.raises(ValidationError):
        SettingsForm.model_validate({"signature": "x", "colour": "red"})


async def test_forwarding_to_a_group_mailbox_one_is_no_member_of_is_refused_and_nothing_written(
    session: AsyncSession, make_staff: Any
) -> None:
    user = make_staff(units=(UNIT,))
    other = await group(session, OTHER_UNIT)
    form = SettingsForm(
        signature="Hälsningar", absence=AbsenceForm(enabled=True, forward_to_mailbox_id=other.id)
    )

    with pytest.raises(NotAllowed):
        await service.update_mine(session, user, form)

    assert await session.get(StaffSettings, user.sub) is None
    [refused] = [e for e in await entries_of(session, user.sub) if e["outcome"] == "refused"]
    assert (refused["action"], refused["object_type"], refused["object_id"]) == (
        "update",
        "staff_settings",
        user.sub,
    )
    # A mailbox that is no group mailbox at all conflicts with what is stored.
    mine = await personal(session, user)
    with pytest.raises(Conflict):
        await service.update_mine(
            session, user, SettingsForm(absence=AbsenceForm(enabled=True, forward_to_mailbox_id=mine.id))
        )
    assert await session.get(StaffSettings, user.sub) is None


async def test_an_administrator_without_the_permission_is_refused_and_it_is_audited(
    session: AsyncSession, make_staff: Any
) -> None:
    colleague = make_staff(name="Sjuk Kollega", units=(UNIT,))
    await mailboxes.usable(session, colleague)  # known to messaging
    caseworker = make_staff(name="Vanlig Handläggare", units=(UNIT,))
    box = await group(session, UNIT)
    form = AbsenceForm(enabled=True, message="Frånvarande", forward_to_mailbox_id=box.id)

    with pytest.raises(NotAllowed):
        await service.set_colleague_absence(session, caseworker, colleague.sub, form)
    with pytest.raises(NotAllowed):
        await service.colleague_absence(session, caseworker, colleague.sub)

    assert await session.get(StaffSettings, colleague.sub) is None
    refused = [e for e in await entries_of(session, caseworker.sub) if e["outcome"] == "refused"]
    assert [(e["action"], e["object_type"], e["object_id"]) for e in refused] == [
        ("update", "staff_absence", colleague.sub),
        ("read", "staff_absence", colleague.sub),
    ]


async def test_an_administrator_with_the_permission_sets_a_colleagues_unplanned_absence(
    session: AsyncSession, make_staff: Any
) -> None:
    colleague = make_staff(name="Sjuk Kollega", units=(UNIT,))
    await mailboxes.usable(session, colleague)
    admin = make_staff(name="Admin Adminsson", units=("kansliet",), roles=("messaging_admin",))
    box = await group(session, UNIT)

    # Only to one of the colleague's own group mailboxes.
    with pytest.raises(NotAllowed):
        await service.set_colleague_absence(
            session,
            admin,
            colleague.sub,
            AbsenceForm(enabled=True, forward_to_mailbox_id=(await group(session, OTHER_UNIT)).id),
        )
    with pytest.raises(NotFound):
        await service.set_colleague_absence(
            session, admin, "nobody-known", AbsenceForm(enabled=True, message="Sjuk")
        )

    absence = await service.set_colleague_absence(
        session,
        admin,
        colleague.sub,
        AbsenceForm(enabled=True, message="Handläggaren är sjuk.", forward_to_mailbox_id=box.id),
    )

    assert absence.active_today is True and absence.forward_to is not None and absence.forward_to.id == box.id
    assert (absence.set_by, absence.set_by_name) == (admin.sub, "Admin Adminsson")
    assert (await service.mine(session, colleague)).absence == absence  # the colleague sees it too
    allowed = [e for e in await entries_of(session, admin.sub) if e["outcome"] == "allowed"]
    [done] = [e for e in allowed if e["action"] == "update"]
    assert (done["actor_role"], done["object_type"], done["object_id"]) == (
        "messaging_admin",
        "staff_absence",
        colleague.sub,
    )
    assert done["reason"] == f"absence set for {colleague.sub} by {admin.sub}"
    # A system administrator (`admin`) holds the permission too.
    superuser = make_staff(name="System Förvaltare", units=(), roles=("admin",))
    assert (await service.colleague_absence(session, superuser, colleague.sub)).enabled is True


async def test_the_sender_gets_the_automatic_reply_once_per_conversation(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff(units=(UNIT,))
    person = await world.citizen(make_citizen, caseworker=caseworker)
    await away_with_forwarding(session, caseworker, message="Jag är ledig till och med fredag.")
    mine = await personal(session, caseworker)

    first = await messages.citizen_send(session, person.user, None, CitizenMessageForm(subject="Fråga"))

    [auto] = await messages.citizen_list(session, person.user, None, Folder.INBOX)
    assert auto.subject == "Autosvar: Fråga" and auto.from_label == "Marita Aronsson"
    opened = await messages.citizen_read(session, person.user, None, auto.id)
    assert opened.author.role == "system" and opened.reply_to_id == first.id
    assert opened.body == "<p>Jag är ledig till och med fredag.</p>"
    assert opened.from_mailbox.id == mine.id
    [kept] = await messages.list_folder(session, caseworker, mine.id, Folder.SENT)
    assert kept.id == auto.id  # the absent user sees what was answered for them

    # The same conversation (a reply to the automatic reply, and a reply to that): no second one.
    await messages.citizen_reply(session, person.user, None, auto.id, CitizenReplyForm(body="Tack"))
    await messages.citizen_reply(session, person.user, None, first.id, CitizenReplyForm(body="En sak till"))
    assert len(await messages.citizen_list(session, person.user, None, Folder.INBOX)) == 1

    # A new conversation gets it again; so does a staff sender, once.
    await messages.citizen_send(session, person.user, None, CitizenMessageForm(subject="Ny fråga"))
    assert {m.subject for m in await messages.citizen_list(session, person.user, None, Folder.INBOX)} == {
        "Autosvar: Fråga",
        "Autosvar: Ny fråga",
    }
    colleague = make_staff(name="Kalle Kollega", units=(UNIT,))
    theirs = await personal(session, colleague)
    internal = await messages.send(
        session, colleague, MessageForm(from_mailbox_id=theirs.id, to=[mine.id], subject="Internt")
    )
    await messages.reply(
        session,
        colleague,
        internal.id,
        ReplyForm(from_mailbox_id=theirs.id, body="Glömde en sak"),
        everyone=False,
    )
    [staff_auto] = await messages.list_folder(session, colleague, theirs.id, Folder.INBOX)
    assert staff_auto.subject == "Autosvar: Internt"


async def test_while_away_messages_also_land_in_the_group_mailbox_and_not_outside_the_period(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff(name="Borta Handläggare", units=(UNIT,))
    colleague = make_staff(name="Kalle Kollega", units=(UNIT,))
    person = await world.citizen(make_citizen, caseworker=caseworker)
    box = await away_with_forwarding(session, caseworker)

    during = await messages.citizen_send(session, person.user, None, CitizenMessageForm(subject="Under"))

    [line] = [
        m for m in await messages.list_folder(session, colleague, box.id, Folder.INBOX) if m.id == during.id
    ]
    assert line.unread is True
    # The group mailbox's line says whom it was forwarded for; the message's view too.
    assert line.forwarded_for == "Borta Handläggare"
    [why] = [f for f in await service.forwarded_in(session, colleague, box.id) if f.message_id == during.id]
    assert why.forwarded_for == "Borta Handläggare"
    assert await service.forwarded_for(session, box.id, [during.id]) == {during.id: "Borta Handläggare"}
    # Still in the absent user's own inbox too.
    mine = await personal(session, caseworker)
    assert [m.id for m in await messages.list_folder(session, caseworker, mine.id, Folder.INBOX)] == [
        during.id
    ]
    # Only members of the group mailbox see what was forwarded.
    outsider = make_staff(units=(OTHER_UNIT,))
    with pytest.raises(NotAllowed):
        await service.forwarded_in(session, outsider, box.id)

    # The absence is planned to start tomorrow: nothing forwarded, no automatic reply today.
    await away_with_forwarding(session, caseworker, start=1, end=3)
    assert (await service.mine(session, caseworker)).absence.active_today is False
    before = await messages.citizen_send(session, person.user, None, CitizenMessageForm(subject="Före"))
    assert before.id not in await in_group(session, colleague, box)
    assert {m.subject for m in await messages.citizen_list(session, person.user, None, Folder.INBOX)} == {
        "Autosvar: Under"
    }

    # Turned off: nothing either.
    await service.update_mine(session, caseworker, SettingsForm())
    after = await messages.citizen_send(session, person.user, None, CitizenMessageForm(subject="Efter"))
    assert after.id not in await in_group(session, colleague, box)
    assert during.id in await in_group(session, colleague, box)


async def test_a_message_to_an_absent_user_sent_from_the_group_itself_is_not_doubled(
    session: AsyncSession, make_staff: Any
) -> None:
    caseworker = make_staff(units=(UNIT,))
    colleague = make_staff(name="Kalle Kollega", units=(UNIT,))
    box = await away_with_forwarding(session, caseworker)
    mine = await personal(session, caseworker)

    sent = await messages.send(
        session, colleague, MessageForm(from_mailbox_id=box.id, to=[mine.id, box.id], subject="Till båda")
    )

    inbox = await messages.list_folder(session, colleague, box.id, Folder.INBOX)
    assert [m.id for m in inbox if m.id == sent.id] == [sent.id]  # one copy, not two
    assert uuid.UUID(str(sent.id)) in await service.forwarded_for(session, box.id, [sent.id])
