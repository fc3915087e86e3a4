"""Editing a draft and printing a message (MS-5), at the service layer against
messaging's real PostgreSQL: only the author's own draft is edited (sanitised as
on send, under the right to send, attachments replaced), a sent message is not
(409); the printable PDF shows Från, Till, Till klient, Ämne, Datum, the text as
plain paragraphs and the attachment names, to whoever may read the message,
audited."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.attachments import service as attachments
from messaging.config import TIME_ZONE
from messaging.mailboxes import service as mailboxes
from messaging.messages import service
from messaging.messages.document import plain_text
from messaging.messages.schemas import DraftForm, MessageForm
from messaging.models import Folder, Mailbox, MailboxKind, MessageRecipient
from shared.auth import User
from shared.pdf import render_pdf
from shared.problems import Conflict, InvalidInput, NotAllowed

PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def label(user: User) -> str:
    assert user.pnr is not None
    return f"{user.name} ({user.pnr[:8]}-{user.pnr[8:]})"


async def personal(session: AsyncSession, user: User) -> Mailbox:
    return (await mailboxes.usable(session, user))[0]


async def group(session: AsyncSession, unit: str) -> Mailbox:
    box = await session.scalar(select(Mailbox).where(Mailbox.kind == MailboxKind.GROUP, Mailbox.unit == unit))
    assert box is not None
    return box


async def upload(session: AsyncSession, user: User, name: str) -> uuid.UUID:
    async def body() -> AsyncIterator[bytes]:
        yield PDF_BYTES + uuid.uuid4().bytes

    return (await attachments.upload(session, user, name, "application/pdf", body())).id


def text_of(document: Any) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(document))).pages)


async def draft_of(session: AsyncSession, author: User, **fields: Any) -> Any:
    box = await personal(session, author)
    return await service.send(
        session, author, MessageForm(from_mailbox_id=box.id, subject="Utkast", draft=True, **fields)
    )


async def test_the_author_edits_their_draft_then_sends_it(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, audit_log: Any
) -> None:
    author, colleague = make_staff(), make_staff(name="Kalle Kollega")
    person = await world.citizen(make_citizen, caseworker=author)
    vuxen = await group(session, "ifo-vuxen")
    kept, dropped, new_id = [await upload(session, author, n) for n in ("a.pdf", "b.pdf", "c.pdf")]
    draft = await draft_of(session, author, to=[vuxen.id], attachment_ids=[kept, dropped])

    edited = await service.edit_draft(
        session,
        author,
        draft.id,
        DraftForm(
            to=[(await personal(session, colleague)).id],
            to_client=person.person_id,
            subject="Kallelse",
            body="<p>Välkommen<script>alert(1)</script></p>",
            read_receipt=True,
            attachment_ids=[kept, new_id],
        ),
    )

    assert (edited.status, edited.folder, edited.subject) == ("draft", "drafts", "Kallelse")
    assert edited.body == "<p>Välkommen</p>"  # sanitised as on send
    assert edited.read_receipt is True
    assert [t.label for t in edited.to] == ["Kalle Kollega"]
    assert edited.client is not None and edited.client.label == label(person.user)
    assert [a.filename for a in edited.attachments] == ["a.pdf", "c.pdf"]
    rows = list(
        await session.scalars(select(MessageRecipient).where(MessageRecipient.message_id == draft.id))
    )
    assert sorted(r.role for r in rows) == ["client", "to"]
    assert [(e["action"], e["outcome"]) for e in await audit_log(person.user.pnr)][-1] == (
        "update",
        "allowed",
    )

    sent = await service.send_draft(session, author, draft.id)

    assert sent.status == "sent" and sent.client is not None
    inbox = await service.citizen_list(session, person.user, None, Folder.INBOX)
    assert [m.subject for m in inbox] == ["Kallelse"]
    with pytest.raises(Conflict):  # a sent message cannot be edited
        await service.edit_draft(session, author, draft.id, DraftForm(to=[vuxen.id], subject="Ändrad"))


async def test_only_the_author_edits_a_draft(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    vuxen = await group(session, "ifo-vuxen")
    author = make_staff(units=("ifo-vuxen",))
    member = make_staff(name="Gruppens Medlem", units=("ifo-vuxen",))
    outsider = make_staff(name="Utanför")
    draft = await service.send(
        session,
        author,
        MessageForm(from_mailbox_id=vuxen.id, to=[vuxen.id], subject="Gruppens utkast", draft=True),
    )
    form = DraftForm(to=[vuxen.id], subject="Kapat")

    with pytest.raises(NotAllowed):  # holds it (the group's Utkast) but did not write it
        await service.edit_draft(session, member, draft.id, form)
    with pytest.raises(NotAllowed):  # holds it nowhere
        await service.edit_draft(session, outsider, draft.id, form)

    assert [r["action"] for r in await refusals(member.sub)] == ["update"]
    assert [r["action"] for r in await refusals(outsider.sub)] == ["update"]
    assert (await service.read(session, author, draft.id, None)).subject == "Gruppens utkast"


async def test_an_edit_obeys_the_rules_of_sending_and_changes_nothing_when_refused(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    author, other = make_staff(), make_staff(name="Annan")
    theirs = await world.citizen(make_citizen, caseworker=other)
    vuxen = await group(session, "ifo-vuxen")
    draft = await draft_of(session, author, to=[vuxen.id])
    someone_elses = await upload(session, other, "x.pdf")

    with pytest.raises(NotAllowed):  # not the client's caseworker (MS-3)
        await service.edit_draft(
            session, author, draft.id, DraftForm(to_client=theirs.person_id, subject="Till fel klient")
        )
    with pytest.raises(NotAllowed):  # another's upload
        await service.edit_draft(
            session, author, draft.id, DraftForm(to=[vuxen.id], subject="x", attachment_ids=[someone_elses])
        )
    citizen_box = await session.scalar(select(Mailbox).where(Mailbox.person_id == theirs.person_id))
    assert citizen_box is not None
    with pytest.raises(InvalidInput):  # a citizen is Till klient, never Till
        await service.edit_draft(session, author, draft.id, DraftForm(to=[citizen_box.id], subject="x"))


async def test_the_printable_pdf_has_the_header_the_text_and_the_attachment_names(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, audit_log: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    box = await personal(session, caseworker)
    vuxen = await group(session, "ifo-vuxen")
    sent = await service.send(
        session,
        caseworker,
        MessageForm(
            from_mailbox_id=box.id,
            to=[vuxen.id],
            to_client=person.person_id,
            subject="Påminnelse om möte",
            body="<p>Hej &amp; välkommen!</p><p>Torsdag <b>kl 14.00</b><br>Rum 3 &lt;plan 2&gt;</p>",
            attachment_ids=[await upload(session, caseworker, "kallelse.pdf")],
        ),
    )

    document = await service.document(session, caseworker, sent.id, None)
    sections = {s.label: s.texts for s in document.sections}

    assert sections["Från"] == ("Marita Aronsson",)
    assert sections["Till"] == ("IFO vuxen",)
    assert sections["Till klient"] == (label(person.user),)
    assert sections["Ämne"] == ("Påminnelse om möte",)
    assert sections["Meddelandetext"] == ("Hej & välkommen!\nTorsdag kl 14.00\nRum 3 <plan 2>",)
    assert sections["Bilagor"] == ("kallelse.pdf",)
    assert sent.sent_at is not None
    assert sections["Datum"] == (f"{sent.sent_at.astimezone(TIME_ZONE):%Y-%m-%d %H:%M}",)
    text = text_of(document)
    for shown in ("Till klient", label(person.user), "Rum 3 <plan 2>", "kallelse.pdf", "Påminnelse om möte"):
        assert shown in text
    # The citizen prints it too; neither print marks it read.
    citizens = await service.citizen_document(session, person.user, None, sent.id)
    assert {s.label: s.texts for s in citizens.sections}["Till klient"] == (label(person.user),)
    assert (await service.citizen_mailbox(session, person.user, None)).unread == 1
    prints = [
        (e["actor_role"], e["action"]) for e in await audit_log(person.user.pnr) if e["action"] == "print"
    ]
    assert prints == [("caseworker", "print"), ("citizen", "print")]


async def test_only_those_who_may_read_a_message_print_it(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    caseworker, outsider = make_staff(), make_staff(name="Utanför")
    person = await world.citizen(make_citizen, caseworker=caseworker)
    stranger = await world.citizen(make_citizen)
    box = await personal(session, caseworker)
    sent = await service.send(
        session, caseworker, MessageForm(from_mailbox_id=box.id, to_client=person.person_id, subject="Privat")
    )

    with pytest.raises(NotAllowed):
        await service.document(session, outsider, sent.id, None)
    with pytest.raises(NotAllowed):
        await service.citizen_document(session, stranger.user, None, sent.id)

    [refused] = await refusals(outsider.sub)
    assert (refused["action"], refused["subject_pnr"]) == ("print", person.user.pnr)
    assert [r["action"] for r in await refusals(stranger.user.sub)] == ["print"]


def test_rich_text_becomes_plain_paragraphs() -> None:
    assert plain_text("<p>Ett</p><p>Två<br/>Tre</p>") == "Ett\nTvå\nTre"
    assert (
        plain_text("<ul><li>a</li><li>b</li></ul><hr><blockquote><p>citat</p></blockquote>")
        == "a\nb\n\ncitat"
    )
    assert plain_text("&lt;script&gt;alert(1)&lt;/script&gt; &amp; mer") == "<script>alert(1)</script> & mer"
    assert plain_text("<p>   många    mellanslag&nbsp;här </p>") == "många mellanslag här"
    assert plain_text("") == ""
