"""Co-caseworkers (medhandläggare, MS-3; journey 5): the citizen's caseworker adds a
colleague of the unit to the intake record; casework announces it on
`casework.cases.v1` (CoCaseworkerAdded, ids and the record's co-caseworker
version, no personal data in key or headers); messaging lets the co-caseworker
write to the citizen's e-service, and the citizen reads it. Removed, the
co-caseworker is refused (403, audited) from the next message on; a colleague
never added is refused too. Intake, which also reads the topic, ignores the new
types and keeps the citizen's contacts. Bad input answers problem details and
writes nothing. Real services, Kafka and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from conftest import (
    Stack,
    TopicWatch,
    bearer,
    caseworker_token,
    e_service_citizen,
    eventually,
    linked_person,
    new_personnummer,
)

ADDED = "se.omsorg.casework.record.co-caseworker-added.v1"
REMOVED = "se.omsorg.casework.record.co-caseworker-removed.v1"
PROBLEM = "application/problem+json"
_INTAKE_IGNORED = re.compile(
    r"^omsorg_consumer_events_total"
    r'\{consumer="intake",outcome="ignored",topic="casework\.cases\.v1"\} (\S+)$',
    re.MULTILINE,
)


async def colleague(
    http: httpx.AsyncClient, stack: Stack, name: str, unit: str = "testenhet"
) -> tuple[str, str]:
    """A caseworker who has used casework, so its staff directory knows them: (sub, token)."""
    sub = f"cw-{uuid.uuid4().hex[:8]}"
    token = await caseworker_token(stack, name=name, unit=unit, sub=sub)
    response = await http.get(
        f"{stack.url('casework')}/caseworkers", headers=bearer(token), params={"unit": unit}
    )
    assert response.status_code == 200 and sub in [c["id"] for c in response.json()], response.text
    return sub, token


async def personal_mailbox(http: httpx.AsyncClient, stack: Stack, token: str) -> str:
    response = await http.get(f"{stack.url('messaging')}/mailboxes", headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(next(m["id"] for m in response.json() if m["kind"] == "personal"))


async def send(
    http: httpx.AsyncClient, stack: Stack, token: str, person_id: str, subject: str
) -> httpx.Response:
    return await http.post(
        f"{stack.url('messaging')}/messages",
        headers=bearer(token),
        json={
            "from_mailbox_id": await personal_mailbox(http, stack, token),
            "to_client": person_id,
            "subject": subject,
            "body": "<p>Vi ses på torsdag.</p>",
        },
    )


async def citizens_caseworkers(http: httpx.AsyncClient, stack: Stack, citizen: str) -> list[str]:
    """Whom messaging lets the citizen write to: the caseworkers and co-caseworkers it knows."""
    response = await http.get(f"{stack.url('messaging')}/e-service/mailbox", headers=bearer(citizen))
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["caseworkers"]]


async def refused(
    http: httpx.AsyncClient, stack: Stack, service: str, pnr: str, actor: str
) -> list[dict[str, Any]]:
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    response = await http.post(
        f"{stack.url(service)}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr}
    )
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["actor"] == actor and e["outcome"] == "refused"]


async def record_view(http: httpx.AsyncClient, stack: Stack, token: str, record_id: str) -> dict[str, Any]:
    response = await http.get(f"{stack.url('casework')}/intake-records/{record_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def intake_ignored(http: httpx.AsyncClient, stack: Stack) -> float:
    """How many casework.cases.v1 records intake's consumer ignored (types it does not handle)."""
    response = await http.get(f"{stack.url('intake')}/metrics")
    assert response.status_code == 200
    found = _INTAKE_IGNORED.search(response.text)
    return float(found.group(1)) if found else 0.0


async def test_a_co_caseworker_writes_to_the_citizen_until_removed(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, citizen = await e_service_citizen(http, stack, pnr, "Annika Test")
    record_id, person_id = link["record_id"], link["person_id"]
    casework = stack.url("casework")
    kalle_sub, kalle = await colleague(http, stack, "Kalle Kollega")
    never_sub, never_added = await colleague(http, stack, "Nils Aldrig")
    ignored_before = await intake_ignored(http, stack)

    # Added by the record's caseworker: announced on casework.cases.v1, ids in key and headers only.
    async with TopicWatch(stack, "casework.cases.v1") as cases:
        response = await http.post(
            f"{casework}/intake-records/{record_id}/co-caseworkers",
            headers=bearer(caseworker),
            json={"caseworker_id": kalle_sub},
        )
        assert response.status_code == 201, response.text
        event = await cases.next(ADDED, record_id)
    assert (response.json()["caseworker_id"], response.json()["caseworker_name"]) == (
        kalle_sub,
        "Kalle Kollega",
    )
    assert {k: event["data"][k] for k in ("record_id", "person_id", "caseworker_id", "unit", "version")} == {
        "record_id": record_id,
        "person_id": person_id,
        "caseworker_id": kalle_sub,
        "unit": "testenhet",
        "version": 1,
    }
    outside = repr({"key": event["key"], "headers": event["headers"]})
    for personal in (pnr, pnr[2:], "Annika", "Kalle"):
        assert personal not in outside
    assert [
        c["caseworker_id"] for c in (await record_view(http, stack, kalle, record_id))["co_caseworkers"]
    ] == [kalle_sub]

    # Once messaging has it, the co-caseworker writes to the citizen, who reads it.
    async def kalle_known() -> bool:
        return kalle_sub in await citizens_caseworkers(http, stack, citizen)

    await eventually(kalle_known)
    sent = await send(http, stack, kalle, person_id, "Inför hembesöket")
    assert sent.status_code == 201, sent.text
    inbox = (await http.get(f"{stack.url('messaging')}/e-service/messages", headers=bearer(citizen))).json()
    assert [(m["id"], m["from_label"]) for m in inbox] == [(sent.json()["id"], "Kalle Kollega")]

    # A colleague of the same unit never added may not.
    response = await send(http, stack, never_added, person_id, "Hej")
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert [
        (r["action"], r["object_type"]) for r in await refused(http, stack, "messaging", pnr, never_sub)
    ] == [("send", "e_service_mailbox")]

    # Removed: the record no longer lists them, and their next message is refused, audited.
    async with TopicWatch(stack, "casework.cases.v1") as cases:
        response = await http.delete(
            f"{casework}/intake-records/{record_id}/co-caseworkers/{kalle_sub}", headers=bearer(caseworker)
        )
        assert response.status_code == 204, response.text
        event = await cases.next(REMOVED, record_id)
    assert (event["data"]["caseworker_id"], event["data"]["version"]) == (kalle_sub, 2)
    assert (await record_view(http, stack, caseworker, record_id))["co_caseworkers"] == []

    async def kalle_gone() -> bool:
        return kalle_sub not in await citizens_caseworkers(http, stack, citizen)

    await eventually(kalle_gone)
    response = await send(http, stack, kalle, person_id, "Igen")
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert [
        (r["action"], r["object_type"]) for r in await refused(http, stack, "messaging", pnr, kalle_sub)
    ] == [("send", "e_service_mailbox")]
    inbox = (await http.get(f"{stack.url('messaging')}/e-service/messages", headers=bearer(citizen))).json()
    assert [m["id"] for m in inbox] == [sent.json()["id"]]

    # Intake reads casework.cases.v1 too: it ignores both new types (nothing dead-lettered,
    # nothing stuck) and the citizen's contacts still name the caseworker.
    async def intake_passed_them() -> bool:
        return await intake_ignored(http, stack) >= ignored_before + 2

    await eventually(intake_passed_them)
    contacts = await http.get(f"{stack.url('intake')}/contacts", headers=bearer(citizen))
    assert contacts.status_code == 200
    assert [c["caseworker_name"] for c in contacts.json()] == ["Marita Aronsson"]


async def test_bad_input_answers_problem_details_and_writes_nothing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, caseworker, _ = await linked_person(http, stack, pnr)
    record_id = link["record_id"]
    path = f"{stack.url('casework')}/intake-records/{record_id}/co-caseworkers"
    kalle_sub, _ = await colleague(http, stack, "Kalle Kollega")
    other_unit_sub, other_unit = await colleague(http, stack, "Bo Barn", unit="ifo-barn-och-familj")
    own_sub = (await record_view(http, stack, caseworker, record_id))["caseworker_id"]

    response = await http.post(path, headers=bearer(caseworker), json={"caseworker_id": kalle_sub})
    assert response.status_code == 201, response.text

    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"caseworker_id": f"cw-{uuid.uuid4().hex[:8]}"}, 422, "not a caseworker"),  # unknown
        ({"caseworker_id": other_unit_sub}, 422, "not a caseworker"),  # another unit's caseworker
        ({"caseworker_id": own_sub}, 409, "the record's caseworker"),
        ({"caseworker_id": kalle_sub}, 409, "already"),  # twice
        ({"caseworker_id": ""}, 422, ""),
        ({"caseworker_id": kalle_sub, "role": "chef"}, 422, ""),
        ({}, 422, ""),
    ]
    for body, status, detail in bad:
        response = await http.post(path, headers=bearer(caseworker), json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert detail in response.json()["detail"], (body, response.json())

    # Not a co-caseworker, or no such record: 404.
    response = await http.delete(f"{path}/{other_unit_sub}", headers=bearer(caseworker))
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    response = await http.post(
        f"{stack.url('casework')}/intake-records/{uuid.uuid4()}/co-caseworkers",
        headers=bearer(caseworker),
        json={"caseworker_id": kalle_sub},
    )
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM

    # A caseworker of another unit may neither add nor remove: 403, audited.
    response = await http.post(path, headers=bearer(other_unit), json={"caseworker_id": other_unit_sub})
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    response = await http.delete(f"{path}/{kalle_sub}", headers=bearer(other_unit))
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert [
        (r["action"], r["object_type"]) for r in await refused(http, stack, "casework", pnr, other_unit_sub)
    ] == [("delete", "co_caseworker"), ("create", "co_caseworker")]  # newest first

    # Nothing of it was written: the record lists the one co-caseworker added.
    view = await record_view(http, stack, caseworker, record_id)
    assert [c["caseworker_id"] for c in view["co_caseworkers"]] == [kalle_sub]
