"""Absences (frånvaro, PR-6, PR-7; journey 10).

A unit registers a client's absence under an executing order (confirmed, not
ended): planned or not, a reason from the list, a short description, from a
date, to a date if known. Registering it after it began is accepted and marked
late. Ending it is setting its to date (again, to correct it). An absence may not
end before it begins, nor begin before the execution, nor share a day with
another of the same client's absences at the provider (409); the check runs
under a per-client lock, so two overlapping ones cannot both pass.

Each change counts up the absence's version under its row lock and tells
casework (AbsenceRegistered / AbsenceEnded, keyed by the order), whose fee
administrator is signalled; the description stays here. The home box lists the
unit's current absences (not ended before today). Access goes through the
order (provider.orders.service.accessible): active provider user, the order's
provider and unit; refusals are 403 and audited, as is every read and write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from provider.absences import repository
from provider.absences.models import Absence
from provider.absences.schemas import PAGE_MAX, AbsenceEndForm, AbsenceForm, AbsenceList, AbsenceOut
from provider.config import SOURCE
from provider.orders import service as orders
from provider.orders.models import Order, OrderStatus
from provider.users import service as users
from shared import audit
from shared.auth import User
from shared.contracts.provider import AbsenceEnded, AbsenceReason, AbsenceRegistered
from shared.outbox import add_event
from shared.problems import Conflict, InvalidInput, NotFound


def _entry(user: User, action: str, absence_id: object, order: Order) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=users.actor_role(user),
        action=action,
        object_type="absence",
        object_id=str(absence_id),
        subject_pnr=order.client_pnr,
    )


def absence_out(absence: Absence, order: Order) -> AbsenceOut:
    """The absence with whose it is."""
    return AbsenceOut(
        id=absence.id,
        order_id=absence.order_id,
        unit=absence.unit,
        client_name=order.client_name,
        personnummer=order.client_pnr,
        kundnummer=absence.kundnummer,
        reason=cast(AbsenceReason, absence.reason),  # stored from AbsenceForm.reason
        planned=absence.planned,
        description=absence.description,
        from_date=absence.from_date,
        to_date=absence.to_date,
        late=absence.late,
        version=absence.version,
        registered_by=absence.registered_by,
        registered_at=absence.registered_at,
        changed_at=absence.changed_at,
    )


def _facts(absence: Absence) -> dict[str, Any]:
    """What both absence events carry."""
    return {
        "absence_id": absence.id,
        "order_id": absence.order_id,
        "provider_id": absence.provider_id,
        "unit": absence.unit,
        "person_id": absence.person_id,
        "kundnummer": absence.kundnummer,
        "reason": absence.reason,
        "planned": absence.planned,
        "from_date": absence.from_date,
        "to_date": absence.to_date,
        "late": absence.late,
        "version": absence.version,
    }


def _refuse_overlap(absence: Absence | None) -> None:
    """409 naming the absence the new period would share days with, if any."""
    if absence is not None:
        until = absence.to_date.isoformat() if absence.to_date else "further notice"
        raise Conflict(
            f"The client is registered absent already from {absence.from_date} until {until}: "
            "the absences would overlap."
        )


async def register(session: AsyncSession, user: User, order_id: uuid.UUID, form: AbsenceForm) -> AbsenceOut:
    """Lägg till frånvaro under an executing order; late when it began before today."""
    order = await orders.accessible(session, user, order_id, "register_absence", lock=True)
    if form.to_date is not None and form.to_date < form.from_date:
        raise InvalidInput("The absence ends before it begins.")
    if order.status != OrderStatus.CONFIRMED:
        raise Conflict("The client has no ongoing execution under this order: confirm it first.")
    assert order.execution_date is not None  # confirmed
    if form.from_date < order.execution_date:
        raise InvalidInput(f"The absence begins before the execution date {order.execution_date}.")
    await repository.lock_client(session, order.provider_id, order.person_id)
    clash = await repository.overlapping(
        session, order.provider_id, order.person_id, form.from_date, form.to_date
    )
    _refuse_overlap(clash)
    now = datetime.now(UTC)
    absence = Absence(
        id=uuid.uuid4(),
        order_id=order.id,
        provider_id=order.provider_id,
        unit=order.unit,
        person_id=order.person_id,
        kundnummer=order.kundnummer,
        reason=form.reason,
        planned=form.planned,
        description=form.description,
        from_date=form.from_date,
        to_date=form.to_date,
        late=form.from_date < orders.today(),
        version=1,
        registered_by=user.sub,
        registered_at=now,
    )
    await repository.add(session, absence)
    await add_event(session, AbsenceRegistered(**_facts(absence), registered_at=now), SOURCE)
    await audit.record(session, _entry(user, "create", absence.id, order))
    return absence_out(absence, order)


async def _accessible(
    session: AsyncSession, user: User, absence_id: uuid.UUID, action: str, *, lock: bool = False
) -> tuple[Absence, Order]:
    """The absence (locked when `lock`) and its order, if the user may act on the order."""
    await users.active_provider_user(session, user)
    absence = await (repository.get_locked if lock else repository.get)(session, absence_id)
    if absence is None:
        raise NotFound("There is no such absence.")
    order = await orders.accessible(
        session, user, absence.order_id, action, object_type="absence", object_id=absence.id
    )
    return absence, order


async def end(session: AsyncSession, user: User, absence_id: uuid.UUID, form: AbsenceEndForm) -> AbsenceOut:
    """Ändra: set (or correct) the absence's to date, which ends it."""
    absence, order = await _accessible(session, user, absence_id, "end_absence", lock=True)
    if form.to_date < absence.from_date:
        raise InvalidInput(f"The absence ends before it begins ({absence.from_date}).")
    if form.to_date == absence.to_date:
        await audit.record(session, _entry(user, "read", absence.id, order))
        return absence_out(absence, order)  # nothing changes: nothing to tell
    await repository.lock_client(session, absence.provider_id, absence.person_id)
    clash = await repository.overlapping(
        session, absence.provider_id, absence.person_id, absence.from_date, form.to_date, absence.id
    )
    _refuse_overlap(clash)
    now = datetime.now(UTC)
    absence.to_date, absence.changed_by, absence.changed_at = form.to_date, user.sub, now
    absence.version += 1
    await session.flush()
    await add_event(session, AbsenceEnded(**_facts(absence), ended_at=now), SOURCE)
    await audit.record(session, _entry(user, "update", absence.id, order))
    return absence_out(absence, order)


async def read(session: AsyncSession, user: User, absence_id: uuid.UUID) -> AbsenceOut:
    """One absence."""
    absence, order = await _accessible(session, user, absence_id, "read")
    await audit.record(session, _entry(user, "read", absence.id, order))
    return absence_out(absence, order)


async def of_order(session: AsyncSession, user: User, order_id: uuid.UUID) -> AbsenceList:
    """Frånvaro in the client's file: the absences under one order, newest first."""
    order = await orders.accessible(session, user, order_id, "list_absences")
    rows = await repository.of_order(session, order.id, PAGE_MAX)
    await audit.record_each(
        session, user.sub, users.actor_role(user), "list", "absence", ((a.id, order.client_pnr) for a in rows)
    )
    return AbsenceList(items=[absence_out(a, order) for a in rows])


async def of_unit(session: AsyncSession, user: User, unit: str, current: bool) -> AbsenceList:
    """The home box: the unit's current absences (not ended before today); all with current=false."""
    acting = await users.acting_in_unit(session, user, unit)
    rows = await repository.of_unit(
        session, acting.provider_id, acting.code, orders.today() if current else None, PAGE_MAX
    )
    by_id = await orders.of_ids(session, {a.order_id for a in rows})
    await audit.record_each(
        session,
        user.sub,
        users.actor_role(user),
        "list",
        "absence",
        ((a.id, by_id[a.order_id].client_pnr) for a in rows),
    )
    return AbsenceList(items=[absence_out(a, by_id[a.order_id]) for a in rows])
