"""Mailboxes at the service layer: the seeded group mailboxes, personal mailboxes
created on first use, the e-service projection (ordered by version, effective at
once) and the recipient search (MS-2: only persons with the message function on,
always with the personnummer after the name)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.mailboxes import service
from messaging.mailboxes.schemas import RecipientSearch
from messaging.models import Mailbox, MailboxKind

GROUPS = {
    "IFO Barn och familj",
    "IFO vuxen",
    "IFO Ekonomiskt bistånd",
    "IFO Familjeteamet",
    "IFO Social stödteamet",
    "VO Biståndshandläggare",
    "LSS handläggare",
    "Bosam SÄF",
}


async def test_the_units_group_mailboxes_are_seeded(session: AsyncSession) -> None:
    groups = await session.scalars(select(Mailbox).where(Mailbox.kind == MailboxKind.GROUP))
    assert {g.name for g in groups} == GROUPS


async def test_a_personal_mailbox_is_created_on_first_use_and_follows_the_name(
    session: AsyncSession, make_staff: Any
) -> None:
    user = make_staff(units=("testenhet", "lss-handlaggare", "bosam-saf"))

    first = [(m.id, m.kind, m.name) for m in await service.usable(session, user)]
    again = [m.id for m in await service.usable(session, user)]
    renamed = await service.usable(session, replace(user, name="Marita Nytt"))

    assert [name for _, _, name in first] == ["Marita Aronsson", "Bosam SÄF", "LSS handläggare"]
    assert first[0][1] == MailboxKind.PERSONAL
    assert again == [i for i, _, _ in first]
    assert renamed[0].id == first[0][0] and renamed[0].name == "Marita Nytt"


async def test_an_older_e_service_fact_never_overrides_a_newer_one(
    session: AsyncSession, make_citizen: Any, world: Any
) -> None:
    person = await world.citizen(make_citizen)  # version 1, on
    await world.e_service(person, enabled=False)  # version 2, off
    person.version = 0
    await world.e_service(person, enabled=True)  # version 1 again, replayed late

    assert (await service.e_service_person(session, person.person_id)).messages_enabled is False  # type: ignore[union-attr]


async def test_the_recipient_search_lists_only_persons_with_the_message_function_on(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any, audit_log: Any
) -> None:
    caseworker = make_staff()
    on = await world.citizen(lambda: make_citizen(name="Zäta Sökbar"))
    off = await world.citizen(lambda: make_citizen(name="Zäta Avstängd"), enabled=False)

    by_name = await service.search_recipients(
        session, caseworker, RecipientSearch(query="zäta", kind="citizen")
    )
    by_pnr = await service.search_recipients(session, caseworker, RecipientSearch(query=str(on.user.pnr)))
    not_on = await service.search_recipients(session, caseworker, RecipientSearch(query=str(off.user.pnr)))

    pnr = str(on.user.pnr)
    assert [(r.kind, r.id, r.label) for r in by_name] == [
        ("citizen", on.person_id, f"Zäta Sökbar ({pnr[:8]}-{pnr[8:]})")
    ]
    assert [r.id for r in by_pnr] == [on.person_id]
    assert not_on == []
    assert [e["action"] for e in await audit_log(pnr)][-2:] == ["search", "search"]


async def test_staff_and_group_mailboxes_are_found_by_name(session: AsyncSession, make_staff: Any) -> None:
    colleague = make_staff(name="Quintus Kollega")
    await service.usable(session, colleague)  # seen once: in the directory
    me = make_staff()

    staff = await service.search_recipients(session, me, RecipientSearch(query="quintus"))
    groups = await service.search_recipients(session, me, RecipientSearch(query="bosam", kind="group"))

    assert [(r.kind, r.label) for r in staff] == [("staff", "Quintus Kollega")]
    assert [(r.kind, r.label, r.unit) for r in groups] == [("group", "Bosam SÄF", "bosam-saf")]
