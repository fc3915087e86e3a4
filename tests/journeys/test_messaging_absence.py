"""Journey 11 — Staff away (MS-7, MS-8): a caseworker sets a planned absence with
an automatic reply and forwarding to their unit's group mailbox; a citizen who
writes to them through the e-service gets the automatic reply in their e-service
mailbox, and a colleague who is a member of the group mailbox finds the message
there, with why it is there; an administrator with the permission sets an
unplanned absence for a colleague on sick leave, one without it is refused.
Bad input answers problem details and writes nothing. Real services, Kafka and
PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from conftest import (
    Stack,
    bankid_login,
    bearer,
    caseworker_token,
    eventually,
    linked_person,
    new_personnummer,
)

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
PROBLEM = "application/problem+json"
UNIT = "ifo-vuxen"


async def settings_of(http: httpx.AsyncClient, stack: Stack, token: str) -> dict[str, Any]:
    response = await http.get(f"{stack.url('messaging')}/settings", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def inbox(http: httpx.AsyncClient, stack: Stack, token: str, mailbox_id: str) -> list[dict[str, Any]]:
    response = await http.get(
        f"{stack.url('messaging')}/mailboxes/{mailbox_id}/messages",
        headers=bearer(token),
        params={"folder": "inbox"},
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_caseworker_away_gets_an_automatic_reply_sent_and_the_group_mailbox_reads_the_message(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    messaging = stack.url("messaging")
    pnr = new_personnummer()
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name="Annika Test", unit=UNIT)
    response = await http.put(
        f"{stack.url('casework')}/persons/{link['person_id']}/e-service",
        headers=bearer(caseworker),
        json={"messages_enabled": True},
    )
    assert response.status_code == 200, response.text
    citizen = await bankid_login(http, stack, pnr, "Annika Test")

    async def known() -> bool:
        response = await http.get(f"{messaging}/e-service/mailbox", headers=bearer(citizen))
        return response.status_code == 200 and bool(response.json()["caseworkers"])

    await eventually(known)

    # Inställningar: the group mailboxes the caseworker has access to.
    before = await settings_of(http, stack, caseworker)
    [group] = before["group_mailboxes"]
    assert (group["name"], group["unit"]) == ("IFO vuxen", UNIT)
    assert before["absence"]["enabled"] is False

    # Bad input and a group mailbox of another unit: problem details, nothing written.
    other_unit = await caseworker_token(stack, name="Lena LSS", unit="lss-handlaggare")
    [other_group] = (await settings_of(http, stack, other_unit))["group_mailboxes"]
    bad: list[tuple[dict[str, Any], int]] = [
        (
            {
                "absence": {
                    "enabled": True,
                    "message": "Borta",
                    "valid_from": str(TODAY),
                    "valid_to": str(TODAY - timedelta(days=1)),
                }
            },
            422,
        ),
        ({"absence": {"enabled": True}}, 422),
        ({"signature": "x", "colour": "red"}, 422),
        ({"absence": {"enabled": True, "forward_to_mailbox_id": other_group["id"]}}, 403),
        ({"absence": {"enabled": True, "forward_to_mailbox_id": str(uuid.uuid4())}}, 409),
    ]
    for body, status in bad:
        response = await http.put(f"{messaging}/settings", headers=bearer(caseworker), json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert await settings_of(http, stack, caseworker) == before

    # Planned absence: the automatic reply and forwarding to the unit's group mailbox.
    response = await http.put(
        f"{messaging}/settings",
        headers=bearer(caseworker),
        json={
            "signature": "Marita Aronsson, handläggare",
            "absence": {
                "enabled": True,
                "message": "Jag är ledig. Dina meddelanden läses av IFO vuxen.",
                "valid_from": str(TODAY),
                "valid_to": str(TODAY + timedelta(days=7)),
                "forward_to_mailbox_id": group["id"],
            },
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["absence"]["active_today"] is True

    # The citizen writes to their caseworker.
    response = await http.post(
        f"{messaging}/e-service/messages",
        headers=bearer(citizen),
        json={"subject": "Fråga om mötet", "body": "<p>Kan vi flytta det?</p>"},
    )
    assert response.status_code == 201, response.text
    written = response.json()

    # The citizen's e-service mailbox shows the automatic reply, from the caseworker's mailbox.
    response = await http.get(f"{messaging}/e-service/messages", headers=bearer(citizen))
    assert response.status_code == 200, response.text
    [auto] = response.json()
    assert auto["subject"] == "Autosvar: Fråga om mötet" and auto["unread"] is True
    response = await http.get(f"{messaging}/e-service/messages/{auto['id']}", headers=bearer(citizen))
    assert response.status_code == 200, response.text
    opened = response.json()
    assert opened["author"]["role"] == "system" and opened["reply_to_id"] == written["id"]
    assert "Jag är ledig." in opened["body"] and "Marita Aronsson, handläggare" in opened["body"]

    # A second message in the same conversation gets no second automatic reply.
    response = await http.post(
        f"{messaging}/e-service/messages/{auto['id']}/reply", headers=bearer(citizen), json={"body": "Tack"}
    )
    assert response.status_code == 201, response.text
    response = await http.get(f"{messaging}/e-service/messages", headers=bearer(citizen))
    assert [m["id"] for m in response.json()] == [auto["id"]]

    # A colleague, member of the group mailbox, finds the message there, and why.
    colleague = await caseworker_token(stack, name="Kalle Kollega", unit=UNIT)
    in_group = {m["id"]: m for m in await inbox(http, stack, colleague, group["id"])}
    assert in_group[written["id"]]["unread"] is True
    assert in_group[written["id"]]["subject"] == "Fråga om mötet"
    response = await http.get(f"{messaging}/mailboxes/{group['id']}/forwarded", headers=bearer(colleague))
    assert response.status_code == 200, response.text
    why = {f["message_id"]: f for f in response.json()}
    assert why[written["id"]]["forwarded_for"] == "Marita Aronsson"
    response = await http.get(
        f"{messaging}/messages/{written['id']}", headers=bearer(colleague), params={"mailbox_id": group["id"]}
    )
    assert response.status_code == 200, response.text
    # Someone outside the unit does not see the group mailbox's forwarding.
    response = await http.get(f"{messaging}/mailboxes/{group['id']}/forwarded", headers=bearer(other_unit))
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM


async def test_an_administrator_with_the_permission_sets_a_colleagues_unplanned_absence(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    messaging = stack.url("messaging")
    sick_sub = f"cw-{uuid.uuid4().hex[:8]}"
    sick = await caseworker_token(stack, name="Sjuk Kollega", unit=UNIT, sub=sick_sub)
    [group] = (await settings_of(http, stack, sick))["group_mailboxes"]  # known to messaging now
    absence = {
        "enabled": True,
        "message": "Handläggaren är frånvarande. Ditt meddelande läses av IFO vuxen.",
        "forward_to_mailbox_id": group["id"],
    }

    # A caseworker without the permission: refused, nothing written.
    other = await caseworker_token(stack, name="Vanlig Kollega", unit=UNIT)
    response = await http.put(f"{messaging}/staff/{sick_sub}/absence", headers=bearer(other), json=absence)
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert (await settings_of(http, stack, sick))["absence"]["enabled"] is False

    # The administrator with the permission (not a member of the unit themselves).
    admin = await stack.token("messaging_admin", name="Admin Adminsson", units=["kansliet"])
    response = await http.put(
        f"{messaging}/staff/{uuid.uuid4().hex}/absence", headers=bearer(admin), json=absence
    )
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    response = await http.put(f"{messaging}/staff/{sick_sub}/absence", headers=bearer(admin), json=absence)
    assert response.status_code == 200, response.text
    set_absence = response.json()
    assert set_absence["active_today"] is True and set_absence["forward_to"]["id"] == group["id"]
    assert set_absence["set_by_name"] == "Admin Adminsson"

    # The colleague sees it in their settings; a message to them now reaches the group too.
    assert (await settings_of(http, stack, sick))["absence"] == set_absence
    writer = await caseworker_token(stack, name="Skrivande Kollega", unit="testenhet")
    response = await http.get(f"{messaging}/mailboxes", headers=bearer(sick))
    sick_box = next(m["id"] for m in response.json() if m["kind"] == "personal")
    response = await http.get(f"{messaging}/mailboxes", headers=bearer(writer))
    writer_box = next(m["id"] for m in response.json() if m["kind"] == "personal")
    response = await http.post(
        f"{messaging}/messages",
        headers=bearer(writer),
        json={"from_mailbox_id": writer_box, "to": [sick_box], "subject": "Om ärendet"},
    )
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["id"] in {m["id"] for m in await inbox(http, stack, other, group["id"])}
    [auto] = await inbox(http, stack, writer, writer_box)
    assert auto["subject"] == "Autosvar: Om ärendet"
