"""Documents and their delivery to the e-service (CW-10, MS-10; issue 9): a
caseworker writes a "Kallelse till hembesök" from the template, filled with the
citizen's data, and sends it as a PDF to the citizen's e-service in one step.
Messaging fetches the PDF from casework through the capability URL, the citizen
finds the message from the caseworker with the PDF attached and downloads the
same bytes, notify alerts the citizen by SMS, and casework marks the document
delivered. A write-protected document is not changed; a template field that is
missing is named; an e-service that is off answers "send by post"; another
unit's caseworker is refused and audited; a replayed delivery request makes no
second message. Real services, Kafka, PostgreSQL and the SMS gateway."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from conftest import (
    Stack,
    TopicWatch,
    bankid_login,
    bearer,
    eventually,
    linked_person,
    new_personnummer,
)

DEV_SMS = "http://127.0.0.1:8107"
DOCUMENT_ALERT = "Du har fått ett nytt dokument från Omsorg. Logga in i e-tjänsten för att läsa det."
REQUESTED = "se.omsorg.casework.document.e-service-delivery-requested.v1"
DONE = "se.omsorg.messaging.delivery.done.v1"
PROBLEM = "application/problem+json"
VISIT = {"template": "Kallelse till hembesök", "fields": {"datum": "2026-12-03", "tid": "10:00"}}


def new_mobile() -> tuple[str, str]:
    """A random Swedish mobile number: (as a person types it, E.164)."""
    digits = f"{random.randint(0, 99_999_999):08d}"
    return f"070{digits[1:]}", f"+4670{digits[1:]}"


async def with_e_service(
    http: httpx.AsyncClient, stack: Stack, name: str, *, messages: bool = True
) -> tuple[dict[str, Any], str, str, str]:
    """A linked citizen, the message function on (or off) with SMS alerts to phone 1,
    once messaging knows them: (link, caseworker token, citizen token, mobile E.164)."""
    pnr = new_personnummer()
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name=name)
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"
    typed, mobile = new_mobile()
    assert (
        await http.patch(person_url, headers=bearer(caseworker), json={"phone1": typed})
    ).status_code == 200
    settings = {"messages_enabled": True, "sms_alerts": True, "sms_phone": 1} if messages else {}
    if messages:
        response = await http.put(f"{person_url}/e-service", headers=bearer(caseworker), json=settings)
        assert response.status_code == 200, response.text
    citizen = await bankid_login(http, stack, pnr, name)
    if messages:

        async def known() -> bool:
            response = await http.get(f"{stack.url('messaging')}/e-service/mailbox", headers=bearer(citizen))
            return response.status_code == 200

        await eventually(known)
    return link, caseworker, citizen, mobile


async def new_document(
    http: httpx.AsyncClient, stack: Stack, caseworker: str, link: dict[str, Any], body: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        f"{stack.url('casework')}/persons/{link['person_id']}/documents",
        headers=bearer(caseworker),
        json={"record_id": link["record_id"], **body},
    )


async def inbox(http: httpx.AsyncClient, stack: Stack, citizen: str) -> list[dict[str, Any]]:
    response = await http.get(f"{stack.url('messaging')}/e-service/messages", headers=bearer(citizen))
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_document_from_a_template_reaches_the_citizens_e_service_as_a_pdf_in_one_step(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    casework, messaging = stack.url("casework"), stack.url("messaging")
    link, caseworker, citizen, mobile = await with_e_service(http, stack, "Annika Larsson")

    created = await new_document(http, stack, caseworker, link, VISIT)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["title"] == "Kallelse till hembesök" and document["text"].startswith("Annika Larsson\n")
    assert "Tid: 3 december 2026 klockan 10.00" in document["text"]
    preview = await http.get(f"{casework}/documents/{document['id']}/pdf", headers=bearer(caseworker))
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")

    sent = await http.post(
        f"{casework}/documents/{document['id']}/send-to-e-service", headers=bearer(caseworker)
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["write_protected"] and sent.json()["delivery"]["status"] == "requested"

    # The citizen finds the message from the caseworker, the PDF attached.
    [summary] = await eventually(lambda: inbox(http, stack, citizen), timeout=20)
    assert summary["subject"] == "Kallelse till hembesök"
    opened = await http.get(f"{messaging}/e-service/messages/{summary['id']}", headers=bearer(citizen))
    assert opened.status_code == 200, opened.text
    message = opened.json()
    assert message["author"]["name"] == "Marita Aronsson"
    [attachment] = message["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == (
        "Kallelse till hembesök.pdf",
        "application/pdf",
    )
    downloaded = await http.get(
        f"{messaging}/e-service/messages/{summary['id']}/attachments/{attachment['id']}",
        headers=bearer(citizen),
    )
    filed = await http.get(f"{casework}/documents/{document['id']}", headers=bearer(caseworker))
    assert downloaded.status_code == 200 and downloaded.content == filed.content
    assert filed.content.startswith(b"%PDF")

    # Casework marks the document delivered, with the message.
    async def delivered() -> dict[str, Any] | None:
        response = await http.get(
            f"{casework}/documents/{document['id']}/details", headers=bearer(caseworker)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["delivery"]["status"] == "delivered" else None

    done = await eventually(delivered, timeout=20)
    assert done["delivery"]["message_id"] == summary["id"]

    # Write-protected: no change any more.
    changed = await http.patch(
        f"{casework}/documents/{document['id']}", headers=bearer(caseworker), json={"title": "Ändrad"}
    )
    assert changed.status_code == 409 and changed.headers["content-type"] == PROBLEM

    # Notify alerts the citizen that a document arrived (never what it is).
    async def alerted() -> list[dict[str, Any]] | None:
        response = await http.get(f"{DEV_SMS}/messages", params={"to": mobile})
        assert response.status_code == 200, response.text
        items = list(response.json())
        return items or None

    [sms] = await eventually(alerted, timeout=30, interval=0.3)
    assert sms["message"] == DOCUMENT_ALERT


async def test_bad_input_and_another_unit_are_refused(stack: Stack, http: httpx.AsyncClient) -> None:
    casework = stack.url("casework")
    link, caseworker, _, _ = await with_e_service(http, stack, "Bertil Post", messages=False)

    # A template field that is missing is named.
    missing = await new_document(
        http, stack, caseworker, link, {"template": "Kallelse till hembesök", "fields": {}}
    )
    assert missing.status_code == 422 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["field"] == "fields.datum" and set(missing.json()["fields"]) == {"datum", "tid"}

    # An e-service that is not active: a clear answer, send it by post.
    document = (await new_document(http, stack, caseworker, link, VISIT)).json()
    by_post = await http.post(
        f"{casework}/documents/{document['id']}/send-to-e-service", headers=bearer(caseworker)
    )
    assert by_post.status_code == 409 and "send the document by post" in by_post.json()["detail"]
    assert by_post.json()["delivery"] == "post"
    unchanged = await http.get(f"{casework}/documents/{document['id']}/details", headers=bearer(caseworker))
    assert not unchanged.json()["write_protected"] and unchanged.json()["delivery"] is None

    # Another unit's caseworker reaches none of it; every refusal is audited.
    other_sub = f"cw-{uuid.uuid4().hex[:8]}"
    other = await stack.token("caseworker", sub=other_sub, name="Annan Enhet", units=["annanenhet"])
    attempts = [
        ("GET", f"{casework}/documents/{document['id']}", None),
        ("GET", f"{casework}/documents/{document['id']}/details", None),
        ("PATCH", f"{casework}/documents/{document['id']}", {"title": "x"}),
        ("POST", f"{casework}/documents/{document['id']}/write-protect", None),
        ("POST", f"{casework}/documents/{document['id']}/send-to-e-service", None),
        (
            "POST",
            f"{casework}/persons/{link['person_id']}/documents",
            {"doc_type": "Brev", "title": "x", "text": "x"},
        ),
    ]
    for method, url, body in attempts:
        response = await http.request(method, url, headers=bearer(other), json=body)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"] == PROBLEM
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = (
        await http.get(f"{casework}/persons/{link['person_id']}/access-log", headers=bearer(reviewer))
    ).json()
    refused = [e for e in log if e["actor"] == other_sub]
    assert len(refused) == len(attempts) and {e["outcome"] for e in refused} == {"refused"}
    assert {e["object_type"] for e in refused} == {"document"}


async def test_a_replayed_delivery_request_creates_no_second_message(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    casework = stack.url("casework")
    link, caseworker, citizen, _ = await with_e_service(http, stack, "Cecilia Om")
    document = (
        await new_document(
            http, stack, caseworker, link, {"doc_type": "Brev", "title": "Om ditt ärende", "text": "Hej!"}
        )
    ).json()

    async with (
        TopicWatch(stack, "casework.cases.v1") as cases,
        TopicWatch(stack, "messaging.messages.v1") as answers,
    ):
        sent = await http.post(
            f"{casework}/documents/{document['id']}/send-to-e-service", headers=bearer(caseworker)
        )
        assert sent.status_code == 202, sent.text
        request = await cases.next(REQUESTED, link["record_id"], timeout=20)
        [message] = await eventually(lambda: inbox(http, stack, citizen), timeout=20)
        mailbox_key = await _done_key(answers, request["data"]["delivery_id"])

        # The same request again, as a replayed dead letter or a producer's retry
        # would bring it: a new event id, the same delivery.
        headers = {**request["headers"], "ce_id": str(uuid.uuid4())}
        producer = AIOKafkaProducer(bootstrap_servers=stack.infra.kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                "casework.cases.v1",
                json.dumps(request["data"]).encode(),
                key=request["key"].encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        finally:
            await producer.stop()
        again = await answers.next(DONE, mailbox_key, timeout=20)

    assert again["data"]["delivery_id"] == request["data"]["delivery_id"]
    assert again["data"]["message_id"] == message["id"]
    assert [m["id"] for m in await inbox(http, stack, citizen)] == [message["id"]]


async def _done_key(answers: TopicWatch, delivery_id: str) -> str:
    """The Kafka key (the e-service mailbox) of the EServiceDeliveryDone for this delivery."""
    deadline = asyncio.get_running_loop().time() + 20
    while asyncio.get_running_loop().time() < deadline:
        batches = await answers.consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for record in records:
                headers = {k: v.decode() for k, v in record.headers}
                if headers.get("ce_type") == DONE and json.loads(record.value)["delivery_id"] == delivery_id:
                    return str(record.key.decode())
    raise AssertionError("messaging did not answer the delivery")
