"""Orders and absences on the running system (provider at 127.0.0.1:8104, real
Kafka): the municipality's admin registers two providers over HTTP, casework's
OrderPlaced arrives on `casework.orders.v1` as casework would publish it, and
provider's consumer makes it the unit's unconfirmed order. The unit's user
reads, prints and finds it (the personnummer in the body, never in the URL),
confirms it (ExecutionStarted on `provider.orders.v1`; a second confirm 409),
registers and ends an absence (AbsenceRegistered / AbsenceEnded on
`provider.absences.v1`, versions 1 and 2), and ends the execution; the other
provider's user gets problem details (403) at every step."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from pypdf import PdfReader

from conftest import Stack, TopicWatch, bearer, eventually, new_personnummer
from shared.contracts.casework import ORDERS_TOPIC, OrderPlaced
from shared.contracts.provider import (
    ABSENCES_TOPIC,
    AbsenceEnded,
    AbsenceRegistered,
    ExecutionEnded,
    ExecutionStarted,
)
from shared.contracts.provider import ORDERS_TOPIC as EXECUTIONS_TOPIC
from shared.events import Envelope
from shared.personnummer import luhn_checksum_digit

TODAY = date.today()


def organisation_number() -> str:
    nine = f"55{uuid.uuid4().int % 10**7:07d}"
    return f"{nine}{luhn_checksum_digit(nine)}"


async def registered_provider(http: httpx.AsyncClient, stack: Stack, admin: str) -> tuple[str, str, str]:
    """A provider with one unit and a staff user, set up over HTTP: (provider id, unit, staff token)."""
    url = stack.url("provider")
    manager_sub = f"mgr-{uuid.uuid4().hex[:8]}"
    created = await http.post(
        f"{url}/providers",
        headers=bearer(admin),
        json={
            "name": f"Omsorg {uuid.uuid4().hex[:6]} AB",
            "organisation_number": organisation_number(),
            "kind": "lov",
            "manager": {"sub": manager_sub, "name": "Maja Chef"},
        },
    )
    assert created.status_code == 201, created.text
    provider_id = created.json()["id"]
    unit = f"hemtjanst-{uuid.uuid4().hex[:8]}"
    added = await http.post(
        f"{url}/providers/{provider_id}/units",
        headers=bearer(admin),
        json={"code": unit, "name": "Hemtjänst"},
    )
    assert added.status_code == 201, added.text
    manager = await stack.token(
        "provider_manager", sub=manager_sub, name="Maja Chef", provider_id=provider_id, units=[unit]
    )
    staff_sub = f"pu-{uuid.uuid4().hex[:8]}"
    user = await http.post(
        f"{url}/providers/{provider_id}/users",
        headers=bearer(manager),
        json={"sub": staff_sub, "name": "Ulla Utförare"},
    )
    assert user.status_code == 201, user.text
    staff = await stack.token(
        "provider", sub=staff_sub, name="Ulla Utförare", provider_id=provider_id, units=[unit]
    )
    return provider_id, unit, staff


async def publish(stack: Stack, event: OrderPlaced) -> None:
    """The order on casework's topic, as casework's outbox relay would send it."""
    envelope = Envelope.new(event, "/omsorg/casework")
    producer = AIOKafkaProducer(bootstrap_servers=stack.infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            ORDERS_TOPIC,
            event.model_dump_json().encode(),
            key=event.key().encode(),
            headers=[(k, v.encode()) for k, v in envelope.headers().items()],
        )
    finally:
        await producer.stop()


def order_for(casework_url: str, provider_id: str, unit: str, pnr: str, protected: bool) -> OrderPlaced:
    document_id = uuid.uuid4()
    return OrderPlaced.model_validate(
        {
            "order_id": uuid.uuid4(),
            "decision_id": uuid.uuid4(),
            "case_id": uuid.uuid4(),
            "record_id": uuid.uuid4(),
            "provider_id": provider_id,
            "unit": unit,
            "client": {
                "person_id": uuid.uuid4(),
                "pnr": pnr,
                "name": "Signe Skyddad",
                "kundnummer": f"K{uuid.uuid4().int % 10**8:08d}",
                "address": None,
                "phone": None,
                "protected_identity": protected,
            },
            "service_code": "HT",
            "service_name": "Hemtjänst",
            "extent": "Tre besök per dag",
            "period_from": TODAY,
            "period_to": None,
            "note": "Behöver hjälp med inköp och städning.",
            "documents": [
                {
                    "document_id": document_id,
                    "filename": "Utredning.pdf",
                    "size": 10,
                    "sha256": "0" * 64,
                    "url": f"{casework_url}/order-fetch/{document_id}?token=not-valid",
                }
            ],
            "caseworker_id": "caseworker-1",
            "caseworker_name": "Marita Aronsson",
            "caseworker_unit": "Bosam SÄF",
            "placed_at": datetime.now(UTC),
        }
    )


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_an_order_from_casework_is_confirmed_absence_registered_and_execution_ended(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url = stack.url("provider")
    admin = await stack.token("admin", name="Åsa Admin", units=["testenhet"])
    provider_id, unit, staff = await registered_provider(http, stack, admin)
    _, rival_unit, rival = await registered_provider(http, stack, admin)
    pnr = new_personnummer()
    event = order_for(stack.url("casework"), provider_id, unit, pnr, protected=True)
    order_id = str(event.order_id)

    await publish(stack, event)
    await publish(stack, event)  # a redelivery, as after a relay restart

    async def unconfirmed() -> list[dict[str, Any]]:
        response = await http.get(
            f"{url}/units/{unit}/orders", params={"status": "unconfirmed"}, headers=bearer(staff)
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    [row] = await eventually(unconfirmed, timeout=20)
    assert (row["id"], row["client_name"], row["status"]) == (order_id, "Signe Skyddad", "unconfirmed")

    order = (await http.get(f"{url}/orders/{order_id}", headers=bearer(staff))).json()
    assert order["client"]["address"] is None and order["client"]["protected_identity"] is True
    assert order["note"] == "Behöver hjälp med inköp och städning."
    pdf = await http.get(f"{url}/orders/{order_id}/pdf", headers=bearer(staff))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Skyddad identitet: adressen visas inte." in text and "Kundnummer" in text
    found = await http.post(f"{url}/units/{unit}/orders/search", headers=bearer(staff), json={"query": pnr})
    assert [o["id"] for o in found.json()] == [order_id]
    # The document's link is not one casework signed: a problem, never a file.
    document = await http.get(f"{url}{order['documents'][0]['href']}", headers=bearer(staff))
    problem(document, 502)

    # The other provider's user, even with this unit in their token: refused.
    problem(await http.get(f"{url}/orders/{order_id}", headers=bearer(rival)), 403)
    problem(await http.get(f"{url}/units/{unit}/orders", headers=bearer(rival)), 403)
    rival_lists = await http.get(f"{url}/units/{rival_unit}/orders", headers=bearer(rival))
    assert order_id not in [o["id"] for o in rival_lists.json()["items"]]
    problem(await http.get(f"{url}/orders/{order_id}"), 401)

    async with (
        TopicWatch(stack, EXECUTIONS_TOPIC) as executions,
        TopicWatch(stack, ABSENCES_TOPIC) as absences,
    ):
        problem(
            await http.post(
                f"{url}/orders/{order_id}/confirm", headers=bearer(rival), json={"execution_date": str(TODAY)}
            ),
            403,
        )
        confirmed = await http.post(
            f"{url}/orders/{order_id}/confirm", headers=bearer(staff), json={"execution_date": str(TODAY)}
        )
        assert confirmed.status_code == 200, confirmed.text
        started = await executions.next(ExecutionStarted.ce_type, order_id)
        assert started["data"]["execution_date"] == str(TODAY)
        assert started["headers"]["ce_source"] == "/omsorg/provider"
        problem(
            await http.post(
                f"{url}/orders/{order_id}/confirm",
                headers=bearer(staff),
                json={"execution_date": str(TODAY + timedelta(days=1))},
            ),
            409,
        )

        registered = await http.post(
            f"{url}/orders/{order_id}/absences",
            headers=bearer(staff),
            json={
                "reason": "Sjukhusvistelse",
                "planned": False,
                "description": "Inlagd",
                "from_date": str(TODAY),
            },
        )
        assert registered.status_code == 201, registered.text
        absence = registered.json()
        told = await absences.next(AbsenceRegistered.ce_type, order_id)
        assert (told["data"]["absence_id"], told["data"]["version"]) == (absence["id"], 1)
        box = await http.get(
            f"{url}/units/{unit}/absences", params={"current": "true"}, headers=bearer(staff)
        )
        assert absence["id"] in [a["id"] for a in box.json()["items"]]
        problem(
            await http.patch(
                f"{url}/absences/{absence['id']}", headers=bearer(rival), json={"to_date": str(TODAY)}
            ),
            403,
        )
        ended = await http.patch(
            f"{url}/absences/{absence['id']}",
            headers=bearer(staff),
            json={"to_date": str(TODAY + timedelta(days=2))},
        )
        assert ended.status_code == 200 and ended.json()["version"] == 2, ended.text
        told = await absences.next(AbsenceEnded.ce_type, order_id)
        assert (told["data"]["to_date"], told["data"]["version"]) == (str(TODAY + timedelta(days=2)), 2)

        not_sure = await http.post(
            f"{url}/orders/{order_id}/end",
            headers=bearer(staff),
            json={"end_date": str(TODAY + timedelta(days=3)), "reason": "Flyttat", "confirm": False},
        )
        problem(not_sure, 422)
        done = await http.post(
            f"{url}/orders/{order_id}/end",
            headers=bearer(staff),
            json={"end_date": str(TODAY + timedelta(days=3)), "reason": "Flyttat", "confirm": True},
        )
        assert done.status_code == 200 and done.json()["status"] == "ended", done.text
        over = await executions.next(ExecutionEnded.ce_type, order_id)
        assert (over["data"]["end_date"], over["data"]["reason"]) == (
            str(TODAY + timedelta(days=3)),
            "Flyttat",
        )

    # The redelivered OrderPlaced added nothing.
    every = await http.get(f"{url}/units/{unit}/orders", headers=bearer(staff))
    assert [o["id"] for o in every.json()["items"]] == [order_id]
    assert json.dumps(every.json()).count(pnr) == 1
