"""Fault drill (`make drill`, after `make up`; docs/drills.md): a steady load of
citizens' applications through intake while faults are injected one after the
other — Kafka nodes and the controller killed, service workers, supervisors
and the relay killed mid-pass, PostgreSQL restarted, rolling restarts — then,
once everything is quiet, a reconciliation by ids in intake's and casework's
databases: every application intake accepted is there exactly once, reached
casework exactly once, with one event, one inbox row and one audit entry each.

The drill first brings the system into the shape it needs, and says so: the
three-node KRaft cluster (OMSORG_KAFKA_BROKERS=3) and two uvicorn workers per
service (OMSORG_WORKERS=2). It leaves it running in that shape; go back to the
default with `make down && make up`, or pass --restore-default.

    .venv/bin/python tests/drills/drill.py [--rate 40] [--total 10000] [--faults 24]

Exit status 1 if any application was lost or doubled, or a fault did not recover.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import drill_faults as faults
import drill_load as load

from shared.personnummer import luhn_checksum_digit

ISSUER = "http://127.0.0.1:8100"
BASELINE = "baseline (no fault)"
TOPIC = "intake.applications.v1"


@dataclass
class App:
    index: int
    first_send: float  # wall clock
    done: float
    id: str
    outcome: str
    attempts: int


@dataclass
class Window:
    """One fault (or the baseline before the first) and what happened from it to the next."""

    name: str
    start: float  # wall clock of the injection
    detail: str = ""
    injected_for: float = 0.0  # seconds the injection and its restart took
    live_recovery: float | None = None  # seen live: seconds until the flow worked again
    end: float = float("inf")


@dataclass
class State:
    apps: dict[int, App] = field(default_factory=dict)
    errors: list[tuple[float, str, int]] = field(default_factory=list)
    pending: dict[str, float] = field(default_factory=dict)  # accepted id -> accepted at, not yet seen
    seen: set[str] = field(default_factory=set)
    done_workers: int = 0

    def take(self, batch: list[tuple[Any, ...]]) -> None:
        for report in batch:
            if report[0] == "app":
                _, i, first, done, app_id, outcome, attempts = report
                self.apps[i] = App(i, first, done, app_id, outcome, attempts)
                if app_id:
                    self.pending[app_id] = done
            elif report[0] == "err":
                _, at, kind, i = report
                self.errors.append((at, kind, i))


def personnummer() -> str:
    nine = (
        f"{random.randint(30, 99):02d}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        f"{random.randint(0, 999):03d}"
    )
    return f"19{nine}{luhn_checksum_digit(nine)}"


async def citizen_tokens(run: str, count: int) -> list[str]:
    """Citizens of this run only: a lookup lists one citizen's applications, so keep them few each."""
    async with httpx.AsyncClient(timeout=30) as client:
        tokens = []
        for i in range(count):
            response = await client.post(
                f"{ISSUER}/token",
                json={
                    "role": "citizen",
                    "sub": f"drill-{run}-{i}",
                    "name": f"Drill {i}",
                    "pnr": personnummer(),
                },
            )
            response.raise_for_status()
            tokens.append(str(response.json()["access_token"]))
        return tokens


class Visibility:
    """Which accepted applications casework has, read from its database every half second."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.conn: asyncpg.Connection | None = None

    async def run(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            ids = list(self.state.pending)
            if not ids:
                continue
            try:
                if self.conn is None or self.conn.is_closed():
                    self.conn = await asyncpg.connect(faults.PG.format(db="casework"), timeout=2)
                rows = await self.conn.fetch(
                    "SELECT id::text FROM incoming_applications WHERE id = ANY($1::uuid[])", ids
                )
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                self.conn = None  # PostgreSQL restarting: next time
                continue
            for row in rows:
                self.state.pending.pop(row[0], None)
                self.state.seen.add(row[0])

    def healthy(self, since: float, slow: float) -> bool:
        """The flow works: `slow` s have passed since `since` (so a stall has had
        time to show), no failed request for 2 s, everything accepted more than
        `slow` s ago visible, and something accepted after `since` visible."""
        now = time.time()
        if now < since + slow + 1:
            return False
        if any(at > now - 2 and kind != load.RETRY_LATER for at, kind, _ in self.state.errors[-200:]):
            return False
        if any(done < now - slow for done in self.state.pending.values()):
            return False
        return any(a.done > since and a.id in self.state.seen for a in list(self.state.apps.values())[-500:])


async def wait_recovered(visibility: Visibility, since: float, slow: float, limit: float) -> float | None:
    """Seconds from `since` until the flow works again (live), None if not within `limit`."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if visibility.healthy(since, slow):
            return time.time() - since
        await asyncio.sleep(0.25)
    return None


def start_load(
    args: argparse.Namespace, run: str, tokens: list[str], state: State, stop: Any, finished: asyncio.Event
) -> list[multiprocessing.context.SpawnProcess]:
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    start = time.monotonic() + 2.0
    processes = []

    def on_ready(connection: Connection) -> None:
        try:
            message = connection.recv()
        except EOFError:
            message = ("done",)
        if isinstance(message, list):
            state.take(message)
            return
        loop.remove_reader(connection.fileno())
        state.done_workers += 1
        if state.done_workers == args.load_processes:
            finished.set()

    for index in range(args.load_processes):
        receiving, sending = context.Pipe(duplex=False)
        plan = load.LoadPlan(
            index=index,
            workers=args.load_processes,
            rate=args.rate,
            start=start,
            run=run,
            host="127.0.0.1",
            port=faults.PORTS["intake"],
            tokens=tokens[index :: args.load_processes],
            max_in_flight=max(1, args.max_in_flight // args.load_processes),
            timeout=args.timeout,
            give_up_after=args.give_up_after,
        )
        process = context.Process(target=load.run_worker, args=(plan, stop, sending), daemon=True)
        process.start()
        sending.close()
        loop.add_reader(receiving.fileno(), on_ready, receiving)
        processes.append(process)
    return processes


# ------------------------------------------------------------ reconcile ---


@dataclass
class Books:
    """What the databases hold for this run, by application id and by marker."""

    intake_by_marker: dict[int, list[str]]  # index -> intake application ids with its marker
    casework: dict[str, float]  # application id -> received_at (epoch seconds)
    events: dict[str, list[tuple[str, bool]]]  # application id -> [(event id, sent)]
    inbox: Counter[str]  # event id -> casework inbox rows
    casework_audit: Counter[str]  # application id -> casework 'create incoming_application' entries
    intake_audit: Counter[str]  # application id -> intake 'create application' entries
    unsent: int  # intake outbox rows of this run not sent


async def read_books(run: str) -> Books:
    intake = await asyncpg.connect(faults.PG.format(db="intake"))
    casework = await asyncpg.connect(faults.PG.format(db="casework"))
    try:
        by_marker: dict[int, list[str]] = {}
        for row in await intake.fetch(
            "SELECT id::text, description FROM applications WHERE description LIKE $1", f"drill {run} %"
        ):
            by_marker.setdefault(int(row["description"].rsplit(" ", 1)[1]), []).append(row["id"])
        ids = [i for group in by_marker.values() for i in group]
        events: dict[str, list[tuple[str, bool]]] = {}
        for row in await intake.fetch(
            "SELECT key, event_id::text, sent_at IS NOT NULL AS sent FROM outbox "
            "WHERE topic = $1 AND key = ANY($2::text[])",
            TOPIC,
            ids,
        ):
            events.setdefault(row["key"], []).append((row["event_id"], row["sent"]))
        intake_audit = Counter[str](
            {
                r["object_id"]: r["n"]
                for r in await intake.fetch(
                    "SELECT object_id, count(*) AS n FROM audit_log WHERE object_type = 'application' "
                    "AND action = 'create' AND outcome = 'allowed' AND object_id = ANY($1::text[]) "
                    "GROUP BY object_id",
                    ids,
                )
            }
        )
        received = {
            r["id"]: r["at"]
            for r in await casework.fetch(
                "SELECT id::text, extract(epoch FROM received_at)::float8 AS at FROM incoming_applications "
                "WHERE id = ANY($1::uuid[])",
                ids,
            )
        }
        event_ids = [e for group in events.values() for e, _ in group]
        inbox = Counter[str](
            {
                r["event_id"]: r["n"]
                for r in await casework.fetch(
                    "SELECT event_id::text, count(*) AS n FROM inbox WHERE consumer = 'casework' "
                    "AND event_id = ANY($1::uuid[]) GROUP BY event_id",
                    event_ids,
                )
            }
        )
        casework_audit = Counter[str](
            {
                r["object_id"]: r["n"]
                for r in await casework.fetch(
                    "SELECT object_id, count(*) AS n FROM audit_log "
                    "WHERE object_type = 'incoming_application' AND action = 'create' "
                    "AND object_id = ANY($1::text[]) GROUP BY object_id",
                    ids,
                )
            }
        )
        unsent = sum(1 for group in events.values() for _, sent in group if not sent)
        return Books(by_marker, received, events, inbox, casework_audit, intake_audit, unsent)
    finally:
        await intake.close()
        await casework.close()


async def quiesce(run: str, timeout: float) -> Books:
    """Read the books until intake's outbox has sent everything of the run and
    casework has every application intake has (or `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            books = await read_books(run)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(1)
            continue
        stored = {i for group in books.intake_by_marker.values() for i in group}
        if (books.unsent == 0 and stored <= set(books.casework)) or time.monotonic() > deadline:
            return books
        await asyncio.sleep(1)


@dataclass
class Row:
    name: str
    at: float
    failed: int = 0
    retry_later: int = 0
    lost: int = 0
    doubled: int = 0
    dup_submits: int = 0
    recover: float | None = 0.0
    drained: float = 0.0
    apps: int = 0
    p99: float = 0.0


def account(windows: list[Window], state: State, books: Books, t0: float, slow: float) -> list[Row]:
    """Per window: failed requests, 503s, lost and doubled applications and effects, recovery."""
    rows = []
    for w in windows:
        row = Row(w.name, max(0.0, w.start - t0))
        errors = [e for e in state.errors if w.start <= e[0] < w.end]
        row.failed = sum(1 for _, kind, _ in errors if kind != load.RETRY_LATER)
        row.retry_later = sum(1 for _, kind, _ in errors if kind == load.RETRY_LATER)
        apps = [a for a in state.apps.values() if w.start <= a.first_send < w.end]
        row.apps = len(apps)
        bad_sends: list[float] = []
        latencies: list[float] = []
        for a in apps:
            stored = books.intake_by_marker.get(a.index, [])
            if len(stored) > 1:
                row.dup_submits += len(stored) - 1
            ids = set(stored) | ({a.id} if a.id else set())
            for app_id in ids:
                events = books.events.get(app_id, [])
                if app_id not in books.casework or not events or app_id not in stored:
                    row.lost += 1
                    continue
                if (
                    len(events) > 1
                    or any(books.inbox.get(e, 0) != 1 for e, _ in events)
                    or books.casework_audit.get(app_id, 0) != 1
                    or books.intake_audit.get(app_id, 0) != 1
                ):
                    row.doubled += 1
            visible = books.casework.get(a.id) if a.id else None
            if visible is None:
                bad_sends.append(a.first_send)
                continue
            latencies.append(visible - a.first_send)
            if visible - a.first_send > slow:
                bad_sends.append(a.first_send)
                row.drained = max(row.drained, visible - w.start)
        row.recover = (max(bad_sends) - w.start) if bad_sends else 0.0
        if w.name == BASELINE:
            row.recover = row.drained = 0.0
        elif w.live_recovery is None:
            row.recover = None
        latencies.sort()
        row.p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
        rows.append(row)
    return rows


def print_table(rows: list[Row], windows: list[Window], state: State, books: Books) -> None:
    header = (
        f"{'#':>2}  {'fault':<40} {'at (s)':>7} {'apps':>5} {'failed':>6} {'503s':>5} "
        f"{'lost':>4} {'doubled':>7} {'dup submits':>11} {'recover (s)':>11} {'drained (s)':>11} "
        f"{'p99 vis (s)':>11}"
    )
    print()
    print(header)
    print("-" * len(header))
    for n, row in enumerate(rows):
        recover = "NOT" if row.recover is None else "-" if row.name == BASELINE else f"{row.recover:.1f}"
        print(
            f"{n:>2}  {row.name:<40} {row.at:>7.1f} {row.apps:>5} {row.failed:>6} {row.retry_later:>5} "
            f"{row.lost:>4} {row.doubled:>7} {row.dup_submits:>11} {recover:>11} {row.drained:>11.1f} "
            f"{row.p99:>11.2f}"
        )
    print("-" * len(header))
    total_failed = sum(r.failed for r in rows)
    print(
        f"{'':>2}  {'total (' + str(len(rows) - 1) + ' faults)':<40} {'':>7} {sum(r.apps for r in rows):>5} "
        f"{total_failed:>6} {sum(r.retry_later for r in rows):>5} {sum(r.lost for r in rows):>4} "
        f"{sum(r.doubled for r in rows):>7} {sum(r.dup_submits for r in rows):>11}"
    )
    outcomes = Counter(a.outcome.split(" ")[0] for a in state.apps.values())
    kinds = Counter(kind for _, kind, _ in state.errors)
    stored = sum(len(v) for v in books.intake_by_marker.values())
    print()
    print(f"applications sent {len(state.apps)}: {dict(outcomes)}")
    print("  '201' accepted at once or after retries; 'found' stored though the answer was lost (looked up)")
    print(f"failed attempts by kind {dict(kinds)}")
    print(
        f"intake holds {stored} of this run's applications, casework {len(books.casework)}; "
        f"unsent outbox rows {books.unsent}"
    )
    print("\nfaults:")
    for n, w in enumerate(windows[1:], 1):
        live = "not recovered" if w.live_recovery is None else f"flow back after {w.live_recovery:.1f} s"
        print(f"  {n:>2}. {w.name}: {w.detail} (took {w.injected_for:.1f} s; {live})")


async def reconcile_only(run: str) -> int:
    """The books of an earlier run, by ids, without its client-side records:
    what intake stored with the run's marker against what casework has."""
    books = await quiesce(run, 120)
    stored = [i for group in books.intake_by_marker.values() for i in group]
    missing = [i for i in stored if i not in books.casework or not books.events.get(i)]
    doubled = [
        i
        for i in stored
        if len(books.events.get(i, [])) > 1
        or any(books.inbox.get(e, 0) != 1 for e, _ in books.events.get(i, []))
        or books.casework_audit.get(i, 0) != 1
        or books.intake_audit.get(i, 0) != 1
    ]
    dups = sum(len(g) - 1 for g in books.intake_by_marker.values() if len(g) > 1)
    print(
        f"run {run}: intake stored {len(stored)} applications ({len(books.intake_by_marker)} markers, "
        f"{dups} stored twice by a client retry); casework has {len(books.casework)}; "
        f"unsent outbox rows {books.unsent}; lost {len(missing)}; doubled {len(doubled)}"
    )
    for i in (missing + doubled)[:20]:
        print(
            f"  {i}: events {books.events.get(i)}, in casework {i in books.casework}, "
            f"casework audit {books.casework_audit.get(i, 0)}, intake audit {books.intake_audit.get(i, 0)}"
        )
    return 1 if missing or doubled else 0


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=40, help="applications offered per second")
    parser.add_argument("--total", type=int, default=10000, help="at least this many applications")
    parser.add_argument("--faults", type=int, default=24, help="how many of the schedule's faults to run")
    parser.add_argument("--only", default="", help="run only faults whose name contains this")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--citizens", type=int, default=400)
    parser.add_argument("--timeout", type=float, default=20, help="per request")
    parser.add_argument("--give-up-after", type=float, default=120, help="seconds after the load stops")
    parser.add_argument("--warm-up", type=float, default=15, help="seconds of load before the first fault")
    parser.add_argument("--settle", type=float, default=4, help="seconds of calm after a recovery")
    parser.add_argument("--slow", type=float, default=3, help="submit->visible slower than this is not well")
    parser.add_argument("--recovery-limit", type=float, default=180)
    parser.add_argument("--kafka-down", type=float, default=5, help="seconds a killed Kafka node stays down")
    parser.add_argument("--restore-default", action="store_true", help="make up's default shape at the end")
    parser.add_argument(
        "--reconcile", metavar="RUN", help="only reconcile an earlier (interrupted) run by its id, then exit"
    )
    args = parser.parse_args()

    if args.reconcile:
        return await reconcile_only(args.reconcile)
    run = uuid.uuid4().hex[:8]
    faults.DRILL_LOG.parent.mkdir(parents=True, exist_ok=True)
    faults.say(f"drill run {run}: log in {faults.DRILL_LOG}")
    await faults.ensure_shape()
    schedule = faults.schedule(args.kafka_down)
    if args.only:
        schedule = [f for f in schedule if args.only in f.name]
    schedule = schedule[: args.faults]
    tokens = await citizen_tokens(run, args.citizens)

    state = State()
    stop = multiprocessing.get_context("spawn").Event()
    finished = asyncio.Event()
    processes = start_load(args, run, tokens, state, stop, finished)
    visibility = Visibility(state)
    watcher = asyncio.create_task(visibility.run())
    t0 = time.time() + 2.0
    faults.say(
        f"load: {args.rate:.0f} applications/s from {args.load_processes} processes; "
        f"{len(schedule)} faults after {args.warm_up:.0f} s; at least {args.total} applications"
    )
    windows = [Window(BASELINE, 0.0)]  # from the first application on
    failed_recovery = 0
    interference: list[str] = []
    await asyncio.sleep(2.0 + args.warm_up)
    for n, fault in enumerate(schedule, 1):
        try:
            restored = await faults.restore_shape()
        except RuntimeError as exc:  # the next fault will find out; the books still count
            restored = f"restoring the shape failed: {exc}"
        if restored:
            faults.say(f"  the shape had changed under the drill (another session?): {restored}")
            interference.append(f"before fault {n}: {restored}")
            await asyncio.sleep(args.settle)
        windows[-1].end = time.time()
        window = Window(fault.name, time.time())
        windows.append(window)
        faults.say(f"fault {n}/{len(schedule)}: {fault.name}")
        try:
            window.detail = await fault.inject()
        except Exception as exc:  # report and go on: the books still tell what was lost
            window.detail = f"injection failed: {type(exc).__name__}: {exc}"
        injected = time.time()
        window.injected_for = injected - window.start
        back = await wait_recovered(visibility, injected, args.slow, args.recovery_limit)
        window.live_recovery = None if back is None else back + window.injected_for
        if window.live_recovery is None:
            failed_recovery += 1
        faults.say(
            f"  {window.detail}; "
            + (
                "NOT recovered"
                if window.live_recovery is None
                else f"flow back after {window.live_recovery:.1f} s"
            )
        )
        await asyncio.sleep(args.settle)
    while True:  # the faults are done; the load goes on until it has sent enough
        if len(state.apps) >= args.total:
            break
        await asyncio.sleep(1)
    faults.say(f"stopping the load ({len(state.apps)} applications answered so far)")
    stop.set()
    await finished.wait()
    for process in processes:
        process.join(timeout=10)
    faults.say("load stopped; waiting for the outbox and casework to catch up")
    books = await quiesce(run, 300)
    watcher.cancel()
    rows = account(windows, state, books, t0, args.slow)
    print_table(rows, windows, state, books)
    lost = sum(r.lost for r in rows)
    doubled = sum(r.doubled for r in rows)
    gave_up = sum(1 for a in state.apps.values() if not a.id)
    print()
    verdict = "PASS" if not (lost or doubled or failed_recovery) else "FAIL"
    print(
        f"{verdict}: {len(schedule)} faults, {len(state.apps)} applications, {lost} lost, {doubled} doubled, "
        f"{failed_recovery} faults not recovered, {gave_up} never accepted "
        f"(they are not counted as lost unless intake stored them)"
    )
    for note in interference:
        print(f"interference: {note}")
    if args.restore_default:
        await faults.back_to_default()
    else:
        print(
            "The system stays in the drill's shape (3 Kafka nodes, 2 workers per service); "
            "back to the default: make down && make up"
        )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
