"""Journey 10 — Absence and fees (PR-6, PR-7, PR-9, PR-11, CW-15): provider A's
staff register their client's absences on a running execution — one registered
late is marked late, one of more than 30 days is flagged for manual fee handling
with its whole days without meals — and end them → `AbsenceRegistered` /
`AbsenceEnded` → casework's fee administrator finds them on the work list by
kundnummer and marks them done, and exports the month's fee basis (days of
execution, whole days of absence) as CSV. An overlapping absence, one ending
before it starts and one on an order not executing are refused; provider B's
staff see nothing of A's. The municipality sees which providers' quarterly
access review is overdue; a planned service window reaches the providers' home
screen. Real services, Kafka and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from conftest import (
    Provider,
    Stack,
    TopicWatch,
    admin_token,
    bearer,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
    registered_provider,
)

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
REGISTERED = "se.omsorg.provider.absence.registered.v1"
ENDED = "se.omsorg.provider.absence.ended.v1"
PROBLEM = "application/problem+json"


# ---- providers, a granted decision, an executing order (as in test_orders.py) ----


@dataclass(frozen=True)
class Execution:
    """A client's order at a provider unit, confirmed."""

    pnr: str
    person_id: str
    kundnummer: str
    order_id: str
    execution_date: date


async def ordered(
    http: httpx.AsyncClient, stack: Stack, provider: Provider
) -> tuple[str, dict[str, Any], str]:
    """A granted, signed trygghetslarm ordered from the provider's unit, once the
    unit lists it: (pnr, the link, the order id)."""
    casework, pnr = stack.url("casework"), new_personnummer()
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name="Annika Frånvaro")
    await investigation_started(http, stack, link, caseworker)
    case = await http.post(
        f"{casework}/intake-records/{link['record_id']}/cases",
        headers=bearer(caseworker),
        json={"service_code": "trygghetslarm", "legal_basis": "SoL 4 kap. 1 §"},
    )
    assert case.status_code == 201, case.text
    drafted = await http.post(
        f"{casework}/cases/{case.json()['id']}/decisions",
        headers=bearer(caseworker),
        json={
            "outcome": "Beviljad",
            "text": "Du har behov av trygghetslarm.",
            "period_from": (TODAY - timedelta(days=120)).isoformat(),
            "period_to": (TODAY + timedelta(days=364)).isoformat(),
            "extent": "Larm dygnet runt",
        },
    )
    assert drafted.status_code == 201, drafted.text
    decision_id = drafted.json()["id"]
    signed = await http.post(f"{casework}/decisions/{decision_id}/sign", headers=bearer(caseworker))
    assert signed.status_code == 200, signed.text

    async def unit_known() -> bool:
        response = await http.get(f"{casework}/providers", headers=bearer(caseworker))
        assert response.status_code == 200, response.text
        return (provider.id, provider.unit) in {
            (p["id"], u["code"]) for p in response.json() for u in p["units"]
        }

    await eventually(unit_known, timeout=20)  # casework learns units from ProviderUnitAdded
    response = await http.post(
        f"{casework}/decisions/{decision_id}/orders",
        headers=bearer(caseworker),
        json={"provider_id": provider.id, "unit": provider.unit, "document_ids": []},
    )
    assert response.status_code == 201, response.text
    order_id = str(response.json()["id"])

    async def listed() -> bool:
        response = await http.get(
            f"{stack.url('provider')}/units/{provider.unit}/orders",
            headers=bearer(provider.user),
            params={"status": "unconfirmed"},
        )
        assert response.status_code == 200, response.text
        return order_id in [o["id"] for o in response.json()["items"]]

    await eventually(listed, timeout=20)
    return pnr, link, order_id


async def executing(http: httpx.AsyncClient, stack: Stack, provider: Provider, starts: date) -> Execution:
    """An order confirmed with `starts` as its execution date."""
    pnr, link, order_id = await ordered(http, stack, provider)
    confirmed = await http.post(
        f"{stack.url('provider')}/orders/{order_id}/confirm",
        headers=bearer(provider.user),
        json={"execution_date": starts.isoformat()},
    )
    assert confirmed.status_code == 200, confirmed.text
    return Execution(pnr, link["person_id"], link["kundnummer"], order_id, starts)


def absence(from_date: date, to_date: date | None = None, **values: Any) -> dict[str, Any]:
    return {
        "reason": "Sjukhusvistelse",
        "planned": False,
        "description": "Inlagd på sjukhus",
        "from_date": from_date.isoformat(),
        "to_date": to_date.isoformat() if to_date else None,
        **values,
    }


async def register(
    http: httpx.AsyncClient, stack: Stack, token: str, order_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        f"{stack.url('provider')}/orders/{order_id}/absences", headers=bearer(token), json=body
    )


async def end_absence(
    http: httpx.AsyncClient, stack: Stack, token: str, absence_id: str, to_date: date
) -> httpx.Response:
    return await http.patch(
        f"{stack.url('provider')}/absences/{absence_id}",
        headers=bearer(token),
        json={"to_date": to_date.isoformat()},
    )


async def fee_administrator(stack: Stack) -> str:
    return await stack.token("fee_administrator", name="Anna Avgift", units=["avgift"])


async def work_list(
    http: httpx.AsyncClient, stack: Stack, token: str, done: bool, kundnummer: str
) -> list[dict[str, Any]]:
    response = await http.get(
        f"{stack.url('casework')}/fees/work-list",
        headers=bearer(token),
        params={"done": str(done).lower(), "kundnummer": kundnummer},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def whole_days(from_date: date, to_date: date) -> set[date]:
    """The days without meals: strictly between leaving and coming back."""
    return {from_date + timedelta(days=n) for n in range(1, (to_date - from_date).days)}


def month_of(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


# ---- the journey ---------------------------------------------------------------


async def test_absences_reach_the_fee_administrator_and_the_monthly_fee_basis(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider_url, casework = stack.url("provider"), stack.url("casework")
    a = await registered_provider(http, stack, "A")
    b = await registered_provider(http, stack, "B")
    starts = TODAY - timedelta(days=70)
    execution = await executing(http, stack, a, starts)
    fees = await fee_administrator(stack)

    # A short absence registered late: accepted, marked late; its event names no one.
    short_from, short_to = TODAY - timedelta(days=60), TODAY - timedelta(days=55)
    async with TopicWatch(stack, "provider.absences.v1") as absences:
        response = await register(http, stack, a.user, execution.order_id, absence(short_from, short_to))
        assert response.status_code == 201, response.text
        short = response.json()
        registered = await absences.next(REGISTERED, execution.order_id)
    assert (short["late"], short["kundnummer"]) == (True, execution.kundnummer)
    assert (registered["data"]["absence_id"], registered["data"]["late"]) == (short["id"], True)
    assert (registered["data"]["kundnummer"], registered["data"]["version"]) == (execution.kundnummer, 1)
    for personal in (execution.pnr, execution.pnr[2:], "Annika", "Inlagd på sjukhus"):
        assert personal not in json.dumps(registered)

    # A long one, open while the client is away, then ended: over 30 whole days without meals.
    long_from, long_to = TODAY - timedelta(days=50), TODAY - timedelta(days=2)
    response = await register(
        http, stack, a.user, execution.order_id, absence(long_from, reason="Korttidsvistelse")
    )
    assert response.status_code == 201, response.text
    long = response.json()
    async with TopicWatch(stack, "provider.absences.v1") as absences:
        response = await end_absence(http, stack, a.user, long["id"], long_to)
        assert response.status_code == 200, response.text
        ended = await absences.next(ENDED, execution.order_id)
    assert (ended["data"]["absence_id"], ended["data"]["to_date"], ended["data"]["version"]) == (
        long["id"],
        long_to.isoformat(),
        2,
    )

    # Bad input: overlapping another absence of the client (409); ending before it starts
    # (422); beginning before the execution (422).
    overlapping = await register(
        http,
        stack,
        a.user,
        execution.order_id,
        absence(short_to - timedelta(days=1), short_to + timedelta(days=3)),
    )
    assert overlapping.status_code == 409 and overlapping.headers["content-type"].startswith(PROBLEM)
    backwards = await register(
        http,
        stack,
        a.user,
        execution.order_id,
        absence(TODAY + timedelta(days=10), TODAY + timedelta(days=5)),
    )
    assert backwards.status_code == 422 and backwards.headers["content-type"].startswith(PROBLEM)
    before = await register(http, stack, a.user, execution.order_id, absence(starts - timedelta(days=3)))
    assert before.status_code == 422, before.text
    ended_early = await end_absence(http, stack, a.user, long["id"], long_from - timedelta(days=1))
    assert ended_early.status_code == 422, ended_early.text

    # One from today, on time: the home box of current absences lists it, not the ended ones.
    response = await register(http, stack, a.user, execution.order_id, absence(TODAY, reason="Resa"))
    assert response.status_code == 201, response.text
    today = response.json()
    assert today["late"] is False
    current = await http.get(
        f"{provider_url}/units/{a.unit}/absences", headers=bearer(a.user), params={"current": "true"}
    )
    assert current.status_code == 200, current.text
    assert [x["id"] for x in current.json()["items"] if x["order_id"] == execution.order_id] == [today["id"]]

    # B's staff: not A's absences.
    response = await http.get(
        f"{provider_url}/units/{a.unit}/absences", headers=bearer(b.user), params={"current": "true"}
    )
    assert response.status_code == 403, response.text
    assert (
        await http.get(f"{provider_url}/absences/{today['id']}", headers=bearer(b.user))
    ).status_code == 403
    assert (await end_absence(http, stack, b.user, today["id"], TODAY)).status_code == 403
    assert (
        await register(http, stack, b.user, execution.order_id, absence(TODAY + timedelta(days=20)))
    ).status_code == 403

    # The fee administrator's work list, by kundnummer: each registration and end signalled,
    # the late flag, and the 30-day rule with the whole days without meals.
    expected = {
        (short["id"], "Frånvaro registrerad"),
        (long["id"], "Frånvaro registrerad"),
        (long["id"], "Frånvaro avslutad"),
        (today["id"], "Frånvaro registrerad"),
    }

    async def signalled() -> dict[tuple[str, str], dict[str, Any]] | None:
        rows = await work_list(http, stack, fees, False, execution.kundnummer)
        items = {(r["absence_id"], r["signal"]): r for r in rows}
        return items if set(items) >= expected else None

    items = await eventually(signalled, timeout=20)
    assert {r["kundnummer"] for r in items.values()} == {execution.kundnummer}
    late_one = items[(short["id"], "Frånvaro registrerad")]
    assert (late_one["late"], late_one["manual_handling"], late_one["whole_days_without_meals"]) == (
        True,
        False,
        4,
    )
    flagged = items[(long["id"], "Frånvaro avslutad")]
    assert (flagged["from_date"], flagged["to_date"]) == (long_from.isoformat(), long_to.isoformat())
    assert (flagged["manual_handling"], flagged["whole_days_without_meals"]) == (True, 47)
    assert items[(today["id"], "Frånvaro registrerad")]["late"] is False

    done = await http.post(f"{casework}/fees/work-list/{flagged['id']}/done", headers=bearer(fees))
    assert done.status_code == 200, done.text
    assert done.json()["done"] is True
    again = await http.post(f"{casework}/fees/work-list/{flagged['id']}/done", headers=bearer(fees))
    assert again.status_code == 409, again.text
    assert flagged["id"] not in [
        r["id"] for r in await work_list(http, stack, fees, False, execution.kundnummer)
    ]
    assert flagged["id"] in [r["id"] for r in await work_list(http, stack, fees, True, execution.kundnummer)]

    # The fee basis of the month the late absence began in, as CSV: the client's days of
    # execution and whole days without meals in the month.
    first, last = month_of(short_from)
    without_meals = whole_days(short_from, short_to) | whole_days(long_from, long_to)
    month = f"{first:%Y-%m}"
    response = await http.get(
        f"{casework}/fees/basis", headers=bearer(fees), params={"month": month, "format": "csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    [row] = [
        r
        for r in csv.DictReader(io.StringIO(response.text), delimiter=";")
        if r["kundnummer"] == execution.kundnummer
    ]
    assert row["månad"] == month and row["beställning"] == execution.order_id
    assert row["verkställighetsdatum"] == starts.isoformat()
    assert int(row["verkställighetsdagar"]) == (last - max(first, starts)).days + 1
    assert int(row["frånvarodagar utan kost"]) == len({d for d in without_meals if first <= d <= last})
    first_invoice = (starts.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert row["första fakturamånad"] == f"{first_invoice:%Y-%m}"
    # The same basis as JSON.
    response = await http.get(f"{casework}/fees/basis", headers=bearer(fees), params={"month": month})
    assert response.status_code == 200, response.text
    [shown] = [r for r in response.json()["rows"] if r["kundnummer"] == execution.kundnummer]
    assert shown["execution_days"] == int(row["verkställighetsdagar"])

    # Fees are the fee administrator's (and the admin's); a month is YYYY-MM.
    caseworker = await stack.token("caseworker", name="Marita Aronsson", units=["testenhet"])
    response = await http.get(f"{casework}/fees/work-list", headers=bearer(caseworker))
    assert response.status_code == 403, response.text
    response = await http.get(f"{casework}/fees/basis", headers=bearer(fees), params={"month": "2025-13"})
    assert response.status_code == 422, response.text


async def test_an_absence_needs_an_executing_order(stack: Stack, http: httpx.AsyncClient) -> None:
    a = await registered_provider(http, stack, "A")
    _, _, order_id = await ordered(http, stack, a)
    response = await register(http, stack, a.user, order_id, absence(TODAY))
    assert response.status_code == 409 and response.headers["content-type"].startswith(PROBLEM), response.text
    unknown = await register(http, stack, a.user, str(uuid.uuid4()), absence(TODAY))
    assert unknown.status_code == 404, unknown.text
    unknown_reason = await register(http, stack, a.user, order_id, absence(TODAY, reason="Semester i rymden"))
    assert unknown_reason.status_code == 422, unknown_reason.text


async def test_a_provider_that_never_reviewed_its_users_is_overdue_until_its_manager_confirms(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider_url = stack.url("provider")
    admin = await admin_token(stack)
    b = await registered_provider(http, stack, "B")

    async def overdue() -> dict[str, dict[str, Any]]:
        response = await http.get(f"{provider_url}/access-reviews/overdue", headers=bearer(admin))
        assert response.status_code == 200, response.text
        return {p["provider_id"]: p for p in response.json()}

    never = (await overdue())[b.id]
    assert never["last_reviewed_at"] is None
    assert [m["sub"] for m in never["managers"]] == [b.manager_sub]  # reminded
    assert never["reminded_at"] is not None
    # Staff neither see the list nor confirm the review; the manager confirms the active users.
    response = await http.get(f"{provider_url}/access-reviews/overdue", headers=bearer(b.user))
    assert response.status_code == 403, response.text
    users = await http.get(f"{provider_url}/providers/{b.id}/users", headers=bearer(b.manager))
    assert users.status_code == 200, users.text
    active = sorted(u["sub"] for u in users.json() if u["active"])
    assert active == sorted([b.manager_sub, b.user_sub])
    refused = await http.post(
        f"{provider_url}/providers/{b.id}/access-reviews",
        headers=bearer(b.user),
        json={"active_users": active},
    )
    assert refused.status_code == 403, refused.text
    reviewed = await http.post(
        f"{provider_url}/providers/{b.id}/access-reviews",
        headers=bearer(b.manager),
        json={"active_users": active},
    )
    assert reviewed.status_code == 201, reviewed.text
    assert b.id not in await overdue()


async def test_a_planned_service_window_is_shown_to_provider_staff(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider_url = stack.url("provider")
    admin = await admin_token(stack)
    a = await registered_provider(http, stack, "A")
    day = datetime.combine(TODAY + timedelta(days=7), datetime.min.time(), ZoneInfo("Europe/Stockholm"))
    text = f"Planerat underhåll {uuid.uuid4().hex[:6]}: Omsorg är inte tillgängligt"
    window = {
        "from": day.replace(hour=12).isoformat(),
        "to": day.replace(hour=14, minute=30).isoformat(),
        "text": text,
    }
    response = await http.post(f"{provider_url}/service-windows", headers=bearer(a.user), json=window)
    assert response.status_code == 403, response.text
    posted = await http.post(f"{provider_url}/service-windows", headers=bearer(admin), json=window)
    assert posted.status_code == 201, posted.text
    backwards = {**window, "to": day.replace(hour=11).isoformat()}
    response = await http.post(f"{provider_url}/service-windows", headers=bearer(admin), json=backwards)
    assert response.status_code == 422, response.text
    shown = await http.get(f"{provider_url}/service-windows", headers=bearer(a.user))
    assert shown.status_code == 200, shown.text
    [listed] = [w for w in shown.json() if w["text"] == text]
    assert datetime.fromisoformat(listed["from"]) == day.replace(hour=12)
    assert datetime.fromisoformat(listed["to"]) == day.replace(hour=14, minute=30)
    assert (listed["id"], listed["current"]) == (posted.json()["id"], False)
