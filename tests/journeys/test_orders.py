"""Journey 9 — Order and execute (CW-13, PR-1..PR-5, PR-8, PR-9): two providers,
A and B, each registered by the municipality's admin with a unit and a first
manager, whose managers create their staff. A caseworker orders the granted
service of a signed decision from A's unit, with the decision letter picked as
a document → `OrderPlaced` → A's user sees it under "Ej bekräftade
beställningar", reads it in full (the document fetched on demand) and prints
it, and confirms it with a future execution date, which never changes
afterwards → `ExecutionStarted` → the case shows the order executing. B's staff
are refused every object of A's, audited. Once an execution runs, A's staff may
write to the client in messaging (B's may not); ending it (end date, reason, "I
am sure") → `ExecutionEnded` → the case shows it ended and messaging refuses A's
staff. An order of a refused service, and a deactivated provider user, are
refused; a protected person's address never reaches the provider. Real
services, Kafka and PostgreSQL."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from pypdf import PdfReader

from conftest import (
    Provider,
    Stack,
    TopicWatch,
    bankid_login,
    bearer,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
    registered_provider,
)
from shared.db import asyncpg_dsn

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
ORDER_PLACED = "se.omsorg.casework.order.placed.v1"
EXECUTION_STARTED = "se.omsorg.provider.order.execution-started.v1"
EXECUTION_ENDED = "se.omsorg.provider.order.execution-ended.v1"
NOTE = "Jag trillar då och då och känner mig otrygg"  # the application's text: the intake note
PROBLEM = "application/problem+json"


# ---- the two providers ---------------------------------------------------------


def decision_form(outcome: str = "Beviljad", period_from: date = TODAY) -> dict[str, Any]:
    if outcome != "Beviljad":
        return {"outcome": outcome, "text": "Behovet tillgodoses på annat sätt."}
    return {
        "outcome": outcome,
        "text": "Du har behov av trygghetslarm för att kunna bo kvar hemma tryggt.",
        "period_from": period_from.isoformat(),
        "period_to": (TODAY + timedelta(days=364)).isoformat(),
        "extent": "Larm dygnet runt",
    }


@dataclass(frozen=True)
class Client:
    """A linked citizen with a signed decision on their trygghetslarm case."""

    pnr: str
    name: str
    link: dict[str, Any]  # person_id, record_id, kundnummer
    caseworker: str
    case_id: str
    decision: dict[str, Any]  # signed: its document_id is the decision letter


async def decided_client(
    http: httpx.AsyncClient,
    stack: Stack,
    name: str = "Annika Test",
    outcome: str = "Beviljad",
    e_service: bool = False,
    period_from: date = TODAY,
) -> Client:
    """A citizen who applied, was linked, investigated and decided (signed)."""
    casework, pnr = stack.url("casework"), new_personnummer()
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name=name)
    if e_service:
        response = await http.put(
            f"{casework}/persons/{link['person_id']}/e-service",
            headers=bearer(caseworker),
            json={"messages_enabled": True},
        )
        assert response.status_code == 200, response.text
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
        json=decision_form(outcome, period_from),
    )
    assert drafted.status_code == 201, drafted.text
    signed = await http.post(f"{casework}/decisions/{drafted.json()['id']}/sign", headers=bearer(caseworker))
    assert signed.status_code == 200, signed.text
    return Client(pnr, name, link, caseworker, case.json()["id"], signed.json())


async def known_to_casework(
    http: httpx.AsyncClient, stack: Stack, caseworker: str, provider: Provider
) -> None:
    """Wait until casework knows the provider's unit (from ProviderUnitAdded): only
    then can a caseworker order from it."""

    async def known() -> bool:
        response = await http.get(f"{stack.url('casework')}/providers", headers=bearer(caseworker))
        assert response.status_code == 200, response.text
        units = {(p["id"], u["code"]) for p in response.json() for u in p["units"]}
        return (provider.id, provider.unit) in units

    await eventually(known, timeout=20)


async def place_order(
    http: httpx.AsyncClient, stack: Stack, client: Client, provider: Provider, documents: bool = True
) -> httpx.Response:
    """Order the decision's service from the provider's unit, the decision letter
    picked as a document (or none)."""
    await known_to_casework(http, stack, client.caseworker, provider)
    return await http.post(
        f"{stack.url('casework')}/decisions/{client.decision['id']}/orders",
        headers=bearer(client.caseworker),
        json={
            "provider_id": provider.id,
            "unit": provider.unit,
            "document_ids": [client.decision["document_id"]] if documents else [],
        },
    )


async def ordered(
    http: httpx.AsyncClient, stack: Stack, client: Client, provider: Provider
) -> dict[str, Any]:
    response = await place_order(http, stack, client, provider)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def unit_orders(
    http: httpx.AsyncClient, stack: Stack, provider: Provider, status: str
) -> list[dict[str, Any]]:
    response = await http.get(
        f"{stack.url('provider')}/units/{provider.unit}/orders",
        headers=bearer(provider.user),
        params={"status": status},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def arrived(http: httpx.AsyncClient, stack: Stack, provider: Provider, order_id: str) -> dict[str, Any]:
    """The order in the unit's "Ej bekräftade beställningar", once provider has it."""

    async def listed() -> dict[str, Any] | None:
        orders = await unit_orders(http, stack, provider, "unconfirmed")
        return next((o for o in orders if o["id"] == order_id), None)

    return dict(await eventually(listed, timeout=20))


async def confirm(
    http: httpx.AsyncClient, stack: Stack, token: str, order_id: str, day: Any
) -> httpx.Response:
    return await http.post(
        f"{stack.url('provider')}/orders/{order_id}/confirm",
        headers=bearer(token),
        json={"execution_date": day.isoformat()},
    )


async def end(
    http: httpx.AsyncClient, stack: Stack, token: str, order_id: str, day: Any, **values: Any
) -> httpx.Response:
    body = {"end_date": day.isoformat(), "reason": "Flyttat", "confirm": True, **values}
    return await http.post(f"{stack.url('provider')}/orders/{order_id}/end", headers=bearer(token), json=body)


async def case_order(http: httpx.AsyncClient, stack: Stack, client: Client, order_id: str) -> dict[str, Any]:
    response = await http.get(
        f"{stack.url('casework')}/cases/{client.case_id}/orders", headers=bearer(client.caseworker)
    )
    assert response.status_code == 200, response.text
    return dict(next(o for o in response.json() if o["id"] == order_id))


async def case_order_in(
    http: httpx.AsyncClient, stack: Stack, client: Client, order_id: str, status: str
) -> dict[str, Any]:
    """The order as the case shows it, once it reached `status` (Beställd, Verkställd, Avslutad)."""

    async def reached() -> dict[str, Any] | None:
        order = await case_order(http, stack, client, order_id)
        return order if order["status"] == status else None

    return dict(await eventually(reached, timeout=20))


async def audit_rows(stack: Stack, service: str, actor: str) -> list[asyncpg.Record]:
    """The actor's rows in the service's audit log, oldest first: for refusals that
    name no person, which log review by personnummer cannot find."""
    pattern = stack.infra.env.get(
        "OMSORG_DATABASE_URL_PATTERN", "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
    )
    connection = await asyncpg.connect(asyncpg_dsn(pattern.replace("{name}", service)))
    try:
        return list(
            await connection.fetch(
                "SELECT action, object_type, object_id, outcome FROM audit_log WHERE actor = $1 ORDER BY id",
                actor,
            )
        )
    finally:
        await connection.close()


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def refusals(
    http: httpx.AsyncClient, stack: Stack, service: str, pnr: str, actor: str
) -> list[dict[str, Any]]:
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    response = await http.post(
        f"{stack.url(service)}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr}
    )
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["actor"] == actor and e["outcome"] == "refused"]


# ---- the journey ---------------------------------------------------------------


async def test_a_granted_service_is_ordered_confirmed_with_a_future_date_and_shown_executing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider_url = stack.url("provider")
    a = await registered_provider(http, stack, "A")
    b = await registered_provider(http, stack, "B")
    client = await decided_client(http, stack, name="Annika Beställd")

    async with TopicWatch(stack, "casework.orders.v1") as orders_topic:
        order = await ordered(http, stack, client, a)
        placed = await orders_topic.next(ORDER_PLACED, order["id"])
    assert placed["data"]["client"]["kundnummer"] == client.link["kundnummer"]
    assert placed["data"]["note"] == NOTE
    [document] = placed["data"]["documents"]
    assert document["document_id"] == client.decision["document_id"]
    # Personal data in the value only: neither the key nor the headers name the client.
    for personal in (client.pnr, client.pnr[2:], client.name):
        assert personal not in json.dumps({"key": placed["key"], "headers": placed["headers"]})
    assert (await case_order(http, stack, client, order["id"]))["status"] == "Beställd"

    # A's home box: "Ej bekräftade beställningar"; the order read in full, its document, the PDF.
    await arrived(http, stack, a, order["id"])
    assert order["id"] not in [o["id"] for o in await unit_orders(http, stack, a, "confirmed")]
    full = await http.get(f"{provider_url}/orders/{order['id']}", headers=bearer(a.user))
    assert full.status_code == 200, full.text
    shown = full.json()
    assert (shown["client"]["name"], shown["client"]["personnummer"], shown["client"]["kundnummer"]) == (
        client.name,
        client.pnr,
        client.link["kundnummer"],
    )
    assert (shown["service_code"], shown["extent"], shown["note"]) == (
        "trygghetslarm",
        "Larm dygnet runt",
        NOTE,
    )
    assert (shown["period_from"], shown["period_to"]) == (
        client.decision["period_from"],
        client.decision["period_to"],
    )
    [listed_document] = shown["documents"]
    fetched = await http.get(
        f"{provider_url}/orders/{order['id']}/documents/{listed_document['document_id']}",
        headers=bearer(a.user),
    )
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"].startswith("application/pdf")
    assert "Du beviljas trygghetslarm." in pdf_text(fetched.content)
    printed = await http.get(f"{provider_url}/orders/{order['id']}/pdf", headers=bearer(a.user))
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    for text in (client.name, "trygghetslarm", "Larm dygnet runt", NOTE):
        assert text.lower() in pdf_text(printed.content).lower(), text

    # Confirmed with a date ahead: it never changes afterwards.
    starts = TODAY + timedelta(days=14)
    async with TopicWatch(stack, "provider.orders.v1") as executions:
        confirmed = await confirm(http, stack, a.user, order["id"], starts)
        assert confirmed.status_code == 200, confirmed.text
        started = await executions.next(EXECUTION_STARTED, order["id"])
    assert started["data"]["execution_date"] == starts.isoformat()
    assert (started["data"]["provider_id"], started["data"]["unit"]) == (a.id, a.unit)
    for personal in (client.pnr, client.pnr[2:], client.name):
        assert personal not in json.dumps(started)
    for day in (starts, starts + timedelta(days=1)):
        again = await confirm(http, stack, a.user, order["id"], day)
        assert again.status_code == 409, again.text
        assert again.headers["content-type"].startswith(PROBLEM)
    assert order["id"] in [o["id"] for o in await unit_orders(http, stack, a, "confirmed")]
    assert order["id"] not in [o["id"] for o in await unit_orders(http, stack, a, "unconfirmed")]
    # Still printable once confirmed.
    assert (
        await http.get(f"{provider_url}/orders/{order['id']}/pdf", headers=bearer(a.user))
    ).status_code == 200

    # Casework shows it executing from that date.
    executing = await case_order_in(http, stack, client, order["id"], "Verkställd")
    assert executing["execution"]["execution_date"] == starts.isoformat()

    # Search one client's orders by name, personnummer or kundnummer (never in a URL).
    for query in (client.pnr, client.link["kundnummer"], client.name):
        found = await http.post(
            f"{provider_url}/units/{a.unit}/orders/search", headers=bearer(a.user), json={"query": query}
        )
        assert found.status_code == 200, found.text
        assert order["id"] in [o["id"] for o in found.json()], query

    # B's staff: nothing of A's, every refusal audited with the client as subject.
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/orders/{order['id']}", None),
        ("GET", f"/orders/{order['id']}/pdf", None),
        ("GET", f"/orders/{order['id']}/documents/{listed_document['document_id']}", None),
        ("POST", f"/orders/{order['id']}/confirm", {"execution_date": starts.isoformat()}),
        (
            "POST",
            f"/orders/{order['id']}/end",
            {"end_date": starts.isoformat(), "reason": "Flyttat", "confirm": True},
        ),
        (
            "POST",
            f"/orders/{order['id']}/absences",
            {"reason": "Resa", "planned": True, "description": "x", "from_date": starts.isoformat()},
        ),
    ]
    for method, path, body in calls:
        response = await http.request(method, f"{provider_url}{path}", headers=bearer(b.user), json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    # A's unit is not B's to list or search.
    for method, path, body in (
        ("GET", f"/units/{a.unit}/orders?status=confirmed", None),
        ("POST", f"/units/{a.unit}/orders/search", {"query": client.pnr}),
    ):
        response = await http.request(method, f"{provider_url}{path}", headers=bearer(b.user), json=body)
        assert response.status_code == 403, (method, path, response.text)
    assert order["id"] not in [o["id"] for o in await unit_orders(http, stack, b, "confirmed")]
    # A token of B's user that also names A's unit opens nothing of A's either: the unit
    # must be one of the user's own provider.
    stretched = await stack.token(
        "provider", sub=b.user_sub, name="Ulla Utförare B", provider_id=b.id, units=[b.unit, a.unit]
    )
    for path in (f"/orders/{order['id']}", f"/units/{a.unit}/orders"):
        response = await http.get(f"{provider_url}{path}", headers=bearer(stretched))
        assert response.status_code == 403, (path, response.text)
    refused = await refusals(http, stack, "provider", client.pnr, b.user_sub)
    document_id = listed_document["document_id"]
    assert sorted((e["action"], e["object_type"], e["object_id"]) for e in refused) == sorted(
        [
            ("read", "order", order["id"]),
            ("print", "order", order["id"]),
            ("read", "order_document", document_id),
            ("confirm", "order", order["id"]),
            ("end", "order", order["id"]),
            ("register_absence", "order", order["id"]),
            ("read", "order", order["id"]),  # with the stretched token
        ]
    )


async def test_a_running_execution_lets_the_units_staff_write_to_the_client_until_it_ends(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    messaging, provider_url = stack.url("messaging"), stack.url("provider")
    a = await registered_provider(http, stack, "A")
    b = await registered_provider(http, stack, "B")
    started_on = TODAY - timedelta(days=10)
    client = await decided_client(
        http, stack, name="Annika Verkställd", e_service=True, period_from=started_on - timedelta(days=5)
    )
    person_id = client.link["person_id"]
    order = await ordered(http, stack, client, a)
    await arrived(http, stack, a, order["id"])

    async def send(provider: Provider) -> httpx.Response:
        boxes = await http.get(f"{messaging}/mailboxes", headers=bearer(provider.user))
        assert boxes.status_code == 200, boxes.text
        box = next(m["id"] for m in boxes.json() if m["kind"] == "personal")
        return await http.post(
            f"{messaging}/messages",
            headers=bearer(provider.user),
            json={
                "from_mailbox_id": box,
                "to_client": person_id,
                "subject": "Hemtjänsten kommer",
                "body": "<p>Vi kommer på måndag kl 9.</p>",
            },
        )

    # Not confirmed yet: A has no assignment for the client.
    assert (await send(a)).status_code == 403

    # Confirmed (the client moved in ten days ago): the execution runs, and A's staff
    # may write to the client; B's may not.
    assert (await confirm(http, stack, a.user, order["id"], started_on)).status_code == 200
    await case_order_in(http, stack, client, order["id"], "Verkställd")

    async def a_writes() -> httpx.Response | None:
        response = await send(a)
        return response if response.status_code == 201 else None

    await eventually(a_writes, timeout=20)
    citizen = await bankid_login(http, stack, client.pnr, client.name)
    inbox = await http.get(f"{messaging}/e-service/messages", headers=bearer(citizen))
    assert "Hemtjänsten kommer" in [m["subject"] for m in inbox.json()]
    assert (await send(b)).status_code == 403
    assert await refusals(http, stack, "messaging", client.pnr, b.user_sub)

    # Ending it (avsluta verkställighet): "I am sure" is required, the end is not before
    # the start, the reason is one of the list.
    ends_on = TODAY - timedelta(days=1)
    unsure = await end(http, stack, a.user, order["id"], ends_on, confirm=False)
    assert unsure.status_code == 422 and unsure.headers["content-type"].startswith(PROBLEM), unsure.text
    missing = await http.post(
        f"{provider_url}/orders/{order['id']}/end",
        headers=bearer(a.user),
        json={"end_date": ends_on.isoformat(), "reason": "Flyttat"},
    )
    assert missing.status_code == 422, missing.text
    early = await end(http, stack, a.user, order["id"], started_on - timedelta(days=1))
    assert early.status_code == 422 and early.headers["content-type"].startswith(PROBLEM), early.text
    unknown_reason = await end(http, stack, a.user, order["id"], ends_on, reason="Tröttnat")
    assert unknown_reason.status_code == 422, unknown_reason.text
    assert (await end(http, stack, b.user, order["id"], ends_on)).status_code == 403

    async with TopicWatch(stack, "provider.orders.v1") as executions:
        ended = await end(http, stack, a.user, order["id"], ends_on, reason="Flyttat")
        assert ended.status_code == 200, ended.text
        event = await executions.next(EXECUTION_ENDED, order["id"])
    assert (event["data"]["end_date"], event["data"]["reason"]) == (ends_on.isoformat(), "Flyttat")
    assert (await end(http, stack, a.user, order["id"], ends_on)).status_code == 409
    assert order["id"] in [o["id"] for o in await unit_orders(http, stack, a, "ended")]

    shown = await case_order_in(http, stack, client, order["id"], "Avslutad")
    assert (shown["end"]["end_date"], shown["end"]["reason"]) == (ends_on.isoformat(), "Flyttat")

    # Ended yesterday: A's staff may no longer write to the client.
    async def a_refused() -> bool:
        return (await send(a)).status_code == 403

    await eventually(a_refused, timeout=20)
    assert await refusals(http, stack, "messaging", client.pnr, a.user_sub)


async def test_an_order_needs_a_granted_decision_a_known_unit_and_the_persons_own_documents(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    casework = stack.url("casework")
    a = await registered_provider(http, stack, "A")
    refused_client = await decided_client(http, stack, name="Anna Avslag", outcome="Avslag")
    response = await place_order(http, stack, refused_client, a)
    assert response.status_code == 409 and response.headers["content-type"].startswith(PROBLEM), response.text

    client = await decided_client(http, stack, name="Annika Test")
    url = f"{casework}/decisions/{client.decision['id']}/orders"
    for body in (
        {"provider_id": a.id, "unit": "ingen-sadan-enhet", "document_ids": []},
        {"provider_id": str(uuid.uuid4()), "unit": a.unit, "document_ids": []},
        # the letter of another person's decision, and a document that does not exist
        {"provider_id": a.id, "unit": a.unit, "document_ids": [refused_client.decision["document_id"]]},
        {"provider_id": a.id, "unit": a.unit, "document_ids": [str(uuid.uuid4())]},
    ):
        response = await http.post(url, headers=bearer(client.caseworker), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    # Another unit's caseworker may not order for the person.
    stranger = await stack.token("caseworker", name="Annan Enhet", units=["annan-enhet"])
    response = await http.post(
        url, headers=bearer(stranger), json={"provider_id": a.id, "unit": a.unit, "document_ids": []}
    )
    assert response.status_code == 403, response.text
    # One open order per decision.
    assert (await ordered(http, stack, client, a))["id"]
    assert (await place_order(http, stack, client, a)).status_code == 409


async def test_a_deactivated_provider_user_is_refused_until_reactivated(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider_url = stack.url("provider")
    a = await registered_provider(http, stack, "A")
    client = await decided_client(http, stack, name="Annika Test")
    order = await ordered(http, stack, client, a)
    await arrived(http, stack, a, order["id"])

    users = await http.get(f"{provider_url}/providers/{a.id}/users", headers=bearer(a.manager))
    assert users.status_code == 200, users.text
    assert {a.user_sub, a.manager_sub} <= {u["sub"] for u in users.json()}
    # Staff administer nothing; another provider's manager nothing of A's.
    assert (
        await http.post(f"{provider_url}/users/{a.user_sub}/deactivate", headers=bearer(a.user))
    ).status_code == 403
    deactivated = await http.post(f"{provider_url}/users/{a.user_sub}/deactivate", headers=bearer(a.manager))
    assert deactivated.status_code == 200, deactivated.text

    # The same (still valid) token: refused on every request, audited.
    for method, path in (
        ("GET", f"/units/{a.unit}/orders?status=unconfirmed"),
        ("GET", f"/orders/{order['id']}"),
    ):
        response = await http.request(method, f"{provider_url}{path}", headers=bearer(a.user))
        assert response.status_code == 403, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    # Refused before the order is looked up: audited against the user, not the client.
    rows = await audit_rows(stack, "provider", a.user_sub)
    assert [(r["object_type"], r["object_id"], r["outcome"]) for r in rows][-2:] == [
        ("provider_user", a.user_sub, "refused")
    ] * 2

    reactivated = await http.post(f"{provider_url}/users/{a.user_sub}/reactivate", headers=bearer(a.manager))
    assert reactivated.status_code == 200, reactivated.text
    assert (await http.get(f"{provider_url}/orders/{order['id']}", headers=bearer(a.user))).status_code == 200

    # A token for a provider user the manager never added is refused too.
    stranger = await stack.token("provider", name="Okänd", provider_id=a.id, units=[a.unit])
    assert (
        await http.get(f"{provider_url}/orders/{order['id']}", headers=bearer(stranger))
    ).status_code == 403


async def test_a_protected_persons_address_never_reaches_the_provider(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider_url, casework = stack.url("provider"), stack.url("casework")
    a = await registered_provider(http, stack, "A")
    address = {"street": "Ströms väg 15 A", "postal_code": "614 33", "city": "Söderköping"}
    shown: dict[bool, tuple[dict[str, Any], str]] = {}
    for protected in (False, True):
        client = await decided_client(http, stack, name="Annika Skyddad" if protected else "Annika Öppen")
        response = await http.patch(
            f"{casework}/persons/{client.link['person_id']}",
            headers=bearer(client.caseworker),
            json={"address": address, "registered_address": address, "protected_identity": protected},
        )
        assert response.status_code == 200, response.text
        order = await ordered(http, stack, client, a)
        await arrived(http, stack, a, order["id"])
        full = await http.get(f"{provider_url}/orders/{order['id']}", headers=bearer(a.user))
        assert full.status_code == 200, full.text
        printed = await http.get(f"{provider_url}/orders/{order['id']}/pdf", headers=bearer(a.user))
        assert printed.status_code == 200, printed.text
        shown[protected] = (full.json()["client"], pdf_text(printed.content))

    open_client, open_pdf = shown[False]
    assert open_client["protected_identity"] is False
    assert "Ströms väg 15 A" in (open_client["address"] or "") and "Ströms väg 15 A" in open_pdf
    hidden_client, hidden_pdf = shown[True]
    assert (hidden_client["protected_identity"], hidden_client["address"]) == (True, None)
    for part in ("Ströms", "614 33", "Söderköping"):
        assert part not in hidden_pdf
