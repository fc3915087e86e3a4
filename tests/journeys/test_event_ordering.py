"""A stale replay changes nothing (issue 12, points 2 and 5): an older
ContactDetailsChanged delivered again after a newer one, as a dead-letter replay
would publish it (same event, new ce_id), leaves the person record in casework
as the newer one set it. Real services, Kafka and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from conftest import Stack, TopicWatch, bearer, eventually, linked_person, new_personnummer

CITIZENS_TOPIC = "intake.citizens.v1"
CONTACT_DETAILS_CHANGED = "se.omsorg.intake.citizen.contact-details-changed.v1"


async def replay(stack: Stack, event: dict[str, Any]) -> None:
    """Publish `event` again as a replay tool does: same key and body, a new ce_id."""
    headers = {**event["headers"], "ce_id": str(uuid.uuid4())}
    producer = AIOKafkaProducer(bootstrap_servers=stack.infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            CITIZENS_TOPIC,
            json.dumps(event["data"]).encode(),
            key=event["key"].encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    finally:
        await producer.stop()


async def test_a_replayed_older_contact_change_changes_nothing_in_casework(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, cw, _ = await linked_person(http, stack, pnr)
    citizen = await stack.token("citizen", pnr=pnr, name="Annika Test")
    profile_url = f"{stack.url('intake')}/profile"
    person_url = f"{stack.url('casework')}/persons/{link['person_id']}"

    async def person_where(field: str, value: str) -> dict[str, Any] | None:
        person = (await http.get(person_url, headers=bearer(cw))).json()
        return person if person[field] == value else None

    async with TopicWatch(stack, CITIZENS_TOPIC) as citizens:
        first = await http.put(profile_url, headers=bearer(citizen), json={"mobile": "0701111111"})
        assert first.status_code == 200, first.text
        older = await citizens.next(CONTACT_DETAILS_CHANGED, first.json()["citizen_id"])
    newer = await http.put(profile_url, headers=bearer(citizen), json={"mobile": "0702222222"})
    assert newer.status_code == 200
    await eventually(lambda: person_where("phone1", "+46702222222"))
    assert older["data"]["version"] == 1

    await replay(stack, older)
    # A later change of the other field, on the same key and so the same partition:
    # once casework shows it, the replay before it has been handled too.
    email = await http.put(profile_url, headers=bearer(citizen), json={"email": "annika@example.se"})
    assert email.status_code == 200
    person = await eventually(lambda: person_where("email", "annika@example.se"))
    assert person["phone1"] == "+46702222222"
