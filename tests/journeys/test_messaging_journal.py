"""Journey 7 — Journal a message (MS-9, CW-11, CW-12): a citizen writes to their
caseworker with an attachment; the caseworker journals the message into the
citizen's intake record; casework shows the journal entry attributed to the real
author, the attachment filed as a document of the record (the same bytes), and
messaging shows the message journaled. A message a related person wrote names
the related person. Journaling into a record of another unit is refused,
audited, and writes nothing. The retention rule's dry run lists only journaled
messages. Real services, Kafka and PostgreSQL."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from conftest import (
    Stack,
    TopicWatch,
    bankid_login,
    bearer,
    e_service_citizen,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
)

REQUESTED = "se.omsorg.messaging.message.journal-requested.v1"
JOURNALED = "se.omsorg.casework.journal.message-journaled.v1"
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
PROBLEM = "application/problem+json"
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + os.urandom(300_000) + b"%%EOF\n"
)


async def journaled(http: httpx.AsyncClient, stack: Stack, token: str, message_id: str) -> dict[str, Any]:
    async def status() -> dict[str, Any] | None:
        response = await http.get(
            f"{stack.url('messaging')}/messages/{message_id}/journal", headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        body = dict(response.json())
        return body if body["journaled"] else None

    return dict(await eventually(status, timeout=20))


async def record_journal(
    http: httpx.AsyncClient, stack: Stack, token: str, record_id: str
) -> list[dict[str, Any]]:
    response = await http.get(
        f"{stack.url('casework')}/intake-records/{record_id}/journal", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


async def test_the_caseworker_journals_a_citizens_message_and_its_attachment(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, citizen = await e_service_citizen(http, stack, pnr, "Annika Test")
    messaging, casework = stack.url("messaging"), stack.url("casework")

    # The citizen writes, with a PDF.
    uploaded = await http.put(
        f"{messaging}/attachments",
        params={"filename": "Registrera Samtycke.pdf"},
        content=PDF,
        headers={**bearer(citizen), "content-type": "application/pdf"},
    )
    assert uploaded.status_code == 201, uploaded.text
    response = await http.post(
        f"{messaging}/e-service/messages",
        headers=bearer(citizen),
        json={
            "subject": "Samtycke",
            "body": "<p>Bifogar en fil</p>",
            "attachment_ids": [uploaded.json()["id"]],
        },
    )
    assert response.status_code == 201, response.text
    message_id = response.json()["id"]

    # Journalför, into the citizen's intake record.
    async with (
        TopicWatch(stack, "messaging.messages.v1") as requests,
        TopicWatch(stack, "casework.journal.v1") as answers,
    ):
        response = await http.post(
            f"{messaging}/messages/{message_id}/journal",
            headers=bearer(caseworker),
            json={
                "record_id": link["record_id"],
                "entry_type": "Inkommen handling",
                "sender": "Den enskilde",
                "title": "Samtycke från klient",
                "date": TODAY.isoformat(),
            },
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "requested"
        request = await requests.next(REQUESTED, message_id)
        answer = await answers.next(JOURNALED, message_id, timeout=20)
    # Keys and headers are ids and the envelope; the content only in the value.
    outside = str({"key": request["key"], "headers": request["headers"]})
    for personal in (pnr, pnr[2:], "Annika", "Samtycke", "Bifogar"):
        assert personal not in outside
    assert request["data"]["text"] == "Bifogar en fil"

    # Casework: the entry, attributed to the citizen, the PDF filed under the record.
    [entry] = await record_journal(http, stack, caseworker, link["record_id"])
    assert entry["id"] == answer["data"]["journal_entry_id"]
    assert (entry["entry_type"], entry["sender"], entry["title"], entry["date"]) == (
        "Inkommen handling",
        "Den enskilde",
        "Samtycke från klient",
        TODAY.isoformat(),
    )
    assert entry["author"]["role"] == "citizen"
    assert entry["author"]["label"] == f"Annika Test ({pnr[:8]}-{pnr[8:]})"
    assert entry["text"] == "Bifogar en fil" and entry["subject"] == "Samtycke"
    [document] = entry["documents"]
    assert (document["title"], document["content_type"]) == ("Registrera Samtycke.pdf", "application/pdf")
    record = await http.get(f"{casework}/intake-records/{link['record_id']}", headers=bearer(caseworker))
    assert document["id"] in [d["id"] for d in record.json()["documents"]]
    filed = await http.get(f"{casework}/documents/{document['id']}", headers=bearer(caseworker))
    assert filed.status_code == 200 and filed.content == PDF

    # Messaging: the message is journaled, into that record.
    status = await journaled(http, stack, caseworker, message_id)
    [done] = status["requests"]
    assert (done["record_id"], done["status"], done["journal_entry_id"]) == (
        link["record_id"],
        "journaled",
        entry["id"],
    )

    # The capability link is spent once the message is journaled.
    [file] = request["data"]["attachments"]
    spent = await http.get(file["url"])
    assert spent.status_code == 403 and spent.headers["content-type"] == PROBLEM

    # Journaling it into the same record again is a conflict.
    again = await http.post(
        f"{messaging}/messages/{message_id}/journal",
        headers=bearer(caseworker),
        json={"record_id": link["record_id"], "entry_type": "Inkommen handling"},
    )
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM

    # The retention rule's dry run: administrators only; lists only journaled messages.
    forbidden = await http.post(f"{messaging}/admin/retention", headers=bearer(caseworker))
    assert forbidden.status_code == 403
    admin = await stack.token("messaging_admin", name="Ada Admin", units=["kansliet"])
    dry = await http.post(f"{messaging}/admin/retention", headers=bearer(admin), params={"dry_run": "true"})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and message_id not in [
        m["message_id"] for m in dry.json()["messages"]
    ]


async def test_a_message_a_related_person_wrote_is_journaled_in_their_name(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr, related_pnr = new_personnummer(), new_personnummer()
    link, caseworker, _ = await e_service_citizen(http, stack, pnr, "Annika Test")
    messaging = stack.url("messaging")
    await investigation_started(http, stack, link, caseworker)  # approvals only from then on (CW-7)
    response = await http.post(
        f"{stack.url('casework')}/persons/{link['person_id']}/approvals",
        headers=bearer(caseworker),
        json={
            "related_personnummer": related_pnr,
            "related_name": "Josefine Test",
            "valid_from": TODAY.isoformat(),
            "consent_registered": True,
        },
    )
    assert response.status_code == 201, response.text
    approval = response.json()["id"]
    related = await bankid_login(http, stack, related_pnr, "Josefine Test")

    async def written() -> httpx.Response | None:
        response = await http.post(
            f"{messaging}/e-service/messages",
            headers=bearer(related),
            params={"acting_for": approval},
            json={"subject": "För mamma", "body": "Mamma vill byta tid."},
        )
        return response if response.status_code == 201 else None

    message_id = (await eventually(written)).json()["id"]
    response = await http.post(
        f"{messaging}/messages/{message_id}/journal",
        headers=bearer(caseworker),
        json={"record_id": link["record_id"], "entry_type": "Inkommen handling", "sender": "Närstående"},
    )
    assert response.status_code == 202, response.text
    await journaled(http, stack, caseworker, message_id)

    [entry] = await record_journal(http, stack, caseworker, link["record_id"])
    assert entry["author"]["role"] == "related_person" and entry["author"]["on_behalf_of"] == "Annika Test"
    assert entry["author"]["label"] == (
        f"Josefine Test ({related_pnr[:8]}-{related_pnr[8:]}), närstående för Annika Test"
    )
    assert entry["sender"] == "Närstående" and entry["text"] == "Mamma vill byta tid."


async def test_journaling_into_a_record_of_another_unit_is_refused_and_audited(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, citizen = await e_service_citizen(http, stack, pnr, "Annika Test")
    messaging = stack.url("messaging")
    # Another unit's intake record of the same citizen (a second application, linked there).
    other, other_caseworker, _ = await linked_person(http, stack, pnr, unit="annan-enhet")
    assert other["person_id"] == link["person_id"]
    response = await http.post(
        f"{messaging}/e-service/messages", headers=bearer(citizen), json={"subject": "Fråga", "body": "Hej"}
    )
    assert response.status_code == 201, response.text
    message_id = response.json()["id"]

    async def messaging_knows_the_other_record() -> bool:
        response = await http.post(
            f"{messaging}/messages/{message_id}/journal",
            headers=bearer(caseworker),
            json={"record_id": other["record_id"], "entry_type": "Inkommen handling"},
        )
        return response.status_code == 403

    await eventually(messaging_knows_the_other_record)
    status = await http.get(f"{messaging}/messages/{message_id}/journal", headers=bearer(caseworker))
    assert status.json()["requests"] == [] and status.json()["journaled"] is False
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = await http.post(
        f"{messaging}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr}
    )
    refusals = [e for e in log.json() if e["outcome"] == "refused" and e["action"] == "journal"]
    assert refusals and refusals[0]["object_id"] == message_id
    del other_caseworker
