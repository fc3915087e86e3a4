"""A delivery messaging refuses is answered (EServiceDeliveryRefused), end to end:
the setup of journey 9 (tests/journeys/test_orders.py: a granted service ordered
from a provider's unit and confirmed) for a client WITHOUT an active e-service.
The unit's staff write a plan and send it to the e-service (provider cannot see
whether the client has one) → ProviderDocumentDeliveryRequested → messaging
refuses it and answers on messaging.messages.v1, keyed by the person's id and
with a fixed reason (no personal data) → provider's document view shows the
delivery refused with its reason: it must go by post. Real services, Kafka and
PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx

from conftest import Stack, TopicWatch, bearer, eventually, journey_module

REFUSED = "se.omsorg.messaging.delivery.refused.v1"
NO_E_SERVICE = "the person has no e-service"


orders = journey_module("test_orders.py")  # journey 9, whose set-up this one reuses


async def test_a_document_for_a_client_without_an_e_service_shows_the_delivery_refused(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider = stack.url("provider")
    a = await orders.registered_provider(http, stack, "A")
    client = await orders.decided_client(http, stack, name="Rune Refused", e_service=False)
    order = await orders.ordered(http, stack, client, a)
    await orders.arrived(http, stack, a, order["id"])
    confirmed = await orders.confirm(http, stack, a.user, order["id"], orders.TODAY)
    assert confirmed.status_code == 200, confirmed.text
    written = await http.post(
        f"{provider}/orders/{order['id']}/documents",
        headers=bearer(a.user),
        json={
            "doc_type": "Genomförandeplan SoL",
            "title": "Genomförandeplan hemtjänst",
            "date": str(orders.TODAY),
            "text": "Mål: klara morgonen själv.",
        },
    )
    assert written.status_code == 201, written.text
    document = written.json()

    person_id = client.link["person_id"]
    async with TopicWatch(stack, "messaging.messages.v1") as topic:
        sent = await http.post(
            f"{provider}/documents/{document['id']}/send-to-e-service", headers=bearer(a.user)
        )
        assert sent.status_code == 200, sent.text
        answer = await topic.next(REFUSED, person_id, timeout=30)
    assert (answer["data"]["delivery_id"], answer["data"]["document_id"], answer["data"]["reason"]) == (
        sent.json()["delivery_id"],
        document["id"],
        NO_E_SERVICE,
    )
    for personal in (client.pnr, client.pnr[2:], client.name):
        assert personal not in json.dumps(answer)

    # The unit sees the document was not delivered, and why: it goes by post.
    async def refused() -> dict[str, Any] | None:
        response = await http.get(f"{provider}/documents/{document['id']}", headers=bearer(a.user))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["delivery_refused_at"] else None

    shown = await eventually(refused, timeout=30)
    assert (shown["delivery_refused_reason"], shown["delivered_at"]) == (NO_E_SERVICE, None)
