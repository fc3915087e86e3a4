"""Journey 5 — Message the citizen (up to the delivery event), and journey 6 — the
citizen replies: the caseworker who linked the citizen's application activates
the e-service and writes to the citizen; the citizen reads it after a BankID
login, and `MessageDeliveredToEService` (ids only) is on Kafka for notify; the
citizen's reply lands in the caseworker's inbox with the personnummer after the
name. Bad input answers problem details and writes nothing; an access matrix
over mailboxes and messages, each refusal audit-logged. Real services, Kafka and
PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from conftest import (
    Stack,
    TopicWatch,
    bankid_login,
    bearer,
    caseworker_token,
    e_service_citizen,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
)

DELIVERED = "se.omsorg.messaging.message.delivered-to-e-service.v1"
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
PROBLEM = "application/problem+json"


def sub_of(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def shown(name: str, pnr: str) -> str:
    return f"{name} ({pnr[:8]}-{pnr[8:]})"


async def own_mailbox(http: httpx.AsyncClient, stack: Stack, token: str, kind: str = "personal") -> str:
    response = await http.get(f"{stack.url('messaging')}/mailboxes", headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(next(m["id"] for m in response.json() if m["kind"] == kind))


async def folder(
    http: httpx.AsyncClient, stack: Stack, token: str, mailbox_id: str, name: str = "inbox"
) -> list[dict[str, Any]]:
    response = await http.get(
        f"{stack.url('messaging')}/mailboxes/{mailbox_id}/messages",
        headers=bearer(token),
        params={"folder": name},
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def refused(http: httpx.AsyncClient, stack: Stack, pnr: str, actor: str) -> list[dict[str, Any]]:
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    response = await http.post(
        f"{stack.url('messaging')}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr}
    )
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["actor"] == actor and e["outcome"] == "refused"]


async def test_the_caseworker_writes_to_the_citizen_who_reads_and_replies(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, citizen = await e_service_citizen(http, stack, pnr, "Annika Test")
    messaging = stack.url("messaging")
    box = await own_mailbox(http, stack, caseworker)

    # Till klient: found only because the message function is on, personnummer after the name.
    found = await http.post(
        f"{messaging}/recipients/search",
        headers=bearer(caseworker),
        json={"query": pnr, "kind": "citizen"},
    )
    assert found.json() == [
        {"kind": "citizen", "id": link["person_id"], "label": shown("Annika Test", pnr), "unit": None}
    ]

    async with TopicWatch(stack, "messaging.messages.v1") as messages:
        response = await http.post(
            f"{messaging}/messages",
            headers=bearer(caseworker),
            json={
                "from_mailbox_id": box,
                "to_client": link["person_id"],
                "subject": "Påminnelse av mötestid",
                "body": "<p>Torsdag kl 14.00 har vi nästa möte.</p><script>alert(1)</script>",
                "read_receipt": True,
            },
        )
        assert response.status_code == 201, response.text
        sent = response.json()
        event = await messages.next(DELIVERED, sent["client"]["id"])
    assert sent["body"] == "<p>Torsdag kl 14.00 har vi nästa möte.</p>"
    assert event["data"] == {
        "message_id": sent["id"],
        "mailbox_id": sent["client"]["id"],
        "person_id": link["person_id"],
        "kind": "message",
        "delivered_at": event["data"]["delivered_at"],
    }
    outside = json.dumps({"key": event["key"], "headers": event["headers"]})
    for personal in (pnr, pnr[2:], "Annika", "Påminnelse", "Torsdag"):
        assert personal not in outside

    # The citizen reads it in the e-service.
    inbox = (await http.get(f"{messaging}/e-service/messages", headers=bearer(citizen))).json()
    assert [(m["id"], m["unread"], m["from_label"]) for m in inbox] == [(sent["id"], True, "Marita Aronsson")]
    opened = await http.get(f"{messaging}/e-service/messages/{sent['id']}", headers=bearer(citizen))
    assert opened.status_code == 200 and opened.json()["subject"] == "Påminnelse av mötestid"
    mailbox = (await http.get(f"{messaging}/e-service/mailbox", headers=bearer(citizen))).json()
    assert mailbox["unread"] == 0

    # The reply lands in the caseworker's inbox, the personnummer after the name.
    response = await http.post(
        f"{messaging}/e-service/messages/{sent['id']}/reply",
        headers=bearer(citizen),
        json={"body": "<p>Det passar bra.</p>"},
    )
    assert response.status_code == 201, response.text
    reply = response.json()
    lines = {m["id"]: m for m in await folder(http, stack, caseworker, box)}
    assert lines[reply["id"]]["from_label"] == shown("Annika Test", pnr)
    assert (
        lines[reply["id"]]["unread"] is True and lines[reply["id"]]["subject"] == "Sv: Påminnelse av mötestid"
    )
    receipt = next(m for m in lines.values() if m["kind"] == "receipt")  # läskvitto
    assert receipt["subject"] == "Läskvitto: Påminnelse av mötestid"
    overview = (await http.get(f"{messaging}/mailboxes", headers=bearer(caseworker))).json()
    assert next(m for m in overview if m["id"] == box)["unread"] == 2
    read = await http.get(f"{messaging}/messages/{reply['id']}", headers=bearer(caseworker))
    assert read.status_code == 200
    assert (
        read.json()["from_label"] == shown("Annika Test", pnr) and read.json()["author"]["role"] == "citizen"
    )


async def test_bad_input_answers_problem_details_and_writes_nothing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, citizen = await e_service_citizen(http, stack, pnr, "Annika Test")
    messaging = stack.url("messaging")
    box = await own_mailbox(http, stack, caseworker)
    good = {"from_mailbox_id": box, "to_client": link["person_id"], "subject": "Hej", "body": "Text"}

    async def nothing_sent() -> None:
        assert await folder(http, stack, caseworker, box, "sent") == []
        assert (await http.get(f"{messaging}/e-service/messages", headers=bearer(citizen))).json() == []

    # An empty subject (Ämne is required).
    for subject in ("", "   "):
        response = await http.post(
            f"{messaging}/messages", headers=bearer(caseworker), json={**good, "subject": subject}
        )
        assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    # A sixth attachment.
    six = {**good, "attachment_ids": [str(uuid.uuid4()) for _ in range(6)]}
    response = await http.post(f"{messaging}/messages", headers=bearer(caseworker), json=six)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM

    # A citizen without an active e-service.
    other_pnr = new_personnummer()
    other_link, other_caseworker, _ = await linked_person(http, stack, other_pnr)
    other_box = await own_mailbox(http, stack, other_caseworker)
    response = await http.post(
        f"{messaging}/messages",
        headers=bearer(other_caseworker),
        json={**good, "from_mailbox_id": other_box, "to_client": other_link["person_id"]},
    )
    assert response.status_code == 409 and response.headers["content-type"] == PROBLEM
    assert "no active e-service" in response.json()["detail"]

    # A caseworker who is not the citizen's.
    stranger_sub = f"cw-{uuid.uuid4().hex[:8]}"
    stranger = await caseworker_token(stack, name="Kalle Annan", sub=stranger_sub)
    stranger_box = await own_mailbox(http, stack, stranger)
    response = await http.post(
        f"{messaging}/messages", headers=bearer(stranger), json={**good, "from_mailbox_id": stranger_box}
    )
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert await folder(http, stack, stranger, stranger_box, "sent") == []
    [refusal] = await refused(http, stack, pnr, stranger_sub)
    assert (refusal["action"], refusal["object_type"]) == ("send", "e_service_mailbox")

    # A related person outside the approval period.
    related_pnr = new_personnummer()
    await investigation_started(http, stack, link, caseworker)  # approvals only from then on (CW-7)
    response = await http.post(
        f"{stack.url('casework')}/persons/{link['person_id']}/approvals",
        headers=bearer(caseworker),
        json={
            "related_personnummer": related_pnr,
            "related_name": "Josefine Test",
            "valid_from": (TODAY + timedelta(days=10)).isoformat(),
            "consent_registered": True,
        },
    )
    assert response.status_code == 201, response.text
    approval = response.json()["id"]
    related = await bankid_login(http, stack, related_pnr, "Josefine Test")

    async def outside_period() -> httpx.Response | None:
        response = await http.post(
            f"{messaging}/e-service/messages",
            headers=bearer(related),
            params={"acting_for": approval},
            json={"subject": "För mamma", "body": "Hej"},
        )
        return response if response.status_code == 403 else None

    refused_related = await eventually(outside_period)
    assert (
        refused_related.headers["content-type"] == PROBLEM and "not today" in refused_related.json()["detail"]
    )
    await nothing_sent()
    assert await folder(http, stack, caseworker, box) == []
    assert await refused(http, stack, pnr, sub_of(related))


async def test_access_to_mailboxes_and_messages(stack: Stack, http: httpx.AsyncClient) -> None:
    """Own mailbox, group member, non-member, other unit, citizen A and B: each
    refusal a 403 problem and a row in messaging's audit log."""
    a_pnr, b_pnr = new_personnummer(), new_personnummer()
    _, caseworker, citizen_a = await e_service_citizen(http, stack, a_pnr, "Annika Test")
    _, _, citizen_b = await e_service_citizen(http, stack, b_pnr, "Bertil Test")
    messaging = stack.url("messaging")
    box = await own_mailbox(http, stack, caseworker)
    member = await stack.token("caseworker", name="Vera Vuxen", units=["ifo-vuxen"])
    non_member_sub, other_unit_sub = f"nm-{uuid.uuid4().hex[:6]}", f"ou-{uuid.uuid4().hex[:6]}"
    non_member = await caseworker_token(stack, name="Nils Annan", sub=non_member_sub)
    other_unit = await stack.token(
        "caseworker", name="Bo Barn", units=["ifo-barn-och-familj"], sub=other_unit_sub
    )
    vuxen = await own_mailbox(http, stack, member, kind="group")

    # Citizen A writes; their caseworker forwards it to the IFO vuxen group mailbox.
    written = await http.post(
        f"{messaging}/e-service/messages",
        headers=bearer(citizen_a),
        json={"subject": "Fråga om insats", "body": "Hej"},
    )
    assert written.status_code == 201, written.text
    forwarded = await http.post(
        f"{messaging}/messages/{written.json()['id']}/forward",
        headers=bearer(caseworker),
        json={"to": [vuxen], "body": "Kan ni ta denna?"},
    )
    assert forwarded.status_code == 201, forwarded.text
    message = forwarded.json()["id"]

    # Allowed: one's own mailbox, and the group mailbox of one's unit.
    assert [m["id"] for m in await folder(http, stack, caseworker, box, "sent")] == [message]
    # (the group mailbox is shared: other runs' messages may be there too)
    assert message in [m["id"] for m in await folder(http, stack, member, vuxen)]
    assert (await http.get(f"{messaging}/messages/{message}", headers=bearer(member))).status_code == 200
    assert (
        await http.get(f"{messaging}/e-service/messages/{written.json()['id']}", headers=bearer(citizen_a))
    ).status_code == 200

    # Refused: a non-member and another unit, through the group or the message; citizen B.
    checks = [
        (non_member, f"/mailboxes/{vuxen}/messages"),
        (non_member, f"/messages/{message}"),
        (other_unit, f"/messages/{message}?mailbox_id={vuxen}"),
        (other_unit, f"/mailboxes/{box}/messages"),
        (citizen_b, f"/e-service/messages/{written.json()['id']}"),
    ]
    for token, path in checks:
        response = await http.get(f"{messaging}{path}", headers=bearer(token))
        assert response.status_code == 403, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
    # Staff never use a citizen's routes, citizens never staff routes.
    assert (await http.get(f"{messaging}/mailboxes", headers=bearer(citizen_a))).status_code == 403
    assert (await http.get(f"{messaging}/e-service/messages", headers=bearer(caseworker))).status_code == 403

    assert {r["action"] for r in await refused(http, stack, a_pnr, non_member_sub)} == {"read"}
    assert len(await refused(http, stack, a_pnr, other_unit_sub)) == 1
    assert len(await refused(http, stack, a_pnr, sub_of(citizen_b))) == 1


async def test_attachments_travel_with_the_message_and_follow_its_access(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    a_pnr, b_pnr = new_personnummer(), new_personnummer()
    link, caseworker, citizen_a = await e_service_citizen(http, stack, a_pnr, "Annika Test")
    _, _, citizen_b = await e_service_citizen(http, stack, b_pnr, "Bertil Test")
    messaging = stack.url("messaging")
    box = await own_mailbox(http, stack, caseworker)
    data = "Punkter att återkoppla kring.\n".encode()
    uploaded = await http.put(
        f"{messaging}/attachments",
        params={"filename": "punkter.txt"},
        content=data,
        headers={**bearer(caseworker), "content-type": "text/plain"},
    )
    assert uploaded.status_code == 201, uploaded.text
    response = await http.post(
        f"{messaging}/messages",
        headers=bearer(caseworker),
        json={
            "from_mailbox_id": box,
            "to_client": link["person_id"],
            "subject": "Inför mötet",
            "attachment_ids": [uploaded.json()["id"]],
        },
    )
    assert response.status_code == 201, response.text
    sent = response.json()
    [attachment] = sent["attachments"]
    assert attachment["filename"] == "punkter.txt"
    path = f"/e-service/messages/{sent['id']}/attachments/{attachment['id']}"

    downloaded = await http.get(f"{messaging}{path}", headers=bearer(citizen_a))
    assert downloaded.status_code == 200 and downloaded.content == data
    assert (await http.get(f"{messaging}{path}", headers=bearer(citizen_b))).status_code == 403
    assert len(await refused(http, stack, a_pnr, sub_of(citizen_b))) == 1

    # Forwarded to a group, the attachment comes along; a member of the unit reads it.
    member = await stack.token("caseworker", name="Vera Vuxen", units=["ifo-vuxen"])
    vuxen = await own_mailbox(http, stack, member, kind="group")
    forwarded = await http.post(
        f"{messaging}/messages/{sent['id']}/forward", headers=bearer(caseworker), json={"to": [vuxen]}
    )
    assert forwarded.status_code == 201, forwarded.text
    [copy] = forwarded.json()["attachments"]
    assert copy["id"] != attachment["id"] and copy["sha256"] == attachment["sha256"]
    got = await http.get(
        f"{messaging}/messages/{forwarded.json()['id']}/attachments/{copy['id']}", headers=bearer(member)
    )
    assert got.status_code == 200 and got.content == data
    # Not through another message's route.
    wrong = await http.get(
        f"{messaging}/messages/{forwarded.json()['id']}/attachments/{attachment['id']}",
        headers=bearer(member),
    )
    assert wrong.status_code == 404
