"""Fees (avgifter, CW-15, PR-6, PR-7; journey 10).

The fee administrator (avgiftshandläggare) is signalled when a client's absence
is registered and when it ends: provider's AbsenceRegistered and AbsenceEnded
(`provider.absences.v1`) each put an item on the work list, by kundnummer, with
the absence's dates, whether it was registered late, and its whole days without
meals; one of over 30 whole days is marked for manual handling (PR-7). Events
apply only when newer than the absence's last applied version, so a replayed
older one neither brings back old dates nor signals twice. Only dates travel
into fees: never why the client was away.

The monthly fee basis per client follows from the executions (casework's
orders, from the execution date through the end date) and the absences: days
of execution in the month, whole absence days in the month, and the month of
the first invoice (the one after the execution starts). The calendar rules are
in `fees.calendar`. The basis can be exported as CSV.

For fee administrators (and admins). Every read and change of a client's data
is audited: each item or row shown, each item marked done."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.config import TIME_ZONE
from casework.fees import calendar, repository
from casework.fees.calendar import Month
from casework.fees.models import FeeAbsence, FeeWorkItem, Signal
from casework.fees.schemas import FeeBasisOut, FeeBasisRow, WorkItemOut, WorkListOut
from casework.orders import service as orders
from casework.persons import service as persons
from shared import audit
from shared.auth import Role, User
from shared.contracts.provider import AbsenceEnded, AbsenceRegistered
from shared.events import Envelope
from shared.problems import Conflict, InvalidInput, NotFound


class AbsenceRefused(Exception):
    """An absence of a client casework does not know: the record's own failure,
    dead-lettered. Names no personal data."""


def _today() -> date:
    return datetime.now(TIME_ZONE).date()


def _role(user: User) -> str:
    return Role.FEE_ADMINISTRATOR.value if user.has(Role.FEE_ADMINISTRATOR) else Role.ADMIN.value


# ---- the work list ---------------------------------------------------------------


async def on_absence(
    session: AsyncSession, event: AbsenceRegistered | AbsenceEnded, envelope: Envelope
) -> None:
    """Record the absence's newer facts and signal the fee administrator with an item
    on the work list; an older or replayed event changes nothing."""
    person = (await persons.by_ids(session, {event.person_id})).get(event.person_id)
    if person is None:
        raise AbsenceRefused("an absence of a client casework does not know")
    changed = await repository.apply_absence(
        session,
        {
            "id": event.absence_id,
            "order_id": event.order_id,
            "person_id": person.id,
            # Casework's own number of the client is the fee administrator's key.
            "kundnummer": person.kundnummer,
            "provider_id": event.provider_id,
            "unit": event.unit,
            "from_date": event.from_date,
            "to_date": event.to_date,
            "late": event.late,
            "version": event.version,
            "changed_at": event.registered_at if isinstance(event, AbsenceRegistered) else event.ended_at,
        },
    )
    if not changed:
        return
    item = FeeWorkItem(
        id=uuid.uuid4(),
        absence_id=event.absence_id,
        signal=Signal.REGISTERED if isinstance(event, AbsenceRegistered) else Signal.ENDED,
        version=event.version,
        kundnummer=person.kundnummer,
        from_date=event.from_date,
        to_date=event.to_date,
        late=event.late,
        signalled_at=datetime.now(UTC),
    )
    repository.add(session, item)
    await session.flush()
    await audit.record(session, audit.from_event(envelope, "create", "fee_work_item", item.id, person.pnr))


def _item_out(item: FeeWorkItem, absence: FeeAbsence, today: date) -> WorkItemOut:
    return WorkItemOut(
        id=item.id,
        signal=item.signal,
        kundnummer=item.kundnummer,
        person_id=absence.person_id,
        order_id=absence.order_id,
        absence_id=absence.id,
        unit=absence.unit,
        from_date=item.from_date,
        to_date=item.to_date,
        late=item.late,
        whole_days_without_meals=calendar.whole_days_without_meals(item.from_date, item.to_date, today),
        manual_handling=calendar.needs_manual_handling(item.from_date, item.to_date, today),
        signalled_at=item.signalled_at,
        done=item.done_at is not None,
        done_at=item.done_at,
        done_by=item.done_by,
    )


async def work_list(
    session: AsyncSession,
    user: User,
    *,
    done: bool,
    kundnummer: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> WorkListOut:
    """The work list: items not done (or done), by kundnummer, a page at a time."""
    cursor = None
    if after is not None:
        cursor = await repository.item(session, after)
        if cursor is None:
            raise InvalidInput("`after` names no item of the work list.", field="after")
    rows = await repository.work_items(session, done=done, kundnummer=kundnummer, after=cursor, limit=limit)
    people = await persons.by_ids(session, {a.person_id for _, a in rows})
    await audit.record_each(
        session,
        user.sub,
        _role(user),
        "list",
        "fee_work_item",
        ((item.id, people[absence.person_id].pnr) for item, absence in rows),
    )
    today = _today()
    return WorkListOut(
        items=[_item_out(item, absence, today) for item, absence in rows],
        next_after=rows[-1][0].id if len(rows) == limit else None,
    )


async def mark_done(session: AsyncSession, user: User, item_id: uuid.UUID) -> WorkItemOut:
    """The fee administrator handled the item: it leaves the list of what is left to do."""
    item = await repository.item_locked(session, item_id)
    if item is None:
        raise NotFound("There is no such item on the work list.")
    absence = await repository.absence(session, item.absence_id)
    assert absence is not None  # an item is made with its absence
    person = await persons.by_id(session, absence.person_id)
    if item.done_at is not None:
        raise Conflict("The item is done already.", done_at=item.done_at.isoformat(), done_by=item.done_by)
    item.done_at = datetime.now(UTC)
    item.done_by = user.sub
    await session.flush()
    await audit.record(
        session,
        audit.AuditEntry(
            user.sub, _role(user), "update", "fee_work_item", str(item.id), subject_pnr=person.pnr
        ),
    )
    return _item_out(item, absence, _today())


# ---- the monthly fee basis --------------------------------------------------------


def basis_rows(
    executions: list[orders.Execution],
    absences: list[FeeAbsence],
    kundnummer: dict[uuid.UUID, str],
    month: Month,
    today: date,
) -> list[FeeBasisRow]:
    """The month's basis: one row per client and execution, by kundnummer."""
    of_order: dict[uuid.UUID, list[FeeAbsence]] = {}
    for absence in absences:
        of_order.setdefault(absence.order_id, []).append(absence)
    rows = []
    for execution in executions:
        days = calendar.execution_days_in_month(execution.execution_date, execution.end_date, month)
        if days == 0:
            continue
        # The absences that reach into the month, so their whole days can count.
        touching = [
            a
            for a in of_order.get(execution.order_id, [])
            if a.from_date <= month.last and (a.to_date is None or a.to_date >= month.first)
        ]
        rows.append(
            FeeBasisRow(
                kundnummer=kundnummer[execution.person_id],
                person_id=execution.person_id,
                order_id=execution.order_id,
                service_code=execution.service_code,
                service_name=execution.service_name,
                unit=execution.unit,
                execution_date=execution.execution_date,
                end_date=execution.end_date,
                execution_days=days,
                absence_days=calendar.absence_days_in_month(
                    [(a.from_date, a.to_date) for a in touching],
                    execution.execution_date,
                    execution.end_date,
                    month,
                    today,
                ),
                open_absence=any(a.to_date is None for a in touching),
                manual_handling=any(
                    calendar.needs_manual_handling(a.from_date, a.to_date, today) for a in touching
                ),
                first_invoice_month=str(calendar.first_invoice_month(execution.execution_date)),
            )
        )
    rows.sort(key=lambda r: (r.kundnummer, r.execution_date, str(r.order_id)))
    return rows


async def _basis(session: AsyncSession, month: Month) -> tuple[list[FeeBasisRow], dict[uuid.UUID, str]]:
    executions = await orders.executions_between(session, month.first, month.last)
    absences = await repository.absences_of_orders(session, [e.order_id for e in executions])
    people = await persons.by_ids(session, {e.person_id for e in executions})
    rows = basis_rows(executions, absences, {pid: p.kundnummer for pid, p in people.items()}, month, _today())
    return rows, {pid: p.pnr for pid, p in people.items()}


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        raise InvalidInput("A month is written YYYY-MM.", field="month") from None


async def fee_basis(
    session: AsyncSession, user: User, month_text: str, *, after: uuid.UUID | None, limit: int
) -> FeeBasisOut:
    """The month's fee basis per client and execution, a page at a time."""
    month = _month(month_text)
    rows, pnrs = await _basis(session, month)
    if after is not None:
        position = next((i for i, r in enumerate(rows) if r.order_id == after), None)
        if position is None:
            raise InvalidInput("`after` names no row of this month's basis.", field="after")
        rows = rows[position + 1 :]
    page = rows[:limit]
    await audit.record_each(
        session, user.sub, _role(user), "list", "fee_basis", ((r.order_id, pnrs[r.person_id]) for r in page)
    )
    return FeeBasisOut(
        month=str(month), rows=page, next_after=page[-1].order_id if len(rows) > limit else None
    )


CSV_COLUMNS = (
    "månad",
    "kundnummer",
    "insats",
    "insatskod",
    "enhet",
    "verkställighetsdatum",
    "slutdatum",
    "verkställighetsdagar",
    "frånvarodagar utan kost",
    "pågående frånvaro",
    "manuell hantering",
    "första fakturamånad",
    "beställning",
)


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def basis_csv(month: Month, rows: list[FeeBasisRow]) -> str:
    """The basis as CSV for a spreadsheet: semicolons (Swedish decimal commas), a header row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    str(month),
                    r.kundnummer,
                    r.service_name,
                    r.service_code,
                    r.unit,
                    r.execution_date.isoformat(),
                    r.end_date.isoformat() if r.end_date else None,
                    r.execution_days,
                    r.absence_days,
                    r.open_absence,
                    r.manual_handling,
                    r.first_invoice_month,
                    r.order_id,
                )
            ]
        )
    return out.getvalue()


async def fee_basis_csv(session: AsyncSession, user: User, month_text: str) -> tuple[str, str]:
    """The whole month's basis as CSV, and its file name; audited as an export."""
    month = _month(month_text)
    rows, pnrs = await _basis(session, month)
    await audit.record_each(
        session, user.sub, _role(user), "export", "fee_basis", ((r.order_id, pnrs[r.person_id]) for r in rows)
    )
    return basis_csv(month, rows), f"avgiftsunderlag-{month}.csv"
