"""The access matrix: every object is checked on every request, every refusal
is audit-logged, and a protected person's address is withheld from readers
without the explicit permission. Real services, Kafka and PostgreSQL."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pypdf

from conftest import (
    Stack,
    bearer,
    caseworker_token,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
    submit_application,
)


async def test_a_citizen_reads_only_their_own_application_and_pdf(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    a_pnr = new_personnummer()
    a = await stack.token("citizen", pnr=a_pnr, name="Annika Test")
    b_sub = f"citizen-b-{uuid.uuid4().hex[:6]}"
    b = await stack.token("citizen", pnr=new_personnummer(), name="Bertil Test", sub=b_sub)
    application = await submit_application(
        http, stack, a, entry="lss", services=("lss_daglig_verksamhet", "lss_ledsagarservice")
    )
    intake = stack.url("intake")

    own = await http.get(f"{intake}/applications/{application['id']}/pdf", headers=bearer(a))
    assert own.status_code == 200 and own.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(own.content)).pages[0].extract_text()
    for expected in (
        "Ansökan enligt LSS",
        "Annika Test",
        "Daglig verksamhet",
        "Ledsagarservice",
        "Jag trillar då och då och känner mig otrygg",
        "Skapad",
    ):
        assert expected in text
    for path in (f"/applications/{application['id']}", f"/applications/{application['id']}/pdf"):
        refused = await http.get(f"{intake}{path}", headers=bearer(b))
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"
        assert a_pnr not in refused.text
    assert (await http.get(f"{intake}/applications/{uuid.uuid4()}", headers=bearer(b))).status_code == 404
    caseworker = await caseworker_token(stack)
    assert (await http.get(f"{intake}/applications", headers=bearer(caseworker))).status_code == 403

    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = (
        await http.post(f"{intake}/access-log/search", headers=bearer(reviewer), json={"personnummer": a_pnr})
    ).json()
    assert sorted(e["action"] for e in log if e["actor"] == b_sub and e["outcome"] == "refused") == [
        "read",
        "read_pdf",
    ]
    assert {e["action"] for e in log if e["outcome"] == "allowed"} >= {"create", "read_pdf"}
    assert (
        await http.post(f"{intake}/access-log/search", headers=bearer(a), json={"personnummer": a_pnr})
    ).status_code == 403


async def test_a_caseworker_of_another_unit_cannot_reach_the_person(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, own_unit, _ = await linked_person(http, stack, pnr)
    other_sub = f"other-{uuid.uuid4().hex[:6]}"
    other = await caseworker_token(stack, name="Kalle Annan", unit="annan-enhet", sub=other_sub)
    casework = stack.url("casework")
    person_url = f"{casework}/persons/{link['person_id']}"
    record_url = f"{casework}/intake-records/{link['record_id']}"
    record = (await http.get(record_url, headers=bearer(own_unit))).json()
    document_id = record["documents"][0]["id"]

    attempts = [
        ("GET", person_url, None),
        ("PATCH", person_url, {"phone1": "0701234567"}),
        ("PUT", f"{person_url}/e-service", {"messages_enabled": True}),
        ("GET", f"{person_url}/approvals", None),
        ("GET", f"{person_url}/relations", None),
        (
            "POST",
            f"{person_url}/approvals",
            {
                "related_personnummer": new_personnummer(),
                "related_name": "X Y",
                "valid_from": "2026-01-01",
                "consent_registered": True,
            },
        ),
        ("GET", f"{person_url}/intake-records", None),
        ("GET", f"{casework}/intake-records/{link['record_id']}", None),
        ("GET", f"{casework}/documents/{document_id}", None),
    ]
    for method, url, body in attempts:
        response = await http.request(method, url, headers=bearer(other), json=body)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert pnr not in response.text
    assert (
        await http.post(f"{casework}/persons/search", headers=bearer(other), json={"query": pnr})
    ).json() == []
    # Own unit still reaches it, and the person is unchanged.
    person = (await http.get(person_url, headers=bearer(own_unit))).json()
    assert person["phone1"] is None and person["e_service"]["messages_enabled"] is False

    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = (await http.get(f"{person_url}/access-log", headers=bearer(reviewer))).json()
    refused = [e for e in log if e["actor"] == other_sub]
    assert len(refused) == len(attempts) and {e["outcome"] for e in refused} == {"refused"}
    assert all(e["reason"] for e in refused)
    assert any(e["action"] == "link" and e["outcome"] == "allowed" for e in log)
    assert (await http.get(f"{person_url}/access-log", headers=bearer(own_unit))).status_code == 403
    assert (
        await http.get(f"{casework}/persons/{uuid.uuid4()}/access-log", headers=bearer(reviewer))
    ).status_code == 404


async def test_a_protected_persons_address_is_withheld_without_the_permission(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    link, cw, _ = await linked_person(http, stack, new_personnummer())
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"
    address = {"street": "Ströms väg 15 A", "postal_code": "614 33", "city": "Söderköping"}
    response = await http.patch(
        person_url,
        headers=bearer(cw),
        json={
            "registered_address": address,
            "address": address,
            "municipality": "Söderköping",
            "county": "Östergötland",
            "protected_identity": True,
            "interpreter_needed": True,
        },
    )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["address"] is None and seen["registered_address"] is None
    assert seen["municipality"] is None and seen["county"] is None
    assert seen["address_withheld"] is True
    assert seen["markers"] == {
        "protected_identity": True,
        "confidentiality_marking": False,
        "secret_phone": False,
        "interpreter_needed": True,
    }
    assert "Ströms" not in response.text and "Söderköping" not in response.text

    permitted = await caseworker_token(stack, name="Behörig Handläggare", extra_roles=("protected_identity",))
    full = (await http.get(person_url, headers=bearer(permitted))).json()
    assert full["address"] == address and full["registered_address"] == address
    assert (full["municipality"], full["county"]) == ("Söderköping", "Östergötland")
    assert full["address_withheld"] is False
    # Lifting the marker shows the address to everyone in the unit again.
    await http.patch(person_url, headers=bearer(permitted), json={"protected_identity": False})
    assert (await http.get(person_url, headers=bearer(cw))).json()["address"] == address


async def test_a_related_person_before_the_period_is_refused(stack: Stack, http: httpx.AsyncClient) -> None:
    related_pnr = new_personnummer()
    link, cw, _ = await linked_person(http, stack, new_personnummer())
    await investigation_started(http, stack, link, cw)
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    response = await http.post(
        f"{stack.url('casework')}/persons/{link['person_id']}/approvals",
        headers=bearer(cw),
        json={
            "related_personnummer": related_pnr,
            "related_name": "Framtida Test",
            "valid_from": (today + timedelta(days=7)).isoformat(),
            "consent_registered": True,
        },
    )
    assert response.status_code == 201
    related = await stack.token("citizen", pnr=related_pnr, name="Framtida Test")

    async def listed() -> list[dict[str, object]]:
        response = await http.get(f"{stack.url('intake')}/representations", headers=bearer(related))
        return list(response.json())

    [representation] = await eventually(listed)
    assert representation["active"] is False
    refused = await http.get(
        f"{stack.url('intake')}/representations/{response.json()['id']}/applications", headers=bearer(related)
    )
    assert refused.status_code == 403
