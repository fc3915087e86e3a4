"""Providers, users, access reviews and service windows over HTTP on the running
provider service (127.0.0.1:8104) with tokens from the development issuer:
the admin registers a provider (ProviderRegistered on Kafka) and a unit, the
manager adds a user who then sees the service windows, a deactivated user's
token is refused with problem details, and bad input is refused with problem
details and nothing written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from conftest import Stack, TopicWatch, bearer
from shared.contracts.provider import PROVIDERS_TOPIC
from shared.personnummer import luhn_checksum_digit

PROBLEM = "application/problem+json"


def organisation_number() -> str:
    nine = f"55{uuid.uuid4().int % 10**7:07d}"
    return f"{nine[:6]}-{nine[6:]}{luhn_checksum_digit(nine)}"


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


async def admin(stack: Stack) -> str:
    return await stack.token("admin", name="Åsa Admin", units=["kommunen"])


async def register(http: httpx.AsyncClient, stack: Stack, admin_token: str) -> dict[str, Any]:
    """A provider with one unit; its manager's sub and unit code in the answer."""
    url = stack.url("provider")
    manager_sub, code = f"mgr-{uuid.uuid4().hex[:8]}", f"enhet-{uuid.uuid4().hex[:8]}"
    created = await http.post(
        f"{url}/providers",
        headers=bearer(admin_token),
        json={
            "name": "Omsorg i Norr AB",
            "organisation_number": organisation_number(),
            "kind": "lov",
            "manager": {"sub": manager_sub, "name": "Maja Chef"},
        },
    )
    assert created.status_code == 201, created.text
    provider = dict(created.json())
    unit = await http.post(
        f"{url}/providers/{provider['id']}/units",
        headers=bearer(admin_token),
        json={"code": code, "name": "Hemtjänst Norr"},
    )
    assert unit.status_code == 201, unit.text
    return {**provider, "manager_sub": manager_sub, "unit": code}


async def provider_token(stack: Stack, provider: dict[str, Any], sub: str, manager: bool = False) -> str:
    role = "provider_manager" if manager else "provider"
    return await stack.token(
        role, sub=sub, name="Ulla Utförare", provider_id=provider["id"], units=[provider["unit"]]
    )


async def test_a_provider_its_manager_and_a_user_who_is_deactivated(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url, admin_token = stack.url("provider"), await admin(stack)
    async with TopicWatch(stack, PROVIDERS_TOPIC) as watch:
        provider = await register(http, stack, admin_token)
        registered = await watch.next("se.omsorg.provider.provider.registered.v1", provider["id"])
        unit = await watch.next("se.omsorg.provider.unit.added.v1", provider["id"])
    assert registered["data"]["name"] == "Omsorg i Norr AB"
    assert registered["data"]["organisation_number"] == provider["organisation_number"]
    assert unit["data"]["unit"] == provider["unit"]

    manager = await provider_token(stack, provider, provider["manager_sub"], manager=True)
    sub = f"pu-{uuid.uuid4().hex[:8]}"
    added = await http.post(
        f"{url}/providers/{provider['id']}/users", headers=bearer(manager), json={"sub": sub, "name": "Ulla"}
    )
    assert added.status_code == 201, added.text
    staff = await provider_token(stack, provider, sub)
    shown = await http.get(f"{url}/service-windows", headers=bearer(staff))
    assert shown.status_code == 200, shown.text
    own = await http.get(f"{url}/providers/{provider['id']}", headers=bearer(staff))
    assert [u["code"] for u in own.json()["units"]] == [provider["unit"]]

    deactivated = await http.post(f"{url}/users/{sub}/deactivate", headers=bearer(manager))
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    is_problem(await http.get(f"{url}/service-windows", headers=bearer(staff)), 403)
    reactivated = await http.post(f"{url}/users/{sub}/reactivate", headers=bearer(manager))
    assert reactivated.status_code == 200, reactivated.text
    assert (await http.get(f"{url}/service-windows", headers=bearer(staff))).status_code == 200


async def test_another_providers_manager_and_users_are_refused(stack: Stack, http: httpx.AsyncClient) -> None:
    url, admin_token = stack.url("provider"), await admin(stack)
    acme, other = await register(http, stack, admin_token), await register(http, stack, admin_token)
    other_manager = await provider_token(stack, other, other["manager_sub"], manager=True)

    is_problem(await http.get(f"{url}/providers/{acme['id']}/users", headers=bearer(other_manager)), 403)
    is_problem(
        await http.post(f"{url}/users/{acme['manager_sub']}/deactivate", headers=bearer(other_manager)), 403
    )
    is_problem(await http.get(f"{url}/providers/{acme['id']}", headers=bearer(other_manager)), 403)
    # A provider user is no admin.
    is_problem(await http.get(f"{url}/access-reviews/overdue", headers=bearer(other_manager)), 403)


async def test_the_access_review_over_http(stack: Stack, http: httpx.AsyncClient) -> None:
    url, admin_token = stack.url("provider"), await admin(stack)
    provider = await register(http, stack, admin_token)
    manager = await provider_token(stack, provider, provider["manager_sub"], manager=True)

    overdue = await http.get(f"{url}/access-reviews/overdue", headers=bearer(admin_token))
    assert overdue.status_code == 200, overdue.text
    [shown] = [p for p in overdue.json() if p["provider_id"] == provider["id"]]
    assert shown["last_reviewed_at"] is None and shown["reminded_at"] is not None
    assert [m["sub"] for m in shown["managers"]] == [provider["manager_sub"]]

    is_problem(
        await http.post(
            f"{url}/providers/{provider['id']}/access-reviews",
            headers=bearer(manager),
            json={"active_users": [provider["manager_sub"], "someone-else"]},
        ),
        409,
    )
    confirmed = await http.post(
        f"{url}/providers/{provider['id']}/access-reviews",
        headers=bearer(manager),
        json={"active_users": [provider["manager_sub"]]},
    )
    assert confirmed.status_code == 201, confirmed.text
    again = await http.get(f"{url}/access-reviews/overdue", headers=bearer(admin_token))
    assert provider["id"] not in {p["provider_id"] for p in again.json()}
    status = (
        await http.get(f"{url}/providers/{provider['id']}/access-reviews", headers=bearer(manager))
    ).json()
    assert status["overdue"] is False and status["last_reminded_at"] is not None


async def test_bad_input_is_refused_with_problem_details_and_nothing_written(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url, admin_token = stack.url("provider"), await admin(stack)
    bad_number = "556677-8899" if luhn_checksum_digit("556677889") != 9 else "556677-8898"
    base = {"name": "Fel AB", "kind": "lov", "manager": {"sub": f"mgr-{uuid.uuid4().hex[:8]}", "name": "M"}}
    for body in (
        {**base, "organisation_number": bad_number},  # wrong check digit
        {**base, "organisation_number": "12345"},
        {**base, "organisation_number": organisation_number(), "kind": "privat"},
        {**base, "organisation_number": organisation_number(), "name": "   "},
        {**base, "organisation_number": organisation_number(), "extra": 1},
    ):
        is_problem(await http.post(f"{url}/providers", headers=bearer(admin_token), json=body), 422)
    listed = (await http.get(f"{url}/providers", headers=bearer(admin_token))).json()
    assert "Fel AB" not in {p["name"] for p in listed}

    provider = await register(http, stack, admin_token)
    for code in ("med mellanslag", "", "ä" * 3):
        is_problem(
            await http.post(
                f"{url}/providers/{provider['id']}/units",
                headers=bearer(admin_token),
                json={"code": code, "name": "X"},
            ),
            422,
        )
    is_problem(
        await http.post(
            f"{url}/providers/{provider['id']}/units",
            headers=bearer(admin_token),
            json={"code": provider["unit"], "name": "Dubblett"},
        ),
        409,
    )
    units = (await http.get(f"{url}/providers/{provider['id']}", headers=bearer(admin_token))).json()["units"]
    assert [u["code"] for u in units] == [provider["unit"]]
    manager = await provider_token(stack, provider, provider["manager_sub"], manager=True)
    for body in (
        {"sub": "", "name": "Ulla"},
        {"sub": "ulla-x", "name": "Ulla", "role": "admin"},
        {"sub": "u"},
    ):
        is_problem(
            await http.post(f"{url}/providers/{provider['id']}/users", headers=bearer(manager), json=body),
            422,
        )
    users = (await http.get(f"{url}/providers/{provider['id']}/users", headers=bearer(manager))).json()
    assert [u["sub"] for u in users] == [provider["manager_sub"]]
    is_problem(
        await http.post(f"{url}/users/{provider['manager_sub']}/deactivate", headers=bearer(manager)), 409
    )
    is_problem(
        await http.post(
            f"{url}/service-windows",
            headers=bearer(admin_token),
            json={
                "from": "2030-01-02T22:00:00+01:00",
                "to": "2030-01-02T21:00:00+01:00",
                "text": "Fel ordning",
            },
        ),
        422,
    )
    is_problem(
        await http.post(
            f"{url}/providers",
            headers=bearer(await provider_token(stack, provider, provider["manager_sub"], manager=True)),
            json=base,
        ),
        403,
    )
