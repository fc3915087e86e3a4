"""Journey 8 — Decide (CW-9, IN-6): from the linked application the caseworker
starts the investigation, opens the case and drafts a decision; signing it makes
the decision letter (a PDF under the municipality's letterhead, with how to
appeal) and, the citizen's e-service being active, it arrives in their e-service
mailbox as a message from the caseworker with the PDF attached. The citizen
reads it and opens the PDF, an SMS alert goes out, and Mina sidor shows
"Beslut fattat" for the service. Without an active e-service the answer says
the letter goes by post. Bad input, write protection, corrections, the access
matrix and the protected identity's address in the letter are checked over
HTTP. Real services, Kafka, PostgreSQL and the local SMS gateway."""

from __future__ import annotations

import asyncio
import io
import json
import random
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pypdf import PdfReader

from conftest import (
    Stack,
    TopicWatch,
    bankid_login,
    bearer,
    caseworker_token,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
)

DEV_SMS = "http://127.0.0.1:8107"
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
DECISION_MADE = "se.omsorg.casework.case.decision-made.v1"
DELIVERY_REQUESTED = "se.omsorg.casework.document.e-service-delivery-requested.v1"
ALERT = "Du har fått ett nytt beslut från Omsorg. Logga in i e-tjänsten för att läsa det."
DECISION_TEXT = "Du har behov av trygghetslarm för att kunna bo kvar hemma tryggt."


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def grant(**values: Any) -> dict[str, Any]:
    return {
        "outcome": "Beviljad",
        "text": DECISION_TEXT,
        "period_from": TODAY.isoformat(),
        "period_to": (TODAY + timedelta(days=364)).isoformat(),
        "extent": "Larm dygnet runt",
        **values,
    }


async def case_of(http: httpx.AsyncClient, stack: Stack, caseworker: str, record_id: str) -> dict[str, Any]:
    """The case for the trygghetslarm the citizen applied for."""
    response = await http.post(
        f"{stack.url('casework')}/intake-records/{record_id}/cases",
        headers=bearer(caseworker),
        json={"service_code": "trygghetslarm", "legal_basis": "SoL 4 kap. 1 §"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def case_under_investigation(
    http: httpx.AsyncClient, stack: Stack, pnr: str, name: str = "Annika Test"
) -> tuple[dict[str, Any], str, dict[str, Any], dict[str, Any]]:
    """A linked citizen, their investigation started and a case opened: (link,
    caseworker token, application, case)."""
    link, caseworker, application = await linked_person(http, stack, pnr, citizen_name=name)
    await investigation_started(http, stack, link, caseworker)
    return link, caseworker, application, await case_of(http, stack, caseworker, link["record_id"])


async def draft(
    http: httpx.AsyncClient, stack: Stack, caseworker: str, case_id: str, **values: Any
) -> httpx.Response:
    return await http.post(
        f"{stack.url('casework')}/cases/{case_id}/decisions", headers=bearer(caseworker), json=grant(**values)
    )


async def sign(http: httpx.AsyncClient, stack: Stack, caseworker: str, decision_id: str) -> httpx.Response:
    return await http.post(
        f"{stack.url('casework')}/decisions/{decision_id}/sign", headers=bearer(caseworker)
    )


def new_mobile() -> tuple[str, str]:
    """A random Swedish mobile number: (as a person types it, E.164)."""
    digits = f"{random.randint(0, 99_999_999):08d}"
    return f"070{digits[1:]}", f"+4670{digits[1:]}"


async def sms_to(http: httpx.AsyncClient, number: str) -> list[dict[str, Any]] | None:
    response = await http.get(f"{DEV_SMS}/messages", params={"to": number})
    assert response.status_code == 200, response.text
    return list(response.json()) or None


async def test_a_signed_decision_reaches_the_citizens_e_service_with_its_letter_and_an_alert(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr, name = new_personnummer(), "Annika Larsson"
    casework, messaging, intake = stack.url("casework"), stack.url("messaging"), stack.url("intake")
    link, caseworker, application = await linked_person(http, stack, pnr, citizen_name=name)
    person_url = f"{casework}/persons/{link['person_id']}"
    typed, mobile = new_mobile()
    assert (
        await http.patch(person_url, headers=bearer(caseworker), json={"phone1": typed})
    ).status_code == 200
    response = await http.put(
        f"{person_url}/e-service",
        headers=bearer(caseworker),
        json={"messages_enabled": True, "sms_alerts": True, "sms_phone": 1},
    )
    assert response.status_code == 200, response.text
    citizen = await bankid_login(http, stack, pnr, name)

    async def mailbox_ready() -> bool:
        response = await http.get(f"{messaging}/e-service/mailbox", headers=bearer(citizen))
        return response.status_code == 200

    await eventually(mailbox_ready)

    await investigation_started(http, stack, link, caseworker)
    case = await case_of(http, stack, caseworker, link["record_id"])
    response = await draft(http, stack, caseworker, case["id"])
    assert response.status_code == 201, response.text
    decision = response.json()
    assert (decision["status"], decision["legal_basis"], decision["delivery"]) == (
        "Utkast",
        "SoL 4 kap. 1 §",
        None,
    )
    preview = await http.get(f"{casework}/decisions/{decision['id']}/pdf", headers=bearer(caseworker))
    assert preview.status_code == 200 and preview.headers["content-type"] == "application/pdf"
    assert "Utkast till beslut" in pdf_text(preview.content)

    async with TopicWatch(stack, "casework.cases.v1") as cases_topic:
        response = await sign(http, stack, caseworker, decision["id"])
        assert response.status_code == 200, response.text
        signed = response.json()
        # One record's events in the order the signing wrote them: the delivery asked, the decision made.
        requested = await cases_topic.next(DELIVERY_REQUESTED, link["record_id"])
        made = await cases_topic.next(DECISION_MADE, link["record_id"])
    assert (signed["status"], signed["delivery"], signed["decided_on"]) == (
        "Signerat",
        "e-service",
        TODAY.isoformat(),
    )
    assert signed["decided_by"]["name"] == "Marita Aronsson"
    assert made["data"]["decision_id"] == decision["id"]
    assert (made["data"]["outcome"], made["data"]["service_code"], made["data"]["status"]) == (
        "Beviljad",
        "trygghetslarm",
        "Beslut fattat",
    )
    assert requested["data"]["kind"] == "decision"
    # Ids, outcome and service code only: no text, name or personnummer in the decision's event,
    # and none in any key or header.
    for personal in (DECISION_TEXT, name, pnr, pnr[2:]):
        assert personal not in json.dumps(made)
        assert personal not in json.dumps({"key": requested["key"], "headers": requested["headers"]})

    # The letter arrives in the citizen's e-service mailbox, from the caseworker, the PDF attached.
    async def delivered() -> list[dict[str, Any]] | None:
        response = await http.get(f"{messaging}/e-service/messages", headers=bearer(citizen))
        assert response.status_code == 200, response.text
        return [m for m in response.json() if m["subject"] == "Beslut om trygghetslarm"] or None

    [line] = await eventually(delivered, timeout=20)
    assert (line["unread"], line["from_label"]) == (True, "Marita Aronsson")
    opened = await http.get(f"{messaging}/e-service/messages/{line['id']}", headers=bearer(citizen))
    assert opened.status_code == 200, opened.text
    [attachment] = opened.json()["attachments"]
    fetched = await http.get(
        f"{messaging}/e-service/messages/{line['id']}/attachments/{attachment['id']}", headers=bearer(citizen)
    )
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("application/pdf")
    letter = pdf_text(fetched.content)
    for shown in (
        "Omsorgs kommun",
        "Beslut",
        name,
        "Du beviljas trygghetslarm.",
        DECISION_TEXT,
        "SoL 4 kap. 1 §",
        "förvaltningsrätten",
        signed["appeal_by"],
    ):
        assert shown in letter, shown

    # Notify alerts the citizen, saying nothing about the decision.
    [sms] = await eventually(lambda: sms_to(http, mobile), timeout=30, interval=0.2)
    assert sms["message"] == ALERT

    # Mina sidor: the service's decision, with its date; the case is decided too.
    async def decided_in_mina_sidor() -> dict[str, Any] | None:
        response = await http.get(f"{intake}/applications/{application['id']}", headers=bearer(citizen))
        assert response.status_code == 200, response.text
        shown = response.json()
        return shown if shown["services"][0]["status"] == "Beslut fattat" else None

    shown = await eventually(decided_in_mina_sidor)
    assert shown["services"][0]["code"] == "trygghetslarm"
    assert [h["status"] for h in shown["history"]][-1] == "Beslut fattat"
    case_now = (await http.get(f"{casework}/cases/{case['id']}", headers=bearer(caseworker))).json()
    assert case_now["status"] == "Beslut fattat"
    listed = (await http.get(f"{casework}/cases/{case['id']}/decisions", headers=bearer(caseworker))).json()
    assert [(d["id"], d["document_id"]) for d in listed] == [(decision["id"], signed["document_id"])]


async def test_without_an_active_e_service_the_letter_goes_by_post(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, _, case = await case_under_investigation(http, stack, pnr)
    casework = stack.url("casework")
    response = await http.patch(
        f"{casework}/persons/{link['person_id']}",
        headers=bearer(caseworker),
        json={"address": {"street": "Storgatan 1", "postal_code": "123 45", "city": "Byn"}},
    )
    assert response.status_code == 200, response.text
    decision = (
        await draft(
            http,
            stack,
            caseworker,
            case["id"],
            outcome="Avslag",
            period_from=None,
            period_to=None,
            extent=None,
        )
    ).json()
    response = await sign(http, stack, caseworker, decision["id"])
    assert response.status_code == 200, response.text
    assert response.json()["delivery"] == "post"
    printed = await http.get(f"{casework}/decisions/{decision['id']}/pdf", headers=bearer(caseworker))
    assert printed.status_code == 200
    letter = pdf_text(printed.content)
    assert "Din ansökan om trygghetslarm avslås." in letter
    assert "Storgatan 1" in letter and "123 45 Byn" in letter  # ready for the envelope


async def test_bad_input_write_protection_and_corrections(stack: Stack, http: httpx.AsyncClient) -> None:
    link, caseworker, _, case = await case_under_investigation(http, stack, new_personnummer())
    casework = stack.url("casework")

    backwards = await draft(
        http, stack, caseworker, case["id"], period_to=(TODAY - timedelta(days=1)).isoformat()
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "period_to", backwards.text
    no_extent = await draft(http, stack, caseworker, case["id"], extent=None)
    assert no_extent.status_code == 422 and no_extent.json()["field"] == "extent"
    unknown = await draft(http, stack, caseworker, case["id"], outcome="Kanske")
    assert unknown.status_code == 422
    assert (await draft(http, stack, caseworker, str(uuid.uuid4()))).status_code == 404

    one = (await draft(http, stack, caseworker, case["id"])).json()
    other = (await draft(http, stack, caseworker, case["id"], extent="Larm nattetid")).json()
    edited = await http.patch(
        f"{casework}/decisions/{one['id']}", headers=bearer(caseworker), json={"extent": "Larm och tillsyn"}
    )
    assert edited.status_code == 200 and edited.json()["extent"] == "Larm och tillsyn"
    # Two drafts signed at once: one becomes the case's decision, the other is refused.
    signings = await asyncio.gather(*(sign(http, stack, caseworker, d["id"]) for d in (one, other)))
    assert sorted(r.status_code for r in signings) == [200, 409], [r.text for r in signings]
    first, rival = (one, other) if signings[0].status_code == 200 else (other, one)

    # Signed: write-protected.
    for method in ("PATCH", "PUT"):
        response = await http.request(
            method,
            f"{casework}/decisions/{first['id']}",
            headers=bearer(caseworker),
            json=grant(text="Ändrat"),
        )
        assert response.status_code == 409, (method, response.text)
    assert (await sign(http, stack, caseworker, first["id"])).status_code == 409
    # The case is decided, its investigation concluded: a second signed decision needs `corrects`.
    assert (await sign(http, stack, caseworker, rival["id"])).status_code == 409
    refused = await draft(http, stack, caseworker, case["id"])
    assert refused.status_code == 409 and refused.json()["in_force"] == first["id"]

    async with TopicWatch(stack, "casework.cases.v1") as cases_topic:
        correction = (await draft(http, stack, caseworker, case["id"], corrects=first["id"])).json()
        response = await sign(http, stack, caseworker, correction["id"])
        assert response.status_code == 200, response.text
        made = await cases_topic.next(DECISION_MADE, link["record_id"])
    assert made["data"]["corrects"] == first["id"]
    original = (await http.get(f"{casework}/decisions/{first['id']}", headers=bearer(caseworker))).json()
    assert original["corrected_by"] == correction["id"]
    stale = await draft(http, stack, caseworker, case["id"], corrects=first["id"])
    assert stale.status_code == 409 and stale.json()["in_force"] == correction["id"]


async def test_decisions_are_for_caseworkers_of_the_cases_unit_and_every_refusal_is_audited(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, _, case = await case_under_investigation(http, stack, pnr)
    casework = stack.url("casework")
    decision = (await draft(http, stack, caseworker, case["id"])).json()
    stranger_sub = f"cw-{uuid.uuid4().hex[:8]}"
    stranger = await caseworker_token(stack, name="Annan Enhet", unit="annan-enhet", sub=stranger_sub)
    citizen = await bankid_login(http, stack, pnr, "Annika Test")
    calls = [
        ("POST", f"/cases/{case['id']}/decisions", grant()),
        ("GET", f"/cases/{case['id']}/decisions", None),
        ("GET", f"/decisions/{decision['id']}", None),
        ("PATCH", f"/decisions/{decision['id']}", {"extent": "x"}),
        ("PUT", f"/decisions/{decision['id']}", grant()),
        ("POST", f"/decisions/{decision['id']}/sign", None),
        ("GET", f"/decisions/{decision['id']}/pdf", None),
    ]
    for method, path, body in calls:
        for token, expected in ((stranger, 403), (citizen, 403), (None, 401)):
            response = await http.request(
                method, f"{casework}{path}", headers=bearer(token) if token else {}, json=body
            )
            assert response.status_code == expected, (method, path, expected, response.text)
    assert (await http.get(f"{casework}/decisions/{decision['id']}", headers=bearer(caseworker))).json()[
        "status"
    ] == "Utkast"

    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = await http.get(f"{casework}/persons/{link['person_id']}/access-log", headers=bearer(reviewer))
    assert log.status_code == 200, log.text
    refusals = [e for e in log.json() if e["actor"] == stranger_sub and e["outcome"] == "refused"]
    assert sorted((e["action"], e["object_type"]) for e in refusals) == sorted(
        [
            ("create", "decision"),
            ("list", "decision"),
            ("read", "decision"),
            ("update", "decision"),
            ("update", "decision"),
            ("sign", "decision"),
            ("read", "decision_letter"),
        ]
    )


async def test_a_protected_persons_address_is_in_the_printed_letter_only_with_the_permission(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    link, caseworker, _, case = await case_under_investigation(http, stack, new_personnummer())
    casework = stack.url("casework")
    address = {"street": "Ströms väg 15 A", "postal_code": "614 33", "city": "Söderköping"}
    response = await http.patch(
        f"{casework}/persons/{link['person_id']}",
        headers=bearer(caseworker),
        json={"address": address, "registered_address": address, "protected_identity": True},
    )
    assert response.status_code == 200, response.text
    decision = (await draft(http, stack, caseworker, case["id"])).json()
    signed = (await sign(http, stack, caseworker, decision["id"])).json()
    assert signed["delivery"] == "post"

    pdf_url = f"{casework}/decisions/{decision['id']}/pdf"
    withheld = pdf_text((await http.get(pdf_url, headers=bearer(caseworker))).content)
    assert "Annika Test" in withheld
    assert "Ströms" not in withheld and "Söderköping" not in withheld
    permitted = await caseworker_token(stack, name="Behörig Handläggare", extra_roles=("protected_identity",))
    shown = pdf_text((await http.get(pdf_url, headers=bearer(permitted))).content)
    assert "Ströms väg 15 A" in shown and "614 33 Söderköping" in shown
