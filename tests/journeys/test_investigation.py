"""Journey 8, first half — the investigation: from an intake record the caseworker
starts the investigation (the citizen's Mina sidor shows "Utredning pågår", and
related persons can be approved only from then on, CW-7/IN-7) and opens a case
per service with its legal basis; or closes the record as simplified handling
(Mina sidor: "Avslutad"); a journaled message is filed under a case. Access
matrix and bad input of every new endpoint.
Real services, Kafka and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from conftest import (
    Stack,
    TopicWatch,
    arrived_in_casework,
    bankid_login,
    bearer,
    caseworker_token,
    eventually,
    link_form,
    new_personnummer,
    submit_application,
)

STARTED = "se.omsorg.casework.record.investigation-started.v1"
CLOSED = "se.omsorg.casework.record.closed.v1"
PROBLEM = "application/problem+json"
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + os.urandom(50_000) + b"%%EOF\n"
)


async def linked(
    http: httpx.AsyncClient, stack: Stack, pnr: str, record_type: str = "Ansökan SoL", unit: str = "testenhet"
) -> tuple[dict[str, Any], str, str, dict[str, Any]]:
    """A citizen's application (hemtjänst and trygghetslarm; personlig assistans for a
    Begäran LSS), linked as `record_type`: (the link result, the caseworker's token,
    the citizen's token, the application)."""
    lss = record_type == "Begäran LSS"
    citizen = await bankid_login(http, stack, pnr, "Annika Test")
    application = await submit_application(
        http,
        stack,
        citizen,
        entry="lss" if lss else "sol",
        services=("lss_personlig_assistans",) if lss else ("hemtjanst", "trygghetslarm"),
    )
    sub = f"cw-{uuid.uuid4().hex[:8]}"
    caseworker = await caseworker_token(stack, unit=unit, sub=sub)
    await arrived_in_casework(http, stack, caseworker, application["id"])
    response = await http.post(
        f"{stack.url('casework')}/e-applications/{application['id']}/link",
        headers=bearer(caseworker),
        json=link_form(
            sub, unit=unit, record_type=record_type, lss_services=["lss_personlig_assistans"] if lss else []
        ),
    )
    assert response.status_code == 201, response.text
    return dict(response.json()), caseworker, citizen, application


async def mina_sidor_shows(
    http: httpx.AsyncClient, stack: Stack, citizen: str, application_id: str, status: str
) -> dict[str, Any]:
    """The citizen's application in Mina sidor, once it shows `status`."""

    async def seen() -> dict[str, Any] | None:
        response = await http.get(
            f"{stack.url('intake')}/applications/{application_id}", headers=bearer(citizen)
        )
        assert response.status_code == 200, response.text
        return response.json() if response.json()["status"] == status else None

    return dict(await eventually(seen))


def approval_of(related_pnr: str) -> dict[str, Any]:
    return {
        "related_personnummer": related_pnr,
        "related_name": "Josefine Test",
        "valid_from": TODAY.isoformat(),
        "consent_registered": True,
    }


async def test_the_investigation_shows_in_mina_sidor_and_opens_approvals_and_cases(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, citizen, application = await linked(http, stack, pnr)
    casework = stack.url("casework")
    record_url = f"{casework}/intake-records/{link['record_id']}"
    approvals_url = f"{casework}/persons/{link['person_id']}/approvals"
    await mina_sidor_shows(http, stack, citizen, application["id"], "Mottagen")

    # Before the investigation, no related person can be approved (CW-7).
    refused = await http.post(approvals_url, headers=bearer(caseworker), json=approval_of(new_personnummer()))
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    assert "investigation has started" in refused.json()["detail"]
    # Nor a case opened.
    early = await http.post(
        f"{record_url}/cases",
        headers=bearer(caseworker),
        json={"service_code": "hemtjanst", "legal_basis": "SoL 4 kap. 1 §"},
    )
    assert early.status_code == 409 and early.headers["content-type"] == PROBLEM

    async with TopicWatch(stack, "casework.cases.v1") as cases_topic:
        response = await http.post(
            f"{record_url}/investigation", headers=bearer(caseworker), json={"method": "IBIC"}
        )
        assert response.status_code == 201, response.text
        event = await cases_topic.next(STARTED, link["record_id"])
    started = response.json()
    assert (started["status"], started["investigation_type"], started["method"]) == (
        "Utredning",
        "Ansökan SoL",
        "IBIC",
    )
    assert event["data"]["application_id"] == application["id"]
    assert pnr not in str(event["headers"]) and pnr not in event["key"] and pnr not in str(event["data"])

    shown = await mina_sidor_shows(http, stack, citizen, application["id"], "Utredning pågår")
    assert [h["status"] for h in shown["history"]] == ["Ny", "Mottagen", "Utredning pågår"]
    record = (await http.get(record_url, headers=bearer(caseworker))).json()
    assert (record["status"], record["investigation_method"]) == ("Utredning", "IBIC")

    # Now a related person can be approved.
    approved = await http.post(
        approvals_url, headers=bearer(caseworker), json=approval_of(new_personnummer())
    )
    assert approved.status_code == 201, approved.text

    # A case per service, its name taken from the e-application.
    created = await http.post(
        f"{record_url}/cases",
        headers=bearer(caseworker),
        json={"service_code": "hemtjanst", "legal_basis": "SoL 4 kap. 1 §"},
    )
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["service_name"], case["legal_basis"], case["status"]) == (
        "Hemtjänst",
        "SoL 4 kap. 1 §",
        "Utredning pågår",
    )
    assert case["caseworker_id"] == record["caseworker_id"] and case["co_caseworkers"] == []
    assert [h["status"] for h in case["history"]] == ["Utredning pågår"]
    assert (await http.get(f"{casework}/cases/{case['id']}", headers=bearer(caseworker))).json() == case
    listed = (await http.get(f"{record_url}/cases", headers=bearer(caseworker))).json()
    assert [c["id"] for c in listed] == [case["id"]]
    journal = (await http.get(f"{casework}/cases/{case['id']}/journal", headers=bearer(caseworker))).json()
    assert journal == {"case_id": case["id"], "entries": []}


async def test_a_record_closed_as_simplified_shows_avslutad_and_takes_no_investigation(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    link, caseworker, citizen, application = await linked(
        http, stack, new_personnummer(), "Förenklad handläggning"
    )
    record_url = f"{stack.url('casework')}/intake-records/{link['record_id']}"
    async with TopicWatch(stack, "casework.cases.v1") as cases_topic:
        response = await http.post(
            f"{record_url}/close", headers=bearer(caseworker), json={"reason": "Förenklad handläggning"}
        )
        assert response.status_code == 200, response.text
        await cases_topic.next(CLOSED, link["record_id"])
    assert (response.json()["status"], response.json()["status_for_citizen"]) == ("Avslutad", "Avslutad")
    shown = await mina_sidor_shows(http, stack, citizen, application["id"], "Avslutad")
    assert [h["status"] for h in shown["history"]] == ["Ny", "Mottagen", "Avslutad"]

    for path, body in (
        ("investigation", {"investigation_type": "Ansökan SoL"}),
        ("close", {"reason": "Återtagen"}),
        ("cases", {"service_code": "hemtjanst", "legal_basis": "SoL 4 kap. 1 §"}),
    ):
        response = await http.post(f"{record_url}/{path}", headers=bearer(caseworker), json=body)
        assert response.status_code == 409, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert (await http.get(record_url, headers=bearer(caseworker))).json()[
        "close_reason"
    ] == "Förenklad handläggning"


async def test_only_caseworkers_of_the_records_unit_reach_investigations_and_cases(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, citizen, _ = await linked(http, stack, pnr)
    casework = stack.url("casework")
    record_url = f"{casework}/intake-records/{link['record_id']}"
    assert (
        await http.post(f"{record_url}/investigation", headers=bearer(caseworker), json={})
    ).status_code == 201
    case = (
        await http.post(
            f"{record_url}/cases",
            headers=bearer(caseworker),
            json={"service_code": "trygghetslarm", "legal_basis": "SoL 4 kap. 1 §"},
        )
    ).json()
    other_sub = f"other-{uuid.uuid4().hex[:6]}"
    other = await caseworker_token(stack, name="Kalle Annan", unit="annan-enhet", sub=other_sub)
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{record_url}/investigation", {}),
        ("POST", f"{record_url}/close", {"reason": "Återtagen"}),
        ("POST", f"{record_url}/cases", {"service_code": "hemtjanst", "legal_basis": "SoL 4 kap. 1 §"}),
        ("GET", f"{record_url}/cases", None),
        ("GET", f"{casework}/cases/{case['id']}", None),
        ("GET", f"{casework}/cases/{case['id']}/journal", None),
    ]
    for method, url, body in attempts:
        response = await http.request(method, url, headers=bearer(other), json=body)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"] == PROBLEM and pnr not in response.text
        # Neither a citizen nor an anonymous caller reaches casework at all.
        assert (await http.request(method, url, headers=bearer(citizen), json=body)).status_code == 403
        assert (await http.request(method, url, json=body)).status_code == 401
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = (
        await http.get(f"{casework}/persons/{link['person_id']}/access-log", headers=bearer(reviewer))
    ).json()
    refused = [(e["action"], e["object_type"]) for e in log if e["actor"] == other_sub]
    assert sorted(refused) == sorted(
        [
            ("start", "investigation"),
            ("close", "intake_record"),
            ("create", "case"),
            ("list", "case"),
            ("read", "case"),
            ("list", "journal_entry"),
        ]
    )
    assert {e["outcome"] for e in log if e["actor"] == other_sub} == {"refused"}
    # The caseworker's own reads are audited too.
    await http.get(f"{casework}/cases/{case['id']}", headers=bearer(caseworker))
    log = (
        await http.get(f"{casework}/persons/{link['person_id']}/access-log", headers=bearer(reviewer))
    ).json()
    assert ("read", "case", case["id"], "allowed") in [
        (e["action"], e["object_type"], e["object_id"], e["outcome"]) for e in log if e["actor"] != other_sub
    ]


async def test_bad_input_answers_problem_details_and_changes_nothing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    link, caseworker, _, _ = await linked(http, stack, new_personnummer(), "Begäran LSS")
    casework = stack.url("casework")
    record_url = f"{casework}/intake-records/{link['record_id']}"
    lss = {"service_code": "lss_personlig_assistans", "legal_basis": "LSS 9 § 2"}

    # A case on a record not under investigation.
    response = await http.post(f"{record_url}/cases", headers=bearer(caseworker), json=lss)
    assert response.status_code == 409 and response.headers["content-type"] == PROBLEM
    for body in (
        {"investigation_type": "Ansökan SoL"},  # a Begäran LSS is investigated as one
        {"method": "IBIC"},  # IBIC is for SoL
        {"method": "Egen metod"},
        {"investigation_type": "Förenklad handläggning"},
        {"unknown": True},
    ):
        response = await http.post(f"{record_url}/investigation", headers=bearer(caseworker), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert (await http.get(record_url, headers=bearer(caseworker))).json()["status"] == "Ny"

    assert (
        await http.post(f"{record_url}/investigation", headers=bearer(caseworker), json={})
    ).status_code == 201
    again = await http.post(f"{record_url}/investigation", headers=bearer(caseworker), json={})
    assert again.status_code == 409 and "started already" in again.json()["detail"]
    closing = await http.post(f"{record_url}/close", headers=bearer(caseworker), json={"reason": "Återtagen"})
    assert closing.status_code == 409

    for body in (
        {**lss, "legal_basis": "LSS 9 § 11"},  # not a legal basis of the list
        {**lss, "legal_basis": "SoL 2 kap. 1 §"},
        {**lss, "legal_basis": "LSS 9 § 3"},  # personlig assistans is point 2
        {**lss, "legal_basis": "SoL 4 kap. 1 §"},  # a Begäran LSS rests on LSS
        {"service_code": "hemtjanst", "service_name": "Hemtjänst", "legal_basis": "SoL 4 kap. 1 §"},
        {**lss, "service_code": "Personlig Assistans!"},
        {**lss, "service_name": "x" * 201},
        {"legal_basis": "LSS 9 § 2"},
    ):
        response = await http.post(f"{record_url}/cases", headers=bearer(caseworker), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    for body in ({"reason": "Fritext om den enskilde"}, {}):
        response = await http.post(f"{record_url}/close", headers=bearer(caseworker), json=body)
        assert response.status_code == 422, (body, response.text)
    assert (await http.get(f"{record_url}/cases", headers=bearer(caseworker))).json() == []

    created = await http.post(f"{record_url}/cases", headers=bearer(caseworker), json=lss)
    assert created.status_code == 201, created.text
    assert created.json()["service_name"] == "Personlig assistans"
    twice = await http.post(f"{record_url}/cases", headers=bearer(caseworker), json=lss)
    assert twice.status_code == 409 and twice.headers["content-type"] == PROBLEM

    for url in (f"{casework}/cases/{uuid.uuid4()}", f"{casework}/intake-records/{uuid.uuid4()}/cases"):
        response = await http.get(url, headers=bearer(caseworker))
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert (await http.get(f"{casework}/cases/not-a-uuid", headers=bearer(caseworker))).status_code == 422
    entry_url = f"{casework}/journal-entries/{uuid.uuid4()}/case"
    assert (await http.put(entry_url, headers=bearer(caseworker), json={"case_id": None})).status_code == 404


async def test_a_journaled_message_is_filed_under_a_case_with_its_attachment(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    link, caseworker, citizen, _ = await linked(http, stack, new_personnummer())
    messaging, casework = stack.url("messaging"), stack.url("casework")
    record_url = f"{casework}/intake-records/{link['record_id']}"
    response = await http.put(
        f"{casework}/persons/{link['person_id']}/e-service",
        headers=bearer(caseworker),
        json={"messages_enabled": True},
    )
    assert response.status_code == 200, response.text
    assert (
        await http.post(f"{record_url}/investigation", headers=bearer(caseworker), json={})
    ).status_code == 201
    case = (
        await http.post(
            f"{record_url}/cases",
            headers=bearer(caseworker),
            json={"service_code": "hemtjanst", "legal_basis": "SoL 4 kap. 1 §"},
        )
    ).json()

    async def known() -> bool:
        response = await http.get(f"{messaging}/e-service/mailbox", headers=bearer(citizen))
        return response.status_code == 200 and bool(response.json()["caseworkers"])

    await eventually(known)
    uploaded = await http.put(
        f"{messaging}/attachments",
        params={"filename": "Läkarintyg.pdf"},
        content=PDF,
        headers={**bearer(citizen), "content-type": "application/pdf"},
    )
    assert uploaded.status_code == 201, uploaded.text
    sent = await http.post(
        f"{messaging}/e-service/messages",
        headers=bearer(citizen),
        json={"subject": "Intyg", "body": "<p>Här är intyget</p>", "attachment_ids": [uploaded.json()["id"]]},
    )
    assert sent.status_code == 201, sent.text
    response = await http.post(
        f"{messaging}/messages/{sent.json()['id']}/journal",
        headers=bearer(caseworker),
        json={
            "record_id": link["record_id"],
            "entry_type": "Inkommen handling",
            "sender": "Den enskilde",
            "title": "Läkarintyg",
            "date": TODAY.isoformat(),
        },
    )
    assert response.status_code == 202, response.text

    async def entry() -> dict[str, Any] | None:
        entries = (await http.get(f"{record_url}/journal", headers=bearer(caseworker))).json()["entries"]
        return entries[0] if entries else None

    journaled = await eventually(entry, timeout=20)
    assert journaled["case_id"] is None
    filed = await http.put(
        f"{casework}/journal-entries/{journaled['id']}/case",
        headers=bearer(caseworker),
        json={"case_id": case["id"]},
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["case_id"] == case["id"]
    [in_case] = (await http.get(f"{casework}/cases/{case['id']}/journal", headers=bearer(caseworker))).json()[
        "entries"
    ]
    assert (in_case["id"], in_case["title"]) == (journaled["id"], "Läkarintyg")
    [document] = in_case["documents"]
    fetched = await http.get(f"{casework}/documents/{document['id']}", headers=bearer(caseworker))
    assert fetched.status_code == 200 and fetched.content == PDF

    # Only a case of the entry's own record; only a caseworker of its unit.
    other_link, other_caseworker, _, _ = await linked(http, stack, new_personnummer())
    other_url = f"{casework}/intake-records/{other_link['record_id']}"
    await http.post(f"{other_url}/investigation", headers=bearer(other_caseworker), json={})
    other_case = (
        await http.post(
            f"{other_url}/cases",
            headers=bearer(other_caseworker),
            json={"service_code": "hemtjanst", "legal_basis": "SoL 4 kap. 1 §"},
        )
    ).json()
    wrong = await http.put(
        f"{casework}/journal-entries/{journaled['id']}/case",
        headers=bearer(caseworker),
        json={"case_id": other_case["id"]},
    )
    assert wrong.status_code == 422 and wrong.headers["content-type"] == PROBLEM
    stranger = await caseworker_token(stack, name="Kalle Annan", unit="annan-enhet")
    refused = await http.put(
        f"{casework}/journal-entries/{journaled['id']}/case", headers=bearer(stranger), json={"case_id": None}
    )
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
