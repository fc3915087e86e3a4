"""Contact lists at the service layer, against messaging's real PostgreSQL: a staff
member's own named lists of colleagues, group mailboxes and clients they may write
to (MS-5); entries checked, another's list refused and audited, clients audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.contacts import service
from messaging.contacts.models import ContactList, ContactListEntry
from messaging.contacts.schemas import ContactEntryIn, ContactListForm
from messaging.mailboxes import service as mailboxes
from messaging.models import Mailbox, MailboxKind
from shared.auth import User
from shared.problems import Conflict, NotAllowed, NotFound


def label(user: User) -> str:
    assert user.pnr is not None
    return f"{user.name} ({user.pnr[:8]}-{user.pnr[8:]})"


async def personal(session: AsyncSession, user: User) -> Mailbox:
    return (await mailboxes.usable(session, user))[0]


async def group(session: AsyncSession, unit: str) -> Mailbox:
    box = await session.scalar(select(Mailbox).where(Mailbox.kind == MailboxKind.GROUP, Mailbox.unit == unit))
    assert box is not None
    return box


def form(name: str, *entries: tuple[str, uuid.UUID]) -> ContactListForm:
    return ContactListForm(name=name, entries=[ContactEntryIn(kind=k, id=i) for k, i in entries])  # type: ignore[arg-type]


async def lists_of(session: AsyncSession, owner: User) -> int:
    query = select(func.count()).select_from(ContactList).where(ContactList.owner_sub == owner.sub)
    return int(await session.scalar(query) or 0)


async def test_a_caseworker_keeps_a_list_of_colleagues_groups_and_their_clients(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, audit_log: Any
) -> None:
    caseworker, colleague = make_staff(), make_staff(name="Kalle Kollega")
    person = await world.citizen(make_citizen, caseworker=caseworker)
    colleague_box = await personal(session, colleague)
    vuxen = await group(session, "ifo-vuxen")

    created = await service.create(
        session,
        caseworker,
        form(
            "  Mötet på torsdag ",
            ("staff", colleague_box.id),
            ("group", vuxen.id),
            ("citizen", person.person_id),
            ("staff", colleague_box.id),  # twice: kept once
        ),
    )

    assert created.name == "Mötet på torsdag"
    assert [(e.kind, e.id, e.label, e.available) for e in created.entries] == [
        ("staff", colleague_box.id, "Kalle Kollega", True),
        ("group", vuxen.id, "IFO vuxen", True),
        ("citizen", person.person_id, label(person.user), True),
    ]
    assert created.entries[1].unit == "ifo-vuxen"
    [shown] = await service.list_mine(session, caseworker)
    assert shown == created
    assert await service.list_mine(session, colleague) == []
    actions = [(e["actor"], e["action"], e["object_type"]) for e in await audit_log(person.user.pnr)]
    assert (caseworker.sub, "create", "contact_list") in actions
    assert (caseworker.sub, "read", "contact_list") in actions


async def test_a_list_is_renamed_refilled_and_deleted(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, audit_log: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    vuxen, lss = await group(session, "ifo-vuxen"), await group(session, "lss-handlaggare")
    created = await service.create(
        session, caseworker, form("Grupper", ("group", vuxen.id), ("citizen", person.person_id))
    )

    changed = await service.update(session, caseworker, created.id, form("LSS", ("group", lss.id)))

    assert changed.name == "LSS" and [e.id for e in changed.entries] == [lss.id]
    assert changed.updated_at >= created.updated_at
    assert [e.id for e in (await service.get(session, caseworker, created.id)).entries] == [lss.id]
    # The client who left the list is in the audit log of the change.
    assert (caseworker.sub, "update") in [(e["actor"], e["action"]) for e in await audit_log(person.user.pnr)]

    await service.delete(session, caseworker, created.id)

    assert await lists_of(session, caseworker) == 0
    left = await session.scalar(
        select(func.count()).select_from(ContactListEntry).where(ContactListEntry.list_id == created.id)
    )
    assert left == 0
    with pytest.raises(NotFound):
        await service.get(session, caseworker, created.id)


async def test_a_client_one_may_not_write_to_is_refused_and_audited(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    caseworker, other = make_staff(), make_staff(name="Annan Handläggare")
    theirs = await world.citizen(make_citizen, caseworker=other)
    off = await world.citizen(make_citizen, caseworker=caseworker, enabled=False)

    with pytest.raises(NotAllowed):
        await service.create(session, caseworker, form("Fel", ("citizen", theirs.person_id)))
    # 409: the request is well formed; the client's e-service state refuses it.
    with pytest.raises(Conflict):  # the message function is off
        await service.create(session, caseworker, form("Av", ("citizen", off.person_id)))
    with pytest.raises(Conflict):  # nobody casework told us about
        await service.create(session, caseworker, form("Okänd", ("citizen", uuid.uuid4())))

    assert await lists_of(session, caseworker) == 0
    [refused] = await refusals(caseworker.sub)
    assert (refused["action"], refused["subject_pnr"]) == ("create", theirs.user.pnr)


async def test_a_mailbox_entry_must_be_of_its_kind(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    vuxen = await group(session, "ifo-vuxen")
    citizen_box = await session.scalar(select(Mailbox).where(Mailbox.person_id == person.person_id))
    assert citizen_box is not None

    for kind, target in (("staff", vuxen.id), ("group", citizen_box.id), ("staff", uuid.uuid4())):
        with pytest.raises(Conflict):
            await service.create(session, caseworker, form("Lista", (kind, target)))
    assert await lists_of(session, caseworker) == 0


async def test_someone_elses_list_is_refused_and_audited_per_client(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, refusals: Any
) -> None:
    owner, intruder = make_staff(), make_staff(name="Nyfiken Kollega")
    person = await world.citizen(make_citizen, caseworker=owner)
    created = await service.create(session, owner, form("Mina", ("citizen", person.person_id)))
    vuxen = await group(session, "ifo-vuxen")

    with pytest.raises(NotAllowed):
        await service.get(session, intruder, created.id)
    with pytest.raises(NotAllowed):
        await service.update(session, intruder, created.id, form("Stulen", ("group", vuxen.id)))
    with pytest.raises(NotAllowed):
        await service.delete(session, intruder, created.id)

    assert [(r["action"], r["object_type"], r["subject_pnr"]) for r in await refusals(intruder.sub)] == [
        ("read", "contact_list", person.user.pnr),
        ("update", "contact_list", person.user.pnr),
        ("delete", "contact_list", person.user.pnr),
    ]
    assert (await service.get(session, owner, created.id)).name == "Mina"


async def test_a_client_one_no_longer_may_write_to_stays_but_is_withheld(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    caseworker = make_staff()
    person = await world.citizen(make_citizen, caseworker=caseworker)
    created = await service.create(session, caseworker, form("Klienter", ("citizen", person.person_id)))

    await world.e_service(person, enabled=False)

    [entry] = (await service.get(session, caseworker, created.id)).entries
    assert (entry.available, entry.label) == (False, service.WITHHELD)
    assert str(person.user.pnr)[:8] not in entry.label
    await world.e_service(person, enabled=True)
    [entry] = (await service.get(session, caseworker, created.id)).entries
    assert entry.available and entry.label == label(person.user)


async def test_list_names_are_unique_per_owner_and_bounded(session: AsyncSession, make_staff: Any) -> None:
    caseworker, colleague = make_staff(), make_staff()
    vuxen = await group(session, "ifo-vuxen")
    await service.create(session, caseworker, form("Grupp", ("group", vuxen.id)))
    other = await service.create(session, caseworker, form("Annan", ("group", vuxen.id)))

    with pytest.raises(Conflict):
        await service.create(session, caseworker, form("Grupp"))
    with pytest.raises(Conflict):
        await service.update(session, caseworker, other.id, form("Grupp"))
    assert (await service.create(session, colleague, form("Grupp"))).name == "Grupp"  # another owner's
    with pytest.raises(ValidationError):
        form("   ")
    with pytest.raises(ValidationError):
        ContactListForm(name="Stor", entries=[ContactEntryIn(kind="group", id=uuid.uuid4())] * 101)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ContactListForm.model_validate(
            {"name": "X", "entries": [{"kind": "provider", "id": str(uuid.uuid4())}]}
        )
