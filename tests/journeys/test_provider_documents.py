"""Documents per assignment (PR-10) end to end: the setup of journey 9
(tests/journeys/test_orders.py: two providers A and B, a granted service ordered
from A's unit and confirmed). A's staff write a genomförandeplan, change it,
write-protect it (a change is then 409), print it (no address), and send it to
the citizen's e-service → ProviderDocumentDeliveryRequested → messaging fetches
the PDF through provider's capability URL and delivers it as a message from the
staff member → the citizen finds it with the PDF and fetches it, an SMS alert
reaches the local SMS gateway, and provider marks the document delivered. B's
staff are refused every document of A's (403, audited). A journal note made
from a message keeps the message's reference. Real services, Kafka and
PostgreSQL."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx

from conftest import Stack, TopicWatch, bankid_login, bearer, eventually, journey_module

DEV_SMS = "http://127.0.0.1:8107"
DOCUMENT_ALERT = "Du har fått ett nytt dokument från Omsorg. Logga in i e-tjänsten för att läsa det."
REQUESTED = "se.omsorg.provider.document.e-service-delivery-requested.v1"
PROBLEM = "application/problem+json"


orders = journey_module("test_orders.py")  # journey 9, whose set-up this one reuses


async def with_sms_alerts(http: httpx.AsyncClient, stack: Stack, client: Any) -> tuple[str, str]:
    """The client's message function on with SMS alerts to a fresh mobile, once
    messaging knows them: (citizen token, mobile E.164)."""
    digits = f"{random.randint(0, 99_999_999):08d}"
    typed, mobile = f"070{digits[1:]}", f"+4670{digits[1:]}"
    person_url = f"{stack.url('casework')}/persons/{client.link['person_id']}"
    patched = await http.patch(person_url, headers=bearer(client.caseworker), json={"phone1": typed})
    assert patched.status_code == 200, patched.text
    settings = {"messages_enabled": True, "sms_alerts": True, "sms_phone": 1}
    response = await http.put(f"{person_url}/e-service", headers=bearer(client.caseworker), json=settings)
    assert response.status_code == 200, response.text
    citizen = await bankid_login(http, stack, client.pnr, client.name)

    async def known() -> bool:
        mailbox = await http.get(f"{stack.url('messaging')}/e-service/mailbox", headers=bearer(citizen))
        return mailbox.status_code == 200

    await eventually(known)
    return citizen, mobile


async def test_a_plan_is_written_protected_and_sent_to_the_citizens_e_service(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    provider, messaging = stack.url("provider"), stack.url("messaging")
    a = await orders.registered_provider(http, stack, "A")
    b = await orders.registered_provider(http, stack, "B")
    client = await orders.decided_client(http, stack, name="Annika Plan")
    citizen, mobile = await with_sms_alerts(http, stack, client)
    order = await orders.ordered(http, stack, client, a)
    await orders.arrived(http, stack, a, order["id"])

    # Not yet confirmed: the assignment has no documents.
    early = await http.post(
        f"{provider}/orders/{order['id']}/documents",
        headers=bearer(a.user),
        json={
            "doc_type": "Genomförandeplan SoL",
            "title": "För tidig",
            "date": str(orders.TODAY),
            "text": "x",
        },
    )
    assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
    confirmed = await orders.confirm(http, stack, a.user, order["id"], orders.TODAY)
    assert confirmed.status_code == 200, confirmed.text

    # A genomförandeplan written, corrected, write-protected: then no change any more.
    written = await http.post(
        f"{provider}/orders/{order['id']}/documents",
        headers=bearer(a.user),
        json={
            "doc_type": "Genomförandeplan SoL",
            "title": "Genomförandeplan trygghetslarm",
            "date": str(orders.TODAY),
            "text": "Mål: känna sig trygg hemma.\nLarmet testas varje månad.",
        },
    )
    assert written.status_code == 201, written.text
    document = written.json()
    changed = await http.patch(
        f"{provider}/documents/{document['id']}",
        headers=bearer(a.user),
        json={"text": "Mål: känna sig trygg hemma.\nLarmet testas varannan vecka."},
    )
    assert changed.status_code == 200, changed.text
    protected = await http.post(
        f"{provider}/documents/{document['id']}/write-protect", headers=bearer(a.user)
    )
    assert protected.status_code == 200 and protected.json()["write_protected"], protected.text
    refused_change = await http.patch(
        f"{provider}/documents/{document['id']}", headers=bearer(a.user), json={"title": "Ändrad"}
    )
    assert refused_change.status_code == 409 and refused_change.headers["content-type"] == PROBLEM
    listed = await http.get(f"{provider}/orders/{order['id']}/documents", headers=bearer(a.user))
    assert [d["id"] for d in listed.json()["items"]] == [document["id"]]
    printed = await http.get(f"{provider}/documents/{document['id']}/pdf", headers=bearer(a.user))
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    text = orders.pdf_text(printed.content)
    assert "Genomförandeplan trygghetslarm" in text and "varannan vecka" in text and client.name in text
    assert "Adress" not in text

    # Sent to the e-service: the request on Kafka names nobody in its key or headers.
    async with TopicWatch(stack, "provider.orders.v1") as topic:
        sent = await http.post(
            f"{provider}/documents/{document['id']}/send-to-e-service",
            headers=bearer(a.user),
            json={"subject": "Din genomförandeplan"},
        )
        assert sent.status_code == 200, sent.text
        requested = await topic.next(REQUESTED, order["id"])
    assert sent.json()["delivery_id"] == requested["data"]["delivery_id"]
    assert "/document-fetch/" in requested["data"]["file"]["url"]
    for personal in (client.pnr, client.pnr[2:], client.name):
        assert personal not in json.dumps({"key": requested["key"], "headers": requested["headers"]})
    again = await http.post(
        f"{provider}/documents/{document['id']}/send-to-e-service", headers=bearer(a.user)
    )
    assert again.status_code == 409, again.text

    # The citizen finds the message from the provider's staff member, with the PDF.
    async def arrived_message() -> list[dict[str, Any]] | None:
        response = await http.get(f"{messaging}/e-service/messages", headers=bearer(citizen))
        assert response.status_code == 200, response.text
        return [m for m in response.json() if m["subject"] == "Din genomförandeplan"] or None

    [summary] = await eventually(arrived_message, timeout=30)
    opened = await http.get(f"{messaging}/e-service/messages/{summary['id']}", headers=bearer(citizen))
    assert opened.status_code == 200, opened.text
    assert opened.json()["author"]["name"] == "Ulla Utförare A"
    assert opened.json()["author"]["role"] == "provider"  # written as provider staff, not a caseworker
    [attachment] = opened.json()["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == (
        "Genomförandeplan trygghetslarm.pdf",
        "application/pdf",
    )
    downloaded = await http.get(
        f"{messaging}/e-service/messages/{summary['id']}/attachments/{attachment['id']}",
        headers=bearer(citizen),
    )
    assert downloaded.status_code == 200, downloaded.text
    kept = await http.get(f"{provider}/documents/{document['id']}/pdf", headers=bearer(a.user))
    assert downloaded.content == kept.content and "varannan vecka" in orders.pdf_text(downloaded.content)

    # Provider marks it delivered; the capability URL is spent.
    async def delivered() -> dict[str, Any] | None:
        response = await http.get(f"{provider}/documents/{document['id']}", headers=bearer(a.user))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["delivered_at"] else None

    await eventually(delivered, timeout=30)
    spent = await http.get(requested["data"]["file"]["url"])
    assert spent.status_code == 403, spent.text

    # Notify alerts the citizen by SMS (never what the document says).
    async def alerted() -> list[dict[str, Any]] | None:
        response = await http.get(f"{DEV_SMS}/messages", params={"to": mobile})
        assert response.status_code == 200, response.text
        return list(response.json()) or None

    [sms] = await eventually(alerted, timeout=30, interval=0.3)
    assert sms["message"] == DOCUMENT_ALERT

    # A journal note made from a message keeps the message's reference.
    note = await http.post(
        f"{provider}/orders/{order['id']}/documents",
        headers=bearer(a.user),
        json={
            "doc_type": "Journalanteckning",
            "title": "Från meddelande",
            "date": str(orders.TODAY),
            "text": "Dottern hör av sig inför nästa uppföljning.",
            "message_id": summary["id"],
        },
    )
    assert note.status_code == 201, note.text
    assert note.json()["message_id"] == summary["id"]

    # B's staff reach none of A's documents; every refusal is audited with the client.
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/documents/{document['id']}", None),
        ("GET", f"/documents/{document['id']}/pdf", None),
        ("PATCH", f"/documents/{note.json()['id']}", {"title": "x"}),
        ("POST", f"/documents/{note.json()['id']}/write-protect", None),
        ("POST", f"/documents/{note.json()['id']}/send-to-e-service", None),
        ("GET", f"/orders/{order['id']}/documents", None),
        (
            "POST",
            f"/orders/{order['id']}/documents",
            {"doc_type": "Övrigt", "title": "x", "date": str(orders.TODAY), "text": "x"},
        ),
    ]
    for method, path, body in calls:
        response = await http.request(method, f"{provider}{path}", headers=bearer(b.user), json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM
    refused = await orders.refusals(http, stack, "provider", client.pnr, b.user_sub)
    assert {(e["action"], e["object_id"]) for e in refused} >= {
        ("read", document["id"]),
        ("update", note.json()["id"]),
    }
