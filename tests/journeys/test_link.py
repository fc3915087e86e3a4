"""Journey 2 — Link: a caseworker links an e-application into an intake record.
Casework creates the person and the record with the application PDF under its
documentation; intake shows the citizen the status Mottagen and the caseworker
as contact. All services run as real processes on real Kafka and PostgreSQL."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pypdf

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


async def test_linking_creates_person_record_and_pdf_and_the_citizen_sees_it_received(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    # A surname of its own, so a name search finds this person among many on a long-lived system.
    surname = f"Test{uuid.uuid4().hex[:6]}"
    citizen = await bankid_login(http, stack, pnr, f"Annika {surname}")
    application = await submit_application(http, stack, citizen, services=("hemtjanst", "trygghetslarm"))
    sub = f"marita-{uuid.uuid4().hex[:6]}"
    marita = await caseworker_token(stack, sub=sub)
    casework = stack.url("casework")

    detail = await arrived_in_casework(http, stack, marita, application["id"])
    assert detail["description"] == "Jag trillar då och då och känner mig otrygg"
    assert [s["name"] for s in detail["services"]] == ["Hemtjänst", "Trygghetslarm"]
    assert detail["status"] == "Ny" and detail["record_id"] is None
    choices = (
        await http.get(f"{casework}/caseworkers", params={"unit": "testenhet"}, headers=bearer(marita))
    ).json()
    assert {"id": sub, "name": "Marita Aronsson", "units": ["testenhet"]} in choices

    async with (
        TopicWatch(stack, "casework.applications.v1") as linked,
        TopicWatch(stack, "casework.cases.v1") as assigned,
    ):
        response = await http.post(
            f"{casework}/e-applications/{application['id']}/link",
            headers=bearer(marita),
            json=link_form(sub, reason="Ny ansökan"),
        )
        assert response.status_code == 201, response.text
        result = response.json()
        assert result["person_created"] is True
        linked_event = await linked.next("se.omsorg.casework.application.linked.v1", application["id"])
        assigned_event = await assigned.next(
            "se.omsorg.casework.record.caseworker-assigned.v1", result["record_id"]
        )
    assert linked_event["data"]["status"] == "Mottagen"
    assert assigned_event["data"]["caseworker_name"] == "Marita Aronsson"
    for event in (linked_event, assigned_event):  # keys and headers carry no personal data
        assert pnr not in str(event["headers"]) and pnr not in event["key"]

    # A second link attempt is refused, and nothing changes.
    again = await http.post(
        f"{casework}/e-applications/{application['id']}/link", headers=bearer(marita), json=link_form(sub)
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"

    # The record is under Marita's "Nya aktualiseringar", with the note prefilled and the PDF filed.
    new = (await http.get(f"{casework}/intake-records/new", headers=bearer(marita))).json()
    [record] = [r for r in new if r["id"] == result["record_id"]]
    assert record["record_type"] == "Förenklad handläggning"
    assert record["channel"] == "E-ansökan" and record["from_whom"] == "Den enskilde"
    assert record["note"] == "Jag trillar då och då och känner mig otrygg"
    assert record["reason"] == "Ny ansökan"
    [document] = record["documents"]
    assert document["doc_type"] == "E-ansökan" and document["content_type"] == "application/pdf"
    pdf = await http.get(f"{casework}/documents/{document['id']}", headers=bearer(marita))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for expected in (
        "Ansökan om stöd till äldre (SoL)",
        f"Annika {surname}",
        f"{pnr[:8]}-{pnr[8:]}",
        "Valda tjänster",
        "Hemtjänst",
        "Trygghetslarm",
        "Övrig information",
        "Jag trillar då och då och känner mig otrygg",
    ):
        assert expected in text

    # The person record exists, with a customer number, and is found by name, pnr and kundnummer.
    person = (await http.get(f"{casework}/persons/{result['person_id']}", headers=bearer(marita))).json()
    assert person["personnummer"] == pnr and person["name"] == f"Annika {surname}"
    assert person["kundnummer"] == result["kundnummer"]
    for query in (pnr, f"{pnr[2:8]}-{pnr[8:]}", result["kundnummer"], f"annika {surname.lower()}"):
        found = (
            await http.post(f"{casework}/persons/search", headers=bearer(marita), json={"query": query})
        ).json()
        assert result["person_id"] in [p["id"] for p in found], query

    # The inbox shows it linked; intake shows the citizen Mottagen and Marita as contact.
    assert (await arrived_in_casework(http, stack, marita, application["id"]))["status"] == "Kopplad"
    intake = stack.url("intake")

    async def received() -> dict[str, Any] | None:
        own = (await http.get(f"{intake}/applications/{application['id']}", headers=bearer(citizen))).json()
        return own if own["status"] == "Mottagen" else None

    own = await eventually(received)
    assert [h["status"] for h in own["history"]] == ["Ny", "Mottagen"]

    async def contact() -> list[dict[str, Any]]:
        return list((await http.get(f"{intake}/contacts", headers=bearer(citizen))).json())

    assert [c["caseworker_name"] for c in await eventually(contact)] == ["Marita Aronsson"]


async def test_a_second_application_of_the_same_person_finds_the_person(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    citizen = await stack.token("citizen", pnr=pnr, name="Marita Test")
    first, second = [
        await submit_application(http, stack, citizen, entry="lss", services=("lss_bostad_vuxen",))
        for _ in range(2)
    ]
    sub = f"lss-{uuid.uuid4().hex[:6]}"
    cw = await caseworker_token(stack, name="Lena LSS", unit="lss-enheten", sub=sub)
    person_ids = set()
    for application in (first, second):
        await arrived_in_casework(http, stack, cw, application["id"])
        response = await http.post(
            f"{stack.url('casework')}/e-applications/{application['id']}/link",
            headers=bearer(cw),
            json=link_form(
                sub,
                unit="lss-enheten",
                record_type="Begäran LSS",
                lss_services=["lss_bostad_vuxen", "lss_daglig_verksamhet"],
            ),
        )
        assert response.status_code == 201, response.text
        person_ids.add(response.json()["person_id"])
    assert len(person_ids) == 1


async def test_link_bad_input_is_refused_with_problem_details_and_nothing_written(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    citizen = await stack.token("citizen", pnr=new_personnummer(), name="Josefine Test")
    application = await submit_application(http, stack, citizen)
    sub = f"cw-{uuid.uuid4().hex[:6]}"
    cw = await caseworker_token(stack, sub=sub)
    await arrived_in_casework(http, stack, cw, application["id"])
    url = f"{stack.url('casework')}/e-applications/{application['id']}/link"
    cases: list[tuple[dict[str, Any], int]] = [
        (link_form(sub, record_type="Begäran LSS"), 422),  # no LSS service
        (link_form(sub, record_type="Begäran LSS", lss_services=["hemtjanst"]), 422),  # not LSS 9 §
        (link_form(sub, lss_services=["lss_bostad_vuxen"]), 422),  # LSS services without Begäran LSS
        (link_form(sub, record_type="Ansökan om allt"), 422),
        (link_form("nobody-known"), 422),  # caseworker unknown
        (link_form(sub, unit="annan-enhet"), 403),  # not my unit
        (link_form(sub, from_whom="Grannen"), 422),
        (link_form(sub, unexpected="x"), 422),
        ({k: v for k, v in link_form(sub).items() if k != "unit"}, 422),  # organisation is required
        ({k: v for k, v in link_form(sub).items() if k != "caseworker_id"}, 422),
        (link_form(sub, note="x" * 10_001), 422),
    ]
    for body, expected in cases:
        response = await http.post(url, headers=bearer(cw), json=body)
        assert response.status_code == expected, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]
    unknown = await http.post(
        f"{stack.url('casework')}/e-applications/{uuid.uuid4()}/link", headers=bearer(cw), json=link_form(sub)
    )
    assert unknown.status_code == 404
    citizen_try = await http.post(url, headers=bearer(citizen), json=link_form(sub))
    assert citizen_try.status_code == 403

    detail = await arrived_in_casework(http, stack, cw, application["id"])
    assert detail["status"] == "Ny" and detail["record_id"] is None
    assert [
        r for r in (await http.get(f"{stack.url('casework')}/intake-records/new", headers=bearer(cw))).json()
    ] == []
