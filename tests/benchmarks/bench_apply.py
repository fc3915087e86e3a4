"""Apply benchmark against the running system (`make up` first).

Submits applications to intake at a fixed offered rate (open loop: sends are
scheduled by the clock, not by responses) for a set time, while a poller reads
casework's e-application inbox; prints offered and achieved rate, the
submit→visible-in-inbox latency percentiles and the errors. Then, on the same
machine, a raw baseline: a bare aiokafka produce→consume round trip and a bare
asyncpg insert, so the system's figures can be read as a ratio.

    .venv/bin/python tests/benchmarks/bench_apply.py --rate 50 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.personnummer import luhn_checksum_digit

ISSUER = "http://127.0.0.1:8100"
INTAKE = "http://127.0.0.1:8101"
CASEWORK = "http://127.0.0.1:8102"
KAFKA = "127.0.0.1:59092"
PG_DSN = "postgresql://omsorg_test@127.0.0.1:55432/omsorg_test"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, millis: list[float]) -> str:
    return (
        f"{name:<44} n={len(millis):<6} p50={percentile(millis, 50):7.1f} ms  "
        f"p95={percentile(millis, 95):7.1f} ms  p99={percentile(millis, 99):7.1f} ms  "
        f"max={max(millis, default=float('nan')):7.1f} ms"
    )


def personnummer() -> str:
    nine = (
        f"{random.randint(30, 99):02d}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        f"{random.randint(0, 999):03d}"
    )
    return f"19{nine}{luhn_checksum_digit(nine)}"


async def token(client: httpx.AsyncClient, **body: object) -> str:
    response = await client.post(f"{ISSUER}/token", json=body)
    response.raise_for_status()
    return str(response.json()["access_token"])


@dataclass
class Run:
    submitted_at: dict[str, float] = field(default_factory=dict)  # id -> perf_counter at send
    visible_at: dict[str, float] = field(default_factory=dict)
    server_time: dict[str, str] = field(default_factory=dict)  # id -> submitted_at (ISO, UTC)
    submit_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


async def system_benchmark(rate: float, seconds: float, poll_ms: float, poll_limit: int) -> None:
    run = Run()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        citizens = [
            await token(client, role="citizen", sub=f"bench-{i}", name=f"Bench {i}", pnr=personnummer())
            for i in range(20)
        ]
        caseworker = await token(client, role="caseworker", sub="bench-cw", name="Bench CW", units=["bench"])
        done = asyncio.Event()

        async def submit(i: int) -> None:
            started = time.perf_counter()
            try:
                response = await client.post(
                    f"{INTAKE}/applications",
                    headers={"authorization": f"Bearer {citizens[i % 20]}"},
                    json={"entry": "sol", "services": ["hemtjanst"], "description": f"bench {i}"},
                )
            except httpx.HTTPError as exc:
                run.errors[type(exc).__name__] = run.errors.get(type(exc).__name__, 0) + 1
                return
            finished = time.perf_counter()
            if response.status_code != 201:
                key = f"HTTP {response.status_code}"
                run.errors[key] = run.errors.get(key, 0) + 1
                return
            run.submit_ms.append((finished - started) * 1000)
            application_id = response.json()["id"]
            run.server_time[application_id] = response.json()["submitted_at"]
            run.submitted_at[application_id] = started

        async def poll() -> None:
            # Newest first: read pages until reaching what is older than the
            # oldest application not yet seen, so a growing lag is still measured.
            headers = {"authorization": f"Bearer {caseworker}"}
            while not done.is_set() or len(run.visible_at) < len(run.submitted_at):
                pending = [run.server_time[i] for i in run.submitted_at if i not in run.visible_at]
                after = None
                try:
                    for _ in range(50):
                        params: dict[str, object] = {"limit": poll_limit}
                        if after:
                            params["after"] = after
                        response = await client.get(
                            f"{CASEWORK}/e-applications", headers=headers, params=params
                        )
                        seen = time.perf_counter()
                        page = response.json()
                        for item in page["items"]:
                            if item["id"] in run.submitted_at and item["id"] not in run.visible_at:
                                run.visible_at[item["id"]] = seen
                        after = page["next"]
                        if (
                            not pending
                            or not page["items"]
                            or after is None
                            or page["items"][-1]["submitted_at"] <= min(pending)
                        ):
                            break
                except httpx.HTTPError:
                    pass
                if done.is_set() and time.perf_counter() - finished_sending > 60:
                    break
                await asyncio.sleep(poll_ms / 1000)

        finished_sending = float("inf")
        poller = asyncio.create_task(poll())
        total = int(rate * seconds)
        begin = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(submit(i)))
        await asyncio.gather(*tasks)
        finished_sending = time.perf_counter()
        done.set()
        await poller
        elapsed = finished_sending - begin

    latencies = [(run.visible_at[i] - run.submitted_at[i]) * 1000 for i in run.visible_at]
    print(f"offered rate     {rate:.1f}/s for {seconds:.0f} s ({total} applications)")
    print(
        f"achieved rate    {len(run.submitted_at) / elapsed:.1f}/s accepted "
        f"({len(run.submitted_at)} accepted in {elapsed:.1f} s)"
    )
    print(f"errors           {sum(run.errors.values())} {run.errors or ''}")
    print(f"never visible    {len(run.submitted_at) - len(run.visible_at)}")
    print(summary("POST /applications (201)", run.submit_ms))
    print(summary(f"submit -> visible in casework inbox (poll {poll_ms:.0f} ms)", latencies))


async def kafka_baseline(n: int) -> None:
    topic = f"bench.baseline-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest", fetch_max_wait_ms=0
    )
    await producer.start()
    await consumer.start()
    try:
        await producer.send_and_wait(topic, b"warm-up")
        await consumer.getone()
        rtts = []
        for i in range(n):
            started = time.perf_counter()
            await producer.send_and_wait(topic, str(i).encode())
            await consumer.getone()
            rtts.append((time.perf_counter() - started) * 1000)
        print(summary("baseline: aiokafka produce->consume round trip", rtts))
    finally:
        await consumer.stop()
        await producer.stop()
        await admin.delete_topics([topic])
        await admin.close()


async def postgres_baseline(n: int) -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute("CREATE TEMP TABLE bench (id uuid PRIMARY KEY, body text NOT NULL)")
        times = []
        for i in range(n):
            started = time.perf_counter()
            await conn.execute("INSERT INTO bench VALUES ($1, $2)", uuid.uuid4(), f"row {i}")
            times.append((time.perf_counter() - started) * 1000)
        print(summary("baseline: asyncpg single-row insert (commit)", times))
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rate", type=float, default=50, help="applications per second offered")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--poll-ms", type=float, default=20, help="inbox poll interval")
    parser.add_argument(
        "--poll-limit", type=int, default=25, help="inbox page size per poll (each row read is audit-logged)"
    )
    parser.add_argument("--baseline-n", type=int, default=500)
    args = parser.parse_args()
    await system_benchmark(args.rate, args.seconds, args.poll_ms, args.poll_limit)
    await kafka_baseline(args.baseline_n)
    await postgres_baseline(args.baseline_n)


if __name__ == "__main__":
    asyncio.run(main())
