"""Alerts end to end (journeys 3, 5 and 12 with notify's end; NT-1..NT-4): the
caseworker activates the e-service with SMS and e-mail alerts, writes to the
citizen, and an SMS reaches the local SMS gateway for the chosen phone and an
e-mail the local SMTP server, neither saying anything confidential; the gateway's
delivery report marks the SMS delivered. The citizen then changes their mobile
in Mina sidor and the next alert goes to the new number. A related person with
alert flags and a valid approval is alerted, one whose approval was revoked is
not. Real services, Kafka, PostgreSQL, SMTP and the SMS gateway's HTTP API: the
tests read what the counterparts received over their own HTTP endpoints.

`make up` runs notify with a 5 s coalescing window and without quiet hours
(deploy/omsorg.sh), so these journeys need not wait for either; both rules are
tested with an injectable clock in services/notify/tests/."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from conftest import (
    Stack,
    bankid_login,
    bearer,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
)

DEV_SMS = "http://127.0.0.1:8107"
DEV_MAIL = "http://127.0.0.1:8106"
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
CITIZEN_TEXT = "Du har fått ett nytt meddelande från Omsorg. Logga in i e-tjänsten för att läsa det."
RELATED_TEXT = (
    "Det finns nytt i Omsorgs e-tjänst för en person du företräder. Logga in i e-tjänsten för att läsa det."
)
SUBJECT = "Nytt i Omsorgs e-tjänst"


def new_mobile() -> tuple[str, str]:
    """A random Swedish mobile number: (as a person types it, E.164)."""
    digits = f"{random.randint(0, 99_999_999):08d}"
    return f"070{digits[1:]}", f"+4670{digits[1:]}"


def new_email(who: str) -> str:
    return f"{who}.{uuid.uuid4().hex[:10]}@example.se"


async def sms_to(http: httpx.AsyncClient, number: str) -> list[dict[str, Any]]:
    response = await http.get(f"{DEV_SMS}/messages", params={"to": number})
    assert response.status_code == 200, response.text
    return list(response.json())


async def mail_to(http: httpx.AsyncClient, address: str) -> list[dict[str, Any]]:
    response = await http.get(f"{DEV_MAIL}/messages", params={"to": address})
    assert response.status_code == 200, response.text
    return list(response.json())


async def arrived(fetch: Any, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
    """What the counterpart received once it holds `count` items."""

    async def enough() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = await fetch()
        return items if len(items) >= count else None

    found: list[dict[str, Any]] = await eventually(enough, timeout=timeout, interval=0.2)
    return found


async def send_to_citizen(
    http: httpx.AsyncClient, stack: Stack, caseworker: str, person_id: str, subject: str
) -> dict[str, Any]:
    messaging = stack.url("messaging")
    boxes = (await http.get(f"{messaging}/mailboxes", headers=bearer(caseworker))).json()
    box = next(m["id"] for m in boxes if m["kind"] == "personal")
    response = await http.post(
        f"{messaging}/messages",
        headers=bearer(caseworker),
        json={
            "from_mailbox_id": box,
            "to_client": person_id,
            "subject": subject,
            "body": "<p>Ditt beslut om hemtjänst och trygghetslarm är klart.</p>",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def messaging_knows(http: httpx.AsyncClient, stack: Stack, pnr: str, name: str) -> None:
    citizen = await bankid_login(http, stack, pnr, name)

    async def known() -> bool:
        response = await http.get(f"{stack.url('messaging')}/e-service/mailbox", headers=bearer(citizen))
        return response.status_code == 200 and bool(response.json()["caseworkers"])

    await eventually(known)


async def test_a_message_to_the_citizen_alerts_by_sms_and_e_mail_and_follows_a_new_mobile(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    name = "Annika Larsson"
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name=name)
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"
    typed, mobile = new_mobile()
    email = new_email("annika")

    # Journey 3: SMS to phone 1 and e-mail.
    assert (
        await http.patch(person_url, headers=bearer(caseworker), json={"phone1": typed})
    ).status_code == 200
    response = await http.put(
        f"{person_url}/e-service",
        headers=bearer(caseworker),
        json={
            "messages_enabled": True,
            "sms_alerts": True,
            "sms_phone": 1,
            "email_alerts": True,
            "alert_email": email,
        },
    )
    assert response.status_code == 200, response.text
    await messaging_knows(http, stack, pnr, name)

    # Journey 5: the caseworker writes; notify alerts without confidential content.
    subject = "Beslut om hemtjänst"
    await send_to_citizen(http, stack, caseworker, link["person_id"], subject)
    [sms] = await arrived(lambda: sms_to(http, mobile))
    assert sms["message"] == CITIZEN_TEXT
    [mail] = await arrived(lambda: mail_to(http, email))
    assert mail["subject"] == SUBJECT
    assert mail["text"].strip() == CITIZEN_TEXT
    for confidential in (name, "Annika", "Larsson", pnr, pnr[2:], subject, "hemtjänst", "trygghetslarm"):
        assert confidential not in json.dumps(
            {"sms": sms["message"], "mail": [mail["subject"], mail["text"]]}
        )

    # The gateway's delivery report reaches notify: the SMS is delivered. The
    # person's history is for caseworkers of the person's unit, and audited.
    notify = stack.url("notify")

    async def delivered() -> list[dict[str, Any]] | None:
        response = await http.get(
            f"{notify}/persons/{link['person_id']}/notifications", headers=bearer(caseworker)
        )
        assert response.status_code == 200, response.text
        alerts = list(response.json()["items"])
        done = {a["channel"]: a for a in alerts if a["status"] == "delivered"}
        return alerts if {"sms", "email"} <= done.keys() else None

    history = await eventually(delivered, timeout=20.0, interval=0.3)
    sms_alert = next(a for a in history if a["channel"] == "sms")
    assert [h["status"] for h in sms_alert["history"]][:1] == ["queued"]
    assert "accepted" in [h["status"] for h in sms_alert["history"]]
    stranger = await stack.token("caseworker", name="Annan Enhet", units=["annanenhet"])
    refused = await http.get(f"{notify}/persons/{link['person_id']}/notifications", headers=bearer(stranger))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")

    # Journey 12: the citizen changes their mobile; the next alert goes there.
    new_typed, new_mobile_number = new_mobile()
    citizen = await stack.token("citizen", pnr=pnr, name=name)
    profile = await http.put(
        f"{stack.url('intake')}/profile", headers=bearer(citizen), json={"mobile": new_typed}
    )
    assert profile.status_code == 200, profile.text

    async def casework_has_it() -> bool:
        person = (await http.get(person_url, headers=bearer(caseworker))).json()
        return bool(person["phone1"] == new_mobile_number)

    await eventually(casework_has_it)
    await send_to_citizen(http, stack, caseworker, link["person_id"], "Kallelse till hembesök")
    [again] = await arrived(lambda: sms_to(http, new_mobile_number), timeout=30.0)
    assert "Omsorg" in again["message"] and "hembesök" not in again["message"]
    assert len(await sms_to(http, mobile)) == 1  # nothing more to the old number


async def test_related_persons_are_alerted_only_with_a_valid_approval(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    name = "Britta Nilsson"
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name=name)
    await investigation_started(http, stack, link, caseworker)  # approvals only from then on (CW-7)
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"
    inside_typed, inside_mobile = new_mobile()
    outside_email = new_email("revoked")

    related: dict[str, str] = {}
    for label, contact in (
        ("inside", {"phone": inside_typed, "sms_alerts": True}),
        ("outside", {"email": outside_email, "email_alerts": True}),
    ):
        related_pnr = new_personnummer()
        relation = await http.post(
            f"{person_url}/relations",
            headers=bearer(caseworker),
            json={
                "relation_type": "Godkänd för meddelande",
                "related_personnummer": related_pnr,
                "related_name": f"Närstående {label}",
                "valid_from": TODAY.isoformat(),
                **contact,
            },
        )
        assert relation.status_code == 201, relation.text
        approval = await http.post(
            f"{person_url}/approvals",
            headers=bearer(caseworker),
            json={
                "related_personnummer": related_pnr,
                "related_name": f"Närstående {label}",
                "valid_from": TODAY.isoformat(),
                "valid_to": (TODAY + timedelta(days=30)).isoformat(),
                "consent_registered": True,
            },
        )
        assert approval.status_code == 201, approval.text
        related[label] = approval.json()["id"]
    revoked = await http.delete(
        f"{stack.url('casework')}/approvals/{related['outside']}", headers=bearer(caseworker)
    )
    assert revoked.status_code in (200, 204), revoked.text

    response = await http.put(
        f"{person_url}/e-service",
        headers=bearer(caseworker),
        json={"messages_enabled": True, "alert_recipients": "related"},
    )
    assert response.status_code == 200, response.text
    await messaging_knows(http, stack, pnr, name)

    await send_to_citizen(http, stack, caseworker, link["person_id"], "Information om avgift")
    [sms] = await arrived(lambda: sms_to(http, inside_mobile))
    assert sms["message"] == RELATED_TEXT
    assert name not in sms["message"]

    # The revoked one hears nothing: notify planned the citizen's alerts in one
    # transaction, so once the valid one's alert exists, none is coming for them.
    async def planned() -> list[dict[str, Any]] | None:
        response = await http.get(
            f"{stack.url('notify')}/persons/{link['person_id']}/notifications", headers=bearer(caseworker)
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"]) or None

    alerts = await eventually(planned)
    assert {(a["recipient"], a["channel"]) for a in alerts} == {("related", "sms")}
    assert await mail_to(http, outside_email) == []
