"""Journey 3 — Activate the e-service, and journey 12 — the citizen updates
contact details. The caseworker's activation goes out at once as
EServiceSettingsChanged; a citizen's new mobile number in Mina sidor reaches the
person record in casework and, because alerts go there, a new
EServiceSettingsChanged. Real services, Kafka and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import Stack, TopicWatch, bankid_login, bearer, eventually, linked_person, new_personnummer

SETTINGS_CHANGED = "se.omsorg.casework.person.e-service-settings-changed.v1"


async def test_activation_takes_effect_at_once_and_contact_changes_follow(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, cw, _ = await linked_person(http, stack, pnr)
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"

    # SMS to phone 2 while the person has no phone 2: refused, nothing changes.
    refused = await http.put(
        f"{person_url}/e-service",
        headers=bearer(cw),
        json={"messages_enabled": True, "sms_alerts": True, "sms_phone": 2},
    )
    assert refused.status_code == 422
    assert "phone 2" in refused.json()["detail"]
    assert (await http.get(person_url, headers=bearer(cw))).json()["e_service"]["messages_enabled"] is False

    updated = await http.patch(
        person_url,
        headers=bearer(cw),
        json={"phone1": "011-12 34 56", "phone2": "070-123 45 67", "municipality": "Söderköping"},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["phone2"] == "+46701234567"

    async with TopicWatch(stack, "casework.persons.v1") as persons:
        response = await http.put(
            f"{person_url}/e-service",
            headers=bearer(cw),
            json={
                "messages_enabled": True,
                "sms_alerts": True,
                "sms_phone": 2,
                "email_alerts": True,
                "alert_email": "annika@example.se",
            },
        )
        assert response.status_code == 200, response.text
        banner = response.json()["e_service"]
        assert banner == {
            "messages_enabled": True,
            "sms_alerts": True,
            "sms_phone": 2,
            "email_alerts": True,
            "alert_recipients": "citizen",
        }
        event = await persons.next(SETTINGS_CHANGED, link["person_id"])
    assert event["data"]["messages_enabled"] is True
    assert event["data"]["sms_number"] == "+46701234567"
    assert event["data"]["email"] == "annika@example.se"
    assert pnr not in str(event["headers"])

    # Journey 12: the citizen changes mobile and e-mail in Mina sidor.
    citizen = await stack.token("citizen", pnr=pnr, name="Annika Test")
    async with TopicWatch(stack, "casework.persons.v1") as persons:
        profile = await http.put(
            f"{stack.url('intake')}/profile",
            headers=bearer(citizen),
            json={"mobile": "0739 87 65 43", "email": "annika.ny@example.se"},
        )
        assert profile.status_code == 200, profile.text
        assert profile.json()["mobile"] == "+46739876543"
        event = await persons.next(SETTINGS_CHANGED, link["person_id"])
    assert event["data"]["sms_number"] == "+46739876543"
    assert event["data"]["email"] == "annika.ny@example.se"
    person = (await http.get(person_url, headers=bearer(cw))).json()
    assert person["phone2"] == "+46739876543" and person["phone1"] == "+4611123456"
    assert person["email"] == "annika.ny@example.se"
    own = (await http.get(f"{stack.url('intake')}/profile", headers=bearer(citizen))).json()
    assert (own["mobile"], own["email"]) == ("+46739876543", "annika.ny@example.se")


async def test_contact_change_of_a_person_without_alerts_updates_the_record_only(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, cw, _ = await linked_person(http, stack, pnr)
    citizen = await stack.token("citizen", pnr=pnr, name="Annika Test")
    response = await http.put(
        f"{stack.url('intake')}/profile",
        headers=bearer(citizen),
        json={"mobile": "+46 70 111 22 33", "email": None},
    )
    assert response.status_code == 200

    async def phone_updated() -> dict[str, Any] | None:
        person = (
            await http.get(f"{stack.url('casework')}/persons/{link['person_id']}", headers=bearer(cw))
        ).json()
        return person if person["phone1"] == "+46701112233" else None

    person = await eventually(phone_updated)
    assert person["e_service"]["messages_enabled"] is False


async def test_e_service_and_person_bad_input_is_refused_and_nothing_written(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    link, cw, _ = await linked_person(http, stack, new_personnummer())
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"
    before = (await http.get(person_url, headers=bearer(cw))).json()
    e_service_cases: list[dict[str, Any]] = [
        {"messages_enabled": True, "sms_alerts": True},  # which phone?
        {"messages_enabled": True, "sms_alerts": True, "sms_phone": 1},  # phone 1 missing
        {"messages_enabled": True, "sms_alerts": True, "sms_phone": 3},
        {"messages_enabled": True, "email_alerts": True},  # no e-mail address
        {"messages_enabled": True, "email_alerts": True, "alert_email": "inte-en-adress"},
        {"messages_enabled": False, "email_alerts": True, "alert_email": "a@example.se"},
        {"messages_enabled": True, "alert_recipients": "related"},  # no relation with alerts
        {"messages_enabled": True, "sms_phone": 1},
        {"messages_enabled": "kanske"},
        {},
    ]
    for body in e_service_cases:
        response = await http.put(f"{person_url}/e-service", headers=bearer(cw), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    person_cases: list[dict[str, Any]] = [
        {"phone1": "12345"},
        {"phone2": "+4512345678"},
        {"email": "a@"},
        {"name": None},
        {"name": ""},
        {"address": {"street": "Ströms väg 15 A", "postal_code": "ABC", "city": "Söderköping"}},
        {"address": {"street": "Ströms väg 15 A"}},
        {"protected_identity": None},
        {"kundnummer": "1"},
    ]
    for body in person_cases:
        response = await http.patch(person_url, headers=bearer(cw), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # Switching SMS alerts on for a landline is refused too.
    landline_set = await http.patch(person_url, headers=bearer(cw), json={"phone1": "011-123456"})
    assert landline_set.status_code == 200
    landline = await http.put(
        f"{person_url}/e-service",
        headers=bearer(cw),
        json={"messages_enabled": True, "sms_alerts": True, "sms_phone": 1},
    )
    assert landline.status_code == 422
    after = (await http.get(person_url, headers=bearer(cw))).json()
    assert after["e_service"] == before["e_service"]
    assert {k: v for k, v in after.items() if k not in ("phone1", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("phone1", "updated_at")
    }


async def test_profile_bad_input_is_refused_and_nothing_written(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    citizen = await stack.token("citizen", pnr=new_personnummer(), name="Tolvan Test")
    url = f"{stack.url('intake')}/profile"
    assert (
        await http.put(url, headers=bearer(citizen), json={"mobile": "0701234567", "email": "t@example.se"})
    ).status_code == 200
    for body in (
        {"mobile": "011-123456", "email": None},  # not a mobile: no SMS there
        {"mobile": "07012", "email": None},
        {"mobile": None, "email": "t@@example"},
        {},
        {"mobile": None, "email": None, "pnr": "191212121212"},
        {"mobile": 46701234567},
    ):
        response = await http.put(url, headers=bearer(citizen), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    own = (await http.get(url, headers=bearer(citizen))).json()
    assert (own["mobile"], own["email"]) == ("+46701234567", "t@example.se")
    assert (await http.put(url, json={"mobile": None, "email": None})).status_code == 401


async def test_contact_details_set_before_the_first_link_reach_the_new_person(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    citizen = await bankid_login(http, stack, pnr, "Annika Test")
    async with TopicWatch(stack, "intake.citizens.v1") as citizens:
        first = await http.put(
            f"{stack.url('intake')}/profile",
            headers=bearer(citizen),
            json={"mobile": "0701234567", "email": "annika@example.se"},
        )
        assert first.status_code == 200
        event = await citizens.next(
            "se.omsorg.intake.citizen.contact-details-changed.v1", first.json()["citizen_id"]
        )
    assert pnr not in event["key"] and pnr not in str(event["headers"])
    # Changing only the e-mail leaves the mobile as it is.
    only_email = await http.put(
        f"{stack.url('intake')}/profile", headers=bearer(citizen), json={"email": "annika.ny@example.se"}
    )
    assert only_email.json()["mobile"] == "+46701234567"
    assert only_email.json()["email"] == "annika.ny@example.se"

    # Whichever comes first, the link or the contact events, the record ends up with both.
    link, cw, _ = await linked_person(http, stack, pnr)

    async def adopted() -> dict[str, Any] | None:
        person = (
            await http.get(f"{stack.url('casework')}/persons/{link['person_id']}", headers=bearer(cw))
        ).json()
        return person if person["email"] == "annika.ny@example.se" else None

    person = await eventually(adopted)
    assert person["phone1"] == "+46701234567"
