"""The operations endpoints, metrics and dead-lettering on the running notify
service (127.0.0.1:8105), with tokens from the development issuer and records
on the real Kafka topics."""

from __future__ import annotations

import uuid

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from conftest import Stack, bearer, caseworker_token
from shared.contracts.messaging import MESSAGES_TOPIC, MessageDeliveredToEService


async def _admin_token(stack: Stack) -> str:
    return await stack.token("admin", name="Drift", units=["drift"])


async def test_the_queue_is_for_administrators_only(stack: Stack, http: httpx.AsyncClient) -> None:
    url = f"{stack.url('notify')}/notifications"

    anonymous = await http.get(url)
    caseworker = await http.get(url, headers=bearer(await caseworker_token(stack)))
    admin = await http.get(url, params={"limit": 5}, headers=bearer(await _admin_token(stack)))

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert caseworker.status_code == 403
    assert caseworker.headers["content-type"] == "application/problem+json"
    assert admin.status_code == 200, admin.text
    page = admin.json()
    assert set(page) == {"items", "next"} and len(page["items"]) <= 5


async def test_bad_filters_answer_problem_details(stack: Stack, http: httpx.AsyncClient) -> None:
    url = f"{stack.url('notify')}/notifications"
    headers = bearer(await _admin_token(stack))

    for params in (
        {"status": "lost"},
        {"channel": "pigeon"},
        {"limit": 201},
        {"older_than": -1},
        {"after": "x"},
    ):
        answer = await http.get(url, params=params, headers=headers)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_a_caseworker_of_no_unit_of_the_person_is_refused(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    answer = await http.get(
        f"{stack.url('notify')}/persons/{uuid.uuid4()}/notifications",
        headers=bearer(await caseworker_token(stack, unit="ingen-enhet")),
    )

    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_queue_gauges_are_scraped(stack: Stack, http: httpx.AsyncClient) -> None:
    metrics = (await http.get(f"{stack.url('notify')}/metrics")).text

    assert "\nomsorg_notify_queue_depth " in metrics
    assert "\nomsorg_notify_oldest_pending_seconds " in metrics


async def test_a_delivery_that_does_not_parse_goes_to_notifys_dead_letter_topic(stack: Stack) -> None:
    marker = uuid.uuid4().hex
    dlq = f"{MESSAGES_TOPIC}.dlq.notify"
    consumer = AIOKafkaConsumer(
        dlq,
        bootstrap_servers=stack.infra.kafka_bootstrap,
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)  # joined at the end of the topic before sending
        producer = AIOKafkaProducer(bootstrap_servers=stack.infra.kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                MESSAGES_TOPIC,
                f'{{"message_id": "{marker}"}}'.encode(),  # no person, no mailbox, not a uuid
                key=marker.encode(),
                headers=[
                    ("ce_specversion", b"1.0"),
                    ("ce_id", str(uuid.uuid4()).encode()),
                    ("ce_type", MessageDeliveredToEService.ce_type.encode()),
                    ("ce_source", b"/omsorg/test"),
                    ("ce_time", b"2026-01-01T00:00:00+00:00"),
                ],
            )
        finally:
            await producer.stop()
        found = None
        for _ in range(40):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found = found or next((r for r in records if r.key == marker.encode()), None)
            if found:
                break
    finally:
        await consumer.stop()
    assert found is not None, "the malformed delivery is not in notify's dead-letter topic"
    assert dict(found.headers)["dlq_error"].startswith(b"unparseable record")
