"""Journey 4 — Approve a related person: the caseworker approves a related
person for a period; the related person, logged in with their own e-ID, sees the
citizen and acts for them in intake only inside the period. Editing the period
and revoking take effect at once. Real services, Kafka and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from conftest import (
    Stack,
    TopicWatch,
    bankid_login,
    bearer,
    eventually,
    investigation_started,
    linked_person,
    new_personnummer,
)

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()


async def _representation_status(
    http: httpx.AsyncClient, stack: Stack, token: str, approval_id: str, expected: int
) -> httpx.Response | None:
    response = await http.get(
        f"{stack.url('intake')}/representations/{approval_id}/applications", headers=bearer(token)
    )
    return response if response.status_code == expected else None


async def test_related_person_acts_for_the_citizen_only_inside_the_approval(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    citizen_pnr, related_pnr = new_personnummer(), new_personnummer()
    link, cw, application = await linked_person(http, stack, citizen_pnr, citizen_name="Annika Test")
    await investigation_started(http, stack, link, cw)  # approvals only from then on (CW-7)
    casework, intake = stack.url("casework"), stack.url("intake")
    related = await bankid_login(http, stack, related_pnr, "Josefine Test")  # their own e-ID

    async with TopicWatch(stack, "casework.persons.v1") as persons:
        response = await http.post(
            f"{casework}/persons/{link['person_id']}/approvals",
            headers=bearer(cw),
            json={
                "related_personnummer": related_pnr,
                "related_name": "Josefine Test",
                "valid_from": TODAY.isoformat(),
                "consent_registered": True,
                "consent_info": "Samtycke inhämtat muntligt",
            },
        )
        assert response.status_code == 201, response.text
        approval = response.json()
        event = await persons.next("se.omsorg.casework.person.related-person-approved.v1", link["person_id"])
    assert event["data"]["version"] == 1
    assert approval["citizen"] == {"personnummer": citizen_pnr, "name": "Annika Test"}
    assert approval["related"] == {"personnummer": related_pnr, "name": "Josefine Test"}
    assert approval["valid_to"] == TODAY.replace(year=TODAY.year + 1).isoformat()  # one year by default
    assert approval["active"] is True
    assert event["data"]["approval_id"] == approval["id"]
    assert related_pnr not in str(event["headers"]) and citizen_pnr not in event["key"]
    listed = (await http.get(f"{casework}/persons/{link['person_id']}/approvals", headers=bearer(cw))).json()
    assert [a["id"] for a in listed] == [approval["id"]]

    async def represented() -> list[dict[str, Any]]:
        return list((await http.get(f"{intake}/representations", headers=bearer(related))).json())

    [representation] = await eventually(represented)
    assert representation == {
        "approval_id": approval["id"],
        "citizen_name": "Annika Test",
        "valid_from": TODAY.isoformat(),
        "valid_to": approval["valid_to"],
        "active": True,
    }
    applications = (
        await http.get(f"{intake}/representations/{approval['id']}/applications", headers=bearer(related))
    ).json()
    assert [a["id"] for a in applications] == [application["id"]]

    # A related person can never file a new application for the citizen (IN-3).
    refused = await http.post(
        f"{intake}/applications",
        headers=bearer(related),
        json={
            "entry": "sol",
            "services": ["hemtjanst"],
            "description": "För min mamma",
            "acting_for": approval["id"],
        },
    )
    assert refused.status_code == 403
    # Someone else cannot use the approval.
    stranger = await stack.token("citizen", pnr=new_personnummer(), name="Okänd Person")
    assert (
        await http.get(f"{intake}/representations/{approval['id']}/applications", headers=bearer(stranger))
    ).status_code == 403

    # The period moved into the past: refused at once, without restarts.
    moved = await http.patch(
        f"{casework}/approvals/{approval['id']}",
        headers=bearer(cw),
        json={
            "valid_from": (TODAY - timedelta(days=30)).isoformat(),
            "valid_to": (TODAY - timedelta(days=1)).isoformat(),
        },
    )
    assert moved.status_code == 200 and moved.json()["active"] is False
    expired = await eventually(lambda: _representation_status(http, stack, related, approval["id"], 403))
    assert "not today" in expired.json()["detail"]
    back = await http.patch(
        f"{casework}/approvals/{approval['id']}",
        headers=bearer(cw),
        json={"valid_to": (TODAY + timedelta(days=90)).isoformat()},
    )
    assert back.status_code == 200
    await eventually(lambda: _representation_status(http, stack, related, approval["id"], 200))

    # Revoked: refused at once, gone from the lists.
    approval_url = f"{casework}/approvals/{approval['id']}"
    assert (await http.delete(approval_url, headers=bearer(cw))).status_code == 204
    revoked = await eventually(lambda: _representation_status(http, stack, related, approval["id"], 403))
    assert "revoked" in revoked.json()["detail"]
    assert await represented() == []
    assert (
        await http.get(f"{casework}/persons/{link['person_id']}/approvals", headers=bearer(cw))
    ).json() == []
    assert (await http.delete(approval_url, headers=bearer(cw))).status_code == 404
    # Revocation is final: editing the revoked approval is refused, and nothing brings it back.
    edit = await http.patch(approval_url, headers=bearer(cw), json={"valid_to": approval["valid_to"]})
    assert edit.status_code == 409 and edit.headers["content-type"] == "application/problem+json"
    assert "revoked" in edit.json()["detail"]

    # Every refusal is in intake's audit log, for the log reviewer.
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = (
        await http.post(
            f"{intake}/access-log/search", headers=bearer(reviewer), json={"personnummer": citizen_pnr}
        )
    ).json()
    refusals = [e for e in log if e["outcome"] == "refused"]
    assert {e["actor_role"] for e in refusals} == {"related_person"}
    assert len(refusals) >= 3  # stranger, expired, revoked
    assert any(
        e["outcome"] == "allowed" and e["action"] == "list" and e["actor_role"] == "related_person"
        for e in log
    )


async def test_relation_with_alerts_makes_the_related_person_alerted(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    link, cw, _ = await linked_person(http, stack, new_personnummer())
    related_pnr = new_personnummer()
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"
    relation = await http.post(
        f"{person_url}/relations",
        headers=bearer(cw),
        json={
            "relation_type": "Godkänd för meddelande",
            "related_personnummer": related_pnr,
            "related_name": "Isabella Test",
            "valid_from": TODAY.isoformat(),
            "phone": "0703503375",
            "email": "isabella@example.se",
            "sms_alerts": True,
        },
    )
    assert relation.status_code == 201, relation.text
    assert relation.json()["related"] == {"personnummer": related_pnr, "name": "Isabella Test"}
    relations = (await http.get(f"{person_url}/relations", headers=bearer(cw))).json()
    assert [r["relation_type"] for r in relations] == ["Godkänd för meddelande"]
    async with TopicWatch(stack, "casework.persons.v1") as persons:
        response = await http.put(
            f"{person_url}/e-service",
            headers=bearer(cw),
            json={"messages_enabled": True, "alert_recipients": "related"},
        )
        assert response.status_code == 200, response.text
        event = await persons.next(
            "se.omsorg.casework.person.e-service-settings-changed.v1", link["person_id"]
        )
    assert event["data"]["alert_recipients"] == "related"
    assert event["data"]["related_alerts"] == [
        {"related_pnr": related_pnr, "name": "Isabella Test", "sms_number": "+46703503375", "email": None}
    ]

    relation_url = f"{stack.url('casework')}/relations/{relation.json()['id']}"
    for body in (
        {"sms_alerts": True, "phone": None},
        {"valid_to": (TODAY - timedelta(days=1)).isoformat()},
        {"email_alerts": None},
        {"phone": "011-123456"},
    ):
        refused = await http.patch(relation_url, headers=bearer(cw), json=body)
        assert refused.status_code == 422, (body, refused.text)
    async with TopicWatch(stack, "casework.persons.v1") as persons:
        edited = await http.patch(relation_url, headers=bearer(cw), json={"email_alerts": True})
        assert edited.status_code == 200, edited.text
        edited_event = await persons.next(
            "se.omsorg.casework.person.e-service-settings-changed.v1", link["person_id"]
        )
    assert edited_event["data"]["related_alerts"][0]["email"] == "isabella@example.se"
    # Consumers order a person's settings by this version, not by the clocks of hosts.
    assert edited_event["data"]["version"] > event["data"]["version"] >= 1
    # The only alerted relation cannot go while alerts go only to related persons.
    assert (await http.delete(relation_url, headers=bearer(cw))).status_code == 409
    assert (
        await http.put(
            f"{person_url}/e-service",
            headers=bearer(cw),
            json={"messages_enabled": True, "alert_recipients": "citizen"},
        )
    ).status_code == 200
    assert (await http.delete(relation_url, headers=bearer(cw))).status_code == 204
    assert (await http.get(f"{person_url}/relations", headers=bearer(cw))).json() == []
    assert (await http.delete(relation_url, headers=bearer(cw))).status_code == 404


async def test_approval_and_relation_bad_input_is_refused_and_nothing_written(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    citizen_pnr, related_pnr = new_personnummer(), new_personnummer()
    link, cw, _ = await linked_person(http, stack, citizen_pnr)
    await investigation_started(http, stack, link, cw)
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"
    good = {
        "related_personnummer": related_pnr,
        "related_name": "Josefine Test",
        "valid_from": TODAY.isoformat(),
        "consent_registered": True,
    }
    approval_cases: list[tuple[dict[str, Any], int]] = [
        ({**good, "valid_to": (TODAY - timedelta(days=1)).isoformat()}, 422),  # dates inverted
        ({**good, "related_personnummer": citizen_pnr}, 422),  # approving the citizen themself
        ({**good, "related_personnummer": "19121212-1213"}, 422),  # wrong check digit
        ({**good, "related_personnummer": "not a number"}, 422),
        ({k: v for k, v in good.items() if k != "valid_from"}, 422),  # from is required
        ({**good, "related_name": "  "}, 422),
        ({**good, "valid_from": "2024-02-30"}, 422),
        ({**good, "valid_from": "9999-06-01"}, 422),  # no year after it
        ({**good, "consent_registered": False}, 422),  # consent first (CW-7)
        ({k: v for k, v in good.items() if k != "consent_registered"}, 422),
        ({**good, "consent_info": "x\u0000y"}, 422),  # text the database cannot store
        ({**good, "citizen_pnr": citizen_pnr}, 422),
    ]
    for body, expected in approval_cases:
        response = await http.post(f"{person_url}/approvals", headers=bearer(cw), json=body)
        assert response.status_code == expected, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await http.get(f"{person_url}/approvals", headers=bearer(cw))).json() == []

    created = await http.post(f"{person_url}/approvals", headers=bearer(cw), json=good)
    assert created.status_code == 201
    overlapping = await http.post(
        f"{person_url}/approvals",
        headers=bearer(cw),
        json={**good, "valid_from": (TODAY + timedelta(days=10)).isoformat()},
    )
    assert overlapping.status_code == 409
    # A later, separate approval may not be stretched over the first one either.
    later = await http.post(
        f"{person_url}/approvals",
        headers=bearer(cw),
        json={**good, "valid_from": (TODAY + timedelta(days=400)).isoformat()},
    )
    assert later.status_code == 201, later.text
    stretched = await http.patch(
        f"{stack.url('casework')}/approvals/{later.json()['id']}",
        headers=bearer(cw),
        json={"valid_from": TODAY.isoformat()},
    )
    assert stretched.status_code == 409
    assert (
        await http.delete(f"{stack.url('casework')}/approvals/{later.json()['id']}", headers=bearer(cw))
    ).status_code == 204
    approval_url = f"{stack.url('casework')}/approvals/{created.json()['id']}"
    for body in (
        {"valid_to": (TODAY - timedelta(days=1)).isoformat()},
        {"valid_from": None},
        {"related_personnummer": citizen_pnr},
        {"consent_info": "x" * 2001},
    ):
        response = await http.patch(approval_url, headers=bearer(cw), json=body)
        assert response.status_code == 422, (body, response.text)
    [unchanged] = (await http.get(f"{person_url}/approvals", headers=bearer(cw))).json()
    assert unchanged == created.json()

    relation_good = {
        "relation_type": "God man",
        "related_personnummer": related_pnr,
        "related_name": "Isabella Test",
        "valid_from": TODAY.isoformat(),
    }
    # A relation that has ended is registered, but alerts never go to it.
    ended = await http.post(
        f"{person_url}/relations",
        headers=bearer(cw),
        json={
            **relation_good,
            "valid_from": (TODAY - timedelta(days=60)).isoformat(),
            "valid_to": (TODAY - timedelta(days=1)).isoformat(),
            "phone": "0701112233",
            "sms_alerts": True,
        },
    )
    assert ended.status_code == 201
    to_ended = await http.put(
        f"{person_url}/e-service",
        headers=bearer(cw),
        json={"messages_enabled": True, "alert_recipients": "both"},
    )
    assert to_ended.status_code == 422
    for body in (
        {**relation_good, "relation_type": "Granne"},
        {**relation_good, "valid_to": (TODAY - timedelta(days=1)).isoformat()},
        {**relation_good, "sms_alerts": True},  # no phone
        {**relation_good, "email_alerts": True},  # no e-mail
        {**relation_good, "phone": "011-123456", "sms_alerts": True},  # not a mobile
        {**relation_good, "related_personnummer": citizen_pnr},
    ):
        response = await http.post(f"{person_url}/relations", headers=bearer(cw), json=body)
        assert response.status_code == 422, (body, response.text)
    assert [r["id"] for r in (await http.get(f"{person_url}/relations", headers=bearer(cw))).json()] == [
        ended.json()["id"]
    ]
