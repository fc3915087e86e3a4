"""Apply benchmark against the running system (`make up` first).

Submits applications to intake at a fixed offered rate (open loop: sends are
scheduled by the clock, not by responses) for a set time, while a poller reads
casework's e-application inbox; prints offered and achieved rate, the
submit→visible-in-inbox latency percentiles and the errors, and the CPU time
each process of the system spent per application. Then, on the same machine, a
raw baseline: a bare aiokafka produce→consume round trip and a bare asyncpg
insert, so the system's figures can be read as a ratio.

The load comes from worker processes with a lean HTTP client (load_client.py),
so the benchmark competes as little as it can with what it measures; what the
workers and the poller spent is printed too, apart from the system's sum.

CPU per application is read from /proc (proc_cpu.py) for intake, casework,
Kafka and PostgreSQL (the backends of intake's and casework's databases and the
background processes) over the run, from the first send until the last
accepted application is visible in the inbox, and divided by the applications
accepted. The poller's own reads of the inbox cost casework and PostgreSQL CPU
too (each row listed is audit-logged): before the load, the benchmark times
bursts of reads of two page sizes (less the idle rate) and prints the sum both
gross and net of the reads it made; and what the same processes spend idle
over as long a time (relay, consumers, Kafka's own housekeeping), which a
higher rate spreads over more applications.

    .venv/bin/python tests/benchmarks/bench_apply.py --rate 50 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# Beside this script: on the path as the script's folder (in the workers too).
import load_client  # isort: skip
import proc_cpu  # isort: skip

from shared.personnummer import luhn_checksum_digit

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "http://127.0.0.1:8100"
HOST = "127.0.0.1"
INTAKE_PORT = 8101
CASEWORK_PORT = 8102
KAFKA = "127.0.0.1:59092"
PG_DSN = "postgresql://omsorg_test@127.0.0.1:55432/omsorg_test"
# The processes whose CPU is summed per application, and the databases whose
# PostgreSQL backends count.
MEASURED = ("intake", "casework", "kafka", "postgresql")
SERVICES = ("intake", "casework", "kafka")
DATABASES = ("intake", "casework")
# The poller reads the newest page of the inbox; while it lags behind, older pages in large ones.
SMALL_PAGE = 25
LARGE_PAGE = 200
# What the poller may list per second while it lags (each row listed costs an audit row).
POLLER_ROWS_PER_SECOND = 1500


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


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    sent_at: dict[str, float] = field(default_factory=dict)  # id -> scheduled send (monotonic)
    server_time: dict[str, str] = field(default_factory=dict)  # id -> submitted_at (ISO, UTC)
    seen_at: dict[str, float] = field(default_factory=dict)  # id -> first poll that showed it
    submit_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    answered: int = 0  # results received, of any kind
    last_done: float = 0.0
    workers_cpu: list[float] = field(default_factory=list)

    def take(self, batch: list[load_client.Result]) -> None:
        for _i, scheduled, done, status, application_id, detail in batch:
            self.answered += 1
            self.last_done = max(self.last_done, done)
            if status == 201:
                self.submit_ms.append((done - scheduled) * 1000)
                self.sent_at[application_id] = scheduled
                self.server_time[application_id] = detail
            else:
                key = f"HTTP {status}" if status else detail
                self.errors[key] = self.errors.get(key, 0) + 1


class Poller:
    """Reads casework's inbox newest first, over one keep-alive connection of
    the lean client, and counts what it asked for: its reads cost casework and
    PostgreSQL CPU (each row listed is audit-logged), subtracted in the CPU table."""

    def __init__(self, caseworker: str) -> None:
        self.caseworker = caseworker
        self.connection: load_client.HttpConnection | None = None
        self.requests = 0
        self.rows = 0

    async def page(self, limit: int, after: str | None = None) -> dict[str, Any]:
        """One page of the inbox (reconnecting if the connection was closed)."""
        if self.connection is None or not self.connection.reusable:
            self.connection = await load_client.HttpConnection.open(HOST, CASEWORK_PORT)
        query: dict[str, object] = {"limit": limit}
        if after:
            query["after"] = after
        request = load_client.request_head(
            "GET",
            f"{HOST}:{CASEWORK_PORT}",
            f"/e-applications?{urlencode(query)}",
            {"authorization": f"Bearer {self.caseworker}"},
        )
        try:
            reply = await self.connection.exchange(request + b"\r\n")
        except BaseException:
            self.connection.close()
            self.connection = None
            raise
        if reply.status != 200:
            raise load_client.HttpError(f"inbox answered {reply.status}")
        page: dict[str, Any] = json.loads(reply.body)
        self.requests += 1
        self.rows += len(page["items"])
        return page

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


@dataclass(frozen=True)
class PollCost:
    """CPU seconds by process: of one inbox request, of each row it lists, and of a second idle."""

    per_request: dict[str, float]
    per_row: dict[str, float]
    idle_per_second: dict[str, float]

    def of(self, name: str, requests: int, rows: int) -> float:
        return self.per_request.get(name, 0.0) * requests + self.per_row.get(name, 0.0) * rows


async def metered(meter: proc_cpu.Meter, every: float = 0.2) -> None:
    """Tick `meter` until cancelled, so backends that come and go are followed."""
    meter.start()
    while True:
        await asyncio.sleep(every)
        meter.tick()


async def measure(meter: proc_cpu.Meter, work: Coroutine[Any, Any, None]) -> dict[str, float]:
    """CPU seconds by process label while `work` runs."""
    ticking = asyncio.create_task(metered(meter))
    await asyncio.sleep(0)  # the meter starts first
    try:
        await work
    finally:
        ticking.cancel()
    meter.tick()
    return meter.spent()


async def poll_cost(caseworker: str, polls: int, idle_seconds: float = 2.0) -> PollCost:
    """What the poller's reads cost each process, from two bursts of reads of
    different page sizes (less the idle rate): per request and per row listed."""
    idle = await measure(new_meter(), asyncio.sleep(idle_seconds))
    idle_rate = {k: v / idle_seconds for k, v in idle.items()}
    per_page: dict[int, dict[str, float]] = {}
    for limit in (SMALL_PAGE, LARGE_PAGE):
        poller = Poller(caseworker)
        count = polls if limit == SMALL_PAGE else max(1, polls // 4)

        async def burst(poller: Poller = poller, limit: int = limit, count: int = count) -> None:
            for _ in range(count):
                await poller.page(limit)

        started = time.monotonic()
        busy = await measure(new_meter(), burst())
        took = time.monotonic() - started
        poller.close()
        rows_per_page = poller.rows / poller.requests
        per_page[limit] = {k: (v - idle_rate.get(k, 0.0) * took) / count for k, v in busy.items()}
        per_page[limit]["rows"] = rows_per_page
    small, large = per_page[SMALL_PAGE], per_page[LARGE_PAGE]
    extra_rows = max(1.0, large["rows"] - small["rows"])
    per_row = {k: max(0.0, (large[k] - small[k]) / extra_rows) for k in small if k != "rows"}
    per_request = {k: max(0.0, small[k] - per_row[k] * small["rows"]) for k in per_row}
    return PollCost(per_request, per_row, idle_rate)


def new_meter() -> proc_cpu.Meter:
    return proc_cpu.find_processes(ROOT / ".run", SERVICES, DATABASES)


async def system_benchmark(args: argparse.Namespace) -> None:
    rate, seconds = args.rate, args.seconds
    run = Run()
    async with httpx.AsyncClient(timeout=30) as client:  # setup only: the tokens
        citizens = [
            await token(client, role="citizen", sub=f"bench-{i}", name=f"Bench {i}", pnr=personnummer())
            for i in range(args.citizens)
        ]
        caseworker = await token(client, role="caseworker", sub="bench-cw", name="Bench CW", units=["bench"])
    cost = await poll_cost(caseworker, args.calibration_polls)
    poller = Poller(caseworker)

    total = int(rate * seconds)
    start = time.monotonic() + 1.5  # the workers start meanwhile
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    finished = asyncio.Event()
    open_pipes = args.workers

    def on_ready(connection: Connection) -> None:
        nonlocal open_pipes
        try:
            message = connection.recv()
        except EOFError:
            message = None
        if isinstance(message, list):
            run.take(message)
            return
        if message is not None:
            run.workers_cpu.append(float(message[1]))
        loop.remove_reader(connection.fileno())
        open_pipes -= 1
        if open_pipes == 0:
            finished.set()

    for index in range(args.workers):
        receiving, sending = context.Pipe(duplex=False)
        plan = load_client.WorkerPlan(
            index=index,
            workers=args.workers,
            total=total,
            rate=rate,
            start=start,
            host=HOST,
            port=INTAKE_PORT,
            tokens=citizens,
            max_connections=max(1, args.max_connections // args.workers),
            timeout=args.timeout,
        )
        process = context.Process(target=load_client.run_worker, args=(plan, sending), daemon=True)
        process.start()
        sending.close()
        loop.add_reader(receiving.fileno(), on_ready, receiving)
        workers.append((process, receiving))

    await asyncio.sleep(max(0.0, start - time.monotonic()))
    own_before = own_cpu()

    async def poll() -> None:
        # Newest first: read pages until reaching what is older than the oldest
        # application not yet seen, so a growing lag is still measured; then
        # wait the poll interval, longer after listing many rows (each one is
        # audit-logged), so a system that lags is not flooded with reads too.
        while True:
            pending = [run.server_time[i] for i in run.sent_at if i not in run.seen_at]
            if finished.is_set() and not pending:
                return
            if finished.is_set() and time.monotonic() - run.last_done > 60:
                return
            after, pages, rows = None, 0, poller.rows
            try:
                while pages < 50:
                    page = await poller.page(SMALL_PAGE if after is None else LARGE_PAGE, after)
                    pages += 1
                    seen = time.monotonic()
                    items = page["items"]
                    for item in items:
                        run.seen_at.setdefault(item["id"], seen)
                    after = page["next"]
                    if not pending or not items or after is None or items[-1]["submitted_at"] <= min(pending):
                        break
            except (OSError, load_client.HttpError):
                pass
            await asyncio.sleep(max(args.poll_ms / 1000, (poller.rows - rows) / POLLER_ROWS_PER_SECOND))

    spent = await measure(new_meter(), poll())
    own_after = own_cpu()
    poller.close()
    for process, receiving in workers:
        process.join(timeout=10)
        receiving.close()

    elapsed = run.last_done - start
    accepted = len(run.sent_at)
    visible = [i for i in run.sent_at if i in run.seen_at]
    latencies = [(run.seen_at[i] - run.sent_at[i]) * 1000 for i in visible]
    print(f"offered rate     {rate:.1f}/s for {seconds:.0f} s ({total} applications)")
    print(f"achieved rate    {accepted / elapsed:.1f}/s accepted ({accepted} accepted in {elapsed:.1f} s)")
    print(f"errors           {sum(run.errors.values())} {run.errors or ''}")
    print(f"never visible    {accepted - len(visible)}")
    print(summary("POST /applications (201, from scheduled send)", run.submit_ms))
    print(summary(f"submit -> visible in casework inbox (poll {args.poll_ms:.0f} ms)", latencies))
    if accepted:
        window = time.monotonic() - start
        print_cpu(spent, cost, poller, window, accepted, run, own_after - own_before, args)


def print_cpu(
    spent: dict[str, float],
    cost: PollCost,
    poller: Poller,
    window: float,
    accepted: int,
    run: Run,
    poller_cpu: float,
    args: argparse.Namespace,
) -> None:
    """The CPU table: ms per accepted application, per process, gross and net
    of the poller's reads, and what the same processes spend idle in as long."""
    print(
        f"CPU per application (ms, from /proc; {accepted} accepted over {window:.1f} s; "
        f"the poller made {poller.requests} inbox reads listing {poller.rows} rows)"
    )
    rows: list[tuple[str, float, float | None, float | None, float | None]] = []
    gross_sum = net_sum = idle_sum = 0.0
    for name in MEASURED:
        gross = 1000 * spent[name] / accepted
        polls = 1000 * cost.of(name, poller.requests, poller.rows) / accepted
        net = max(0.0, gross - polls)
        idle = 1000 * cost.idle_per_second.get(name, 0.0) * window / accepted
        gross_sum, net_sum, idle_sum = gross_sum + gross, net_sum + net, idle_sum + idle
        rows.append((name, gross, polls, net, idle))
    rows.append(("sum", gross_sum, None, net_sum, idle_sum))
    for name, value in spent.items():
        if name not in MEASURED:
            rows.append((f"not summed: {name}", 1000 * value / accepted, None, None, None))
    load = 1000 * sum(run.workers_cpu) / accepted
    rows.append((f"not summed: load generator ({args.workers} processes)", load, None, None, None))
    rows.append(("not summed: benchmark process (poller)", 1000 * poller_cpu / accepted, None, None, None))

    def cell(value: float | None) -> str:
        return f"{value:8.2f}" if value is not None else " " * 8

    width = max(len(row[0]) for row in rows)
    print(f"  {'process':<{width}} {'gross':>8} {'polls':>8} {'net':>8} {'of it idle':>10}")
    for name, gross, polls, net, idle in rows:
        print(f"  {name:<{width}} {cell(gross)} {cell(polls)} {cell(net)} {cell(idle):>10}")


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
    parser.add_argument("--baseline-n", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--max-connections", type=int, default=256, help="to intake, over all workers")
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds")
    parser.add_argument(
        "--citizens",
        type=int,
        default=20,
        help="distinct citizen tokens the load uses (verified tokens are cached: as many as applications\n"
        "measures every request verifying its token afresh)",
    )
    parser.add_argument(
        "--calibration-polls", type=int, default=200, help="inbox reads timed before the load"
    )
    args = parser.parse_args()
    await system_benchmark(args)
    await kafka_baseline(args.baseline_n)
    await postgres_baseline(args.baseline_n)


if __name__ == "__main__":
    asyncio.run(main())
