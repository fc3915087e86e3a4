"""Journey 1 — Apply: a citizen applies through intake; every caseworker sees
the application in casework's shared e-application inbox with status Ny.
All five services run as real processes on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from conftest import Stack, bankid_login, bearer, caseworker_token, eventually, new_personnummer


async def citizen_token(stack: Stack, pnr: str | None = None, name: str = "Tolvan Tolvansson") -> str:
    return await stack.token("citizen", pnr=pnr or new_personnummer(), name=name)


async def inbox_item(
    http: httpx.AsyncClient, stack: Stack, token: str, application_id: str, **params: Any
) -> dict[str, Any] | None:
    response = await http.get(
        f"{stack.url('casework')}/e-applications", headers=bearer(token), params={"limit": 200, **params}
    )
    assert response.status_code == 200, response.text
    return next((i for i in response.json()["items"] if i["id"] == application_id), None)


async def test_citizen_applies_and_every_caseworker_sees_it_as_new(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    token = await bankid_login(http, stack, pnr, "Annika Test")  # the citizen's own e-ID
    catalogue = (await http.get(f"{stack.url('intake')}/catalogue")).json()
    sol_codes = {c["code"] for c in catalogue if c["entry"] == "sol"}
    assert {"sarskilt_boende", "hemtjanst", "trygghetslarm"} <= sol_codes
    assert {c["code"] for c in catalogue if c["entry"] == "lss"} >= {"lss_bostad_vuxen"}
    assert sum(c["entry"] == "lss" for c in catalogue) == 10  # LSS 9 § 1-10

    response = await http.post(
        f"{stack.url('intake')}/applications",
        headers=bearer(token),
        json={
            "entry": "sol",
            "services": ["hemtjanst", "trygghetslarm"],
            "description": "  Jag trillar då och då och känner mig otrygg  ",
        },
    )
    assert response.status_code == 201, response.text
    application = response.json()
    assert application["status"] == "Ny"
    assert application["description"] == "Jag trillar då och då och känner mig otrygg"
    assert [s["code"] for s in application["services"]] == ["hemtjanst", "trygghetslarm"]

    own = (await http.get(f"{stack.url('intake')}/applications", headers=bearer(token))).json()
    assert [a["id"] for a in own] == [application["id"]]

    # Two different caseworkers of different units both see it: the inbox is shared.
    for cw in (
        await caseworker_token(stack),
        await stack.token("caseworker", name="Kalle Annan", units=["annan-enhet"]),
    ):

        async def listed(cw: str = cw) -> dict[str, Any] | None:
            return await inbox_item(http, stack, cw, application["id"], status="Ny")

        item = await eventually(listed)
        assert item["personnummer"] == pnr
        assert item["name"] == "Annika Test"
        assert item["status"] == "Ny"
        assert item["categories"] == ["Hemtjänst insatser", "Trygghetslarm"]
        assert item["submitted_at"] == application["submitted_at"]


async def test_a_citizen_sees_only_their_own_applications(stack: Stack, http: httpx.AsyncClient) -> None:
    alice, bob = await citizen_token(stack), await citizen_token(stack)
    created = await http.post(
        f"{stack.url('intake')}/applications",
        headers=bearer(alice),
        json={"entry": "lss", "services": ["lss_bostad_vuxen"], "description": "Jag behöver ett boende"},
    )
    assert created.status_code == 201
    bobs = await http.get(f"{stack.url('intake')}/applications", headers=bearer(bob))
    assert bobs.status_code == 200
    assert bobs.json() == []


async def test_inbox_pages_newest_first_without_gaps_or_repeats(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    token = await citizen_token(stack)
    ids = []
    for i in range(5):
        response = await http.post(
            f"{stack.url('intake')}/applications",
            headers=bearer(token),
            json={"entry": "sol", "services": ["hemtjanst"], "description": f"nr {i}"},
        )
        ids.append(response.json()["id"])
    cw = await caseworker_token(stack)

    async def last_arrived() -> dict[str, Any] | None:
        return await inbox_item(http, stack, cw, ids[-1])

    await eventually(last_arrived)

    async def all_arrived() -> bool:
        return all([await inbox_item(http, stack, cw, i) for i in ids])

    await eventually(all_arrived)
    seen: list[str] = []
    after = None
    for _ in range(200):
        params: dict[str, Any] = {"limit": 2}
        if after:
            params["after"] = after
        page = (
            await http.get(f"{stack.url('casework')}/e-applications", headers=bearer(cw), params=params)
        ).json()
        seen.extend(i["id"] for i in page["items"])
        after = page["next"]
        if after is None or set(ids) <= set(seen):
            break
    assert len(seen) == len(set(seen)), "a page repeated an application"
    ours = [i for i in seen if i in ids]
    assert ours == list(reversed(ids)), "not newest first"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"entry": "sol", "services": ["hemtjanst"], "description": "   "}, 422, "description"),
        ({"entry": "sol", "services": ["hemtjanst"]}, 422, "description"),
        ({"entry": "sol", "services": ["hemtjanst"], "description": "x" * 10_001}, 422, "description"),
        ({"entry": "sol", "services": [], "description": "hjälp"}, 422, "services"),
        ({"entry": "sol", "services": ["finns_inte"], "description": "hjälp"}, 422, "finns_inte"),
        ({"entry": "sol", "services": ["lss_ledsagarservice"], "description": "hjälp"}, 422, "SOL"),
        ({"entry": "lss", "services": ["hemtjanst"], "description": "hjälp"}, 422, "LSS"),
        ({"entry": "ifo", "services": ["meddelande_ifo"], "description": "hjälp"}, 422, "entry"),
        (
            {"entry": "sol", "services": ["hemtjanst"], "description": "hjälp", "pnr": "191212121212"},
            422,
            "pnr",
        ),
    ],
)
async def test_bad_applications_get_a_problem_and_write_nothing(
    stack: Stack, http: httpx.AsyncClient, body: dict[str, Any], status: int, fragment: str
) -> None:
    token = await citizen_token(stack)
    response = await http.post(f"{stack.url('intake')}/applications", headers=bearer(token), json=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in response.text
    own = (await http.get(f"{stack.url('intake')}/applications", headers=bearer(token))).json()
    assert own == []


async def test_who_may_apply(stack: Stack, http: httpx.AsyncClient) -> None:
    form = {"entry": "sol", "services": ["hemtjanst"], "description": "hjälp"}
    url = f"{stack.url('intake')}/applications"

    missing = await http.post(url, json=form)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"

    forged = (await citizen_token(stack))[:-6] + "AAAAAA"  # signature no longer matches
    assert (await http.post(url, json=form, headers=bearer(forged))).status_code == 401

    caseworker = await http.post(url, json=form, headers=bearer(await caseworker_token(stack)))
    assert caseworker.status_code == 403
    assert caseworker.headers["content-type"] == "application/problem+json"

    citizen_in_casework = await http.get(
        f"{stack.url('casework')}/e-applications", headers=bearer(await citizen_token(stack))
    )
    assert citizen_in_casework.status_code == 403


async def test_a_malformed_event_is_dead_lettered_and_the_consumer_keeps_going(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.infra.kafka_bootstrap)
    await producer.start()
    try:
        marker = uuid.uuid4().hex
        await producer.send_and_wait(
            "intake.applications.v1",
            f"garbage {marker}".encode(),
            key=b"poison",
            headers=[("ce_type", b"nonsense")],
        )
    finally:
        await producer.stop()

    # The consumer moved on: a new application still reaches the inbox.
    token = await citizen_token(stack)
    created = (
        await http.post(
            f"{stack.url('intake')}/applications",
            headers=bearer(token),
            json={"entry": "sol", "services": ["trygghetslarm"], "description": "efter giftet"},
        )
    ).json()
    cw = await caseworker_token(stack)

    async def arrived() -> dict[str, Any] | None:
        return await inbox_item(http, stack, cw, created["id"])

    await eventually(arrived, timeout=15)

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        "intake.applications.v1.dlq.casework",
        bootstrap_servers=stack.infra.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found = None
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if marker.encode() in record.value:
                        found = record
            if found:
                break
    finally:
        await consumer.stop()
    assert found is not None, "the malformed event is not in the dead-letter topic"
    assert dict(found.headers)["dlq_error"].startswith(b"unparseable record")


async def test_every_service_is_ready_and_documents_its_api(stack: Stack, http: httpx.AsyncClient) -> None:
    for service in ("intake", "casework", "messaging", "provider", "notify"):
        ready = await http.get(f"{stack.url(service)}/health/ready")
        assert ready.json() == {
            "status": "ok",
            "checks": {
                "database": "ok",
                "migrations": "ok",
                "outbox": "ok",
                "broker": "ok",
                "consumers": "ok",
            },
        }
        assert (await http.get(f"{stack.url(service)}/openapi.json")).status_code == 200
        asyncapi = (await http.get(f"{stack.url(service)}/asyncapi.json")).json()
        assert asyncapi["asyncapi"] == "3.0.0"
        assert "http_requests_total" in (await http.get(f"{stack.url(service)}/metrics")).text
    casework_channels = (await http.get(f"{stack.url('casework')}/asyncapi.json")).json()["channels"]
    assert any(c["address"] == "intake.applications.v1" for c in casework_channels.values())
    intake_channels = (await http.get(f"{stack.url('intake')}/asyncapi.json")).json()["channels"]
    assert any(c["address"] == "intake.applications.v1" for c in intake_channels.values())


async def test_concurrent_applications_all_arrive_exactly_once(stack: Stack, http: httpx.AsyncClient) -> None:
    token = await citizen_token(stack)

    async def apply(i: int) -> str:
        response = await http.post(
            f"{stack.url('intake')}/applications",
            headers=bearer(token),
            json={"entry": "sol", "services": ["hemtjanst"], "description": f"{i}"},
        )
        assert response.status_code == 201
        return str(response.json()["id"])

    ids = await asyncio.gather(*(apply(i) for i in range(30)))
    cw = await caseworker_token(stack)

    async def all_there() -> bool:
        page = (
            await http.get(
                f"{stack.url('casework')}/e-applications", headers=bearer(cw), params={"limit": 200}
            )
        ).json()
        listed = [i["id"] for i in page["items"]]
        return set(ids) <= set(listed) and len(listed) == len(set(listed))

    await eventually(all_there, timeout=20)


async def test_inbox_filters_by_entry_point_and_category(stack: Stack, http: httpx.AsyncClient) -> None:
    token = await citizen_token(stack)
    sol = await http.post(
        f"{stack.url('intake')}/applications",
        headers=bearer(token),
        json={"entry": "sol", "services": ["trygghetslarm"], "description": "Larm"},
    )
    lss = await http.post(
        f"{stack.url('intake')}/applications",
        headers=bearer(token),
        json={"entry": "lss", "services": ["lss_korttidsvistelse"], "description": "Korttids"},
    )
    cw = await caseworker_token(stack)
    sol_id, lss_id = sol.json()["id"], lss.json()["id"]

    async def both_arrived() -> bool:
        return bool(await inbox_item(http, stack, cw, sol_id) and await inbox_item(http, stack, cw, lss_id))

    await eventually(both_arrived)
    assert await inbox_item(http, stack, cw, lss_id, entry="lss")
    assert not await inbox_item(http, stack, cw, sol_id, entry="lss")
    assert await inbox_item(http, stack, cw, sol_id, category="Trygghetslarm")
    assert not await inbox_item(http, stack, cw, lss_id, category="Trygghetslarm")
    assert await inbox_item(http, stack, cw, lss_id, category="Korttidsvistelse LSS", entry="lss")
    bad = await http.get(
        f"{stack.url('casework')}/e-applications", headers=bearer(cw), params={"entry": "ifo"}
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
