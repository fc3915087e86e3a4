"""The drill's faults and the system's shape, through deploy/omsorg.sh and signals.

Processes are found by the pid files `make up` writes (.run/pids): a service's
file holds its uvicorn supervisor, whose children are the workers; Kafka's
nodes are kafka-1..3. Every kill is of one process, or of one service's own
process group (spawn's setsid made the supervisor its leader), by pid.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / ".run"
PIDS = RUN / "pids"
OMSORG = ROOT / "deploy" / "omsorg.sh"
DRILL_LOG = RUN / "logs" / "drill.log"
SERVICES = ("intake", "casework", "messaging", "provider", "notify")
PORTS = {"intake": 8101, "casework": 8102, "messaging": 8103, "provider": 8104, "notify": 8105}
NODES = (1, 2, 3)
CLUSTER_BOOTSTRAP = "127.0.0.1:59192,127.0.0.1:59193,127.0.0.1:59194"
PG = "postgresql://postgres@127.0.0.1:55432/{db}"
WORKERS = 2
# What the drill's own calls of omsorg.sh run with: the cluster, two workers each.
SHAPE_ENV = {"OMSORG_KAFKA_BROKERS": "3", "OMSORG_WORKERS": str(WORKERS)}

os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", CLUSTER_BOOTSTRAP)
sys.path.insert(0, str(ROOT / "deploy"))
import kafka_admin  # type: ignore[import-not-found]  # noqa: E402  (deploy/kafka_admin.py)


def say(message: str) -> None:
    """A line of the drill's progress, to the terminal and .run/logs/drill.log."""
    line = f"[drill {time.strftime('%H:%M:%S')}] {message}"
    print(line, flush=True)
    with DRILL_LOG.open("a") as log:
        log.write(line + "\n")


async def omsorg(*args: str, shape: bool = True) -> None:
    """Run deploy/omsorg.sh (in the drill's shape), its output to .run/logs/drill.log."""
    env = {**os.environ, **(SHAPE_ENV if shape else {})}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # omsorg.sh derives it from what runs
    with DRILL_LOG.open("a") as log:
        process = await asyncio.create_subprocess_exec(
            str(OMSORG), *args, env=env, stdout=log, stderr=log, cwd=ROOT
        )
        code = await process.wait()
    if code != 0:
        raise RuntimeError(f"deploy/omsorg.sh {' '.join(args)} failed ({code}); see {DRILL_LOG}")


def pid_of(name: str) -> int | None:
    """The live pid in .run/pids/<name>.pid, else None."""
    try:
        pid = int((PIDS / f"{name}.pid").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    """The process exists and is no zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def workers(service: str) -> list[int]:
    """The uvicorn workers of a service's supervisor (multiprocessing's spawned children)."""
    supervisor = pid_of(service)
    if supervisor is None:
        return []
    found = []
    for task in Path(f"/proc/{supervisor}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in children:
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if (
                b"multiprocessing.spawn" in cmdline
                and b"resource_tracker" not in cmdline
                and alive(int(child))
            ):
                found.append(int(child))
    return sorted(found)


def cluster_running() -> bool:
    """Every node of the three-node Kafka cluster runs."""
    return all(pid_of(f"kafka-{n}") for n in NODES)


async def ensure_shape() -> None:
    """The three-node cluster and two workers per service; switch to it if need be."""
    steps = []
    if not cluster_running():
        steps.append("start the three-node KRaft cluster (beside the single broker, on ports of its own)")
    if any(len(workers(s)) < WORKERS for s in SERVICES):
        steps.append(f"restart every service with {WORKERS} uvicorn workers under its supervisor")
    if not steps:
        say(f"the system already has the drill's shape: Kafka cluster of 3, {WORKERS} workers per service")
        return
    say("bringing the system into the drill's shape: " + "; ".join(steps))
    await omsorg("kafka-up")  # the nodes that do not run; a no-op when all three do
    await omsorg("services-down")
    await omsorg("services-up")
    missing = [s for s in SERVICES if len(workers(s)) < WORKERS]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} did not start {WORKERS} workers")
    say(f"shape ready: Kafka nodes {[pid_of(f'kafka-{n}') for n in NODES]}, workers {_all_workers()}")


async def restore_shape() -> str:
    """Between faults: put back what someone else changed (a service restarted
    with one process, a Kafka node stopped). Returns what was done, or ""."""
    done = []
    if not cluster_running():
        await omsorg("kafka-up")
        done.append("Kafka nodes restarted")
    for service in SERVICES:
        if len(workers(service)) >= WORKERS:
            continue
        pid = pid_of(service)
        if pid:
            os.kill(pid, signal.SIGTERM)
            await wait_gone([pid], 30)
        await omsorg("services-up")
        done.append(f"{service} restarted with {WORKERS} workers")
    return "; ".join(done)


def _all_workers() -> dict[str, list[int]]:
    return {s: workers(s) for s in SERVICES}


async def back_to_default() -> None:
    """Stop the services and the cluster, then `make up`: one broker, one process per service."""
    say("restoring the default shape: services and Kafka cluster down, then make up")
    await omsorg("services-down", shape=False)
    await omsorg("cluster-down", shape=False)
    with DRILL_LOG.open("a") as log:
        env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", *SHAPE_ENV)}
        process = await asyncio.create_subprocess_exec(
            "make", "up", env=env, stdout=log, stderr=log, cwd=ROOT
        )
        if await process.wait() != 0:
            raise RuntimeError(f"make up failed; see {DRILL_LOG}")
    say("default shape back: single broker, one process per service")


def kill9(pid: int) -> None:
    """SIGKILL one process."""
    os.kill(pid, signal.SIGKILL)


async def wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    """Until the processes are gone (reaped or zombies)."""
    for _ in range(int(timeout / 0.05)):
        if not any(alive(p) for p in pids):
            return
        await asyncio.sleep(0.05)


async def wait_workers_replaced(service: str, old: list[int], timeout: float = 90.0) -> list[int]:
    """Until the supervisor runs its full count of workers again, none of `old`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = workers(service)
        if len(now) >= WORKERS and not set(now) & set(old):
            return now
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{service}'s supervisor did not replace workers {old}")


# --------------------------------------------------------------- faults ---

Inject = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Inject  # does the fault and its restart; returns what it did


async def _restart_kafka_after(down_seconds: float) -> None:
    await asyncio.sleep(down_seconds)
    await omsorg("kafka-up")  # starts the nodes that are not running, waits for all three


async def kafka_controller_id() -> int:
    """The active KRaft controller (the metadata quorum's leader)."""
    return int((await kafka_admin.quorum()).leader)


def kafka_node(down_seconds: float) -> Inject:
    async def inject() -> str:
        controller = await kafka_controller_id()
        node = random.choice([n for n in NODES if n != controller])
        pid = pid_of(f"kafka-{node}")
        assert pid, f"kafka-{node} does not run"
        kill9(pid)
        await _restart_kafka_after(down_seconds)
        return f"node {node} (not the controller, {controller}) killed, restarted after {down_seconds:.0f} s"

    return inject


def kafka_controller(down_seconds: float) -> Inject:
    async def inject() -> str:
        controller = await kafka_controller_id()
        pid = pid_of(f"kafka-{controller}")
        assert pid, f"kafka-{controller} does not run"
        kill9(pid)
        await asyncio.sleep(down_seconds)
        successor = await kafka_controller_id()
        await omsorg("kafka-up")
        return f"active controller node {controller} killed; node {successor} took over; restarted"

    return inject


def kafka_all(down_seconds: float) -> Inject:
    async def inject() -> str:
        for n in NODES:
            pid = pid_of(f"kafka-{n}")
            if pid:
                kill9(pid)
        await _restart_kafka_after(down_seconds)
        return f"all three nodes killed, restarted after {down_seconds:.0f} s"

    return inject


def worker_kill(service: str, how_many: int = 1) -> Inject:
    async def inject() -> str:
        running = workers(service)
        victims = random.sample(running, min(how_many, len(running)))
        for pid in victims:
            kill9(pid)
        await wait_workers_replaced(service, victims)
        return f"worker(s) {victims} killed; the supervisor started new ones"

    return inject


# The worker of a service caught in the middle of something, found through
# PostgreSQL: the backend doing it -> its client port -> the worker's socket.
RELAY_PASS = """SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE a.datname = $1 AND l.locktype = 'advisory' AND l.granted AND l.classid = 0
      AND l.objid = $2::bigint::oid"""
RELAY_LOCK = "outbox-relay:{service}"  # shared.outbox's advisory lock, one per service
# A request's or a batch's transaction under way (not the relay's: it locks the outbox rows it sends).
IN_TRANSACTION = """SELECT client_port FROM pg_stat_activity
    WHERE datname = $1 AND usename = $1 AND xact_start IS NOT NULL AND client_port IS NOT NULL
      AND query ILIKE ANY($2::text[]) AND query NOT ILIKE '%outbox%'
    ORDER BY xact_start LIMIT 1"""


async def busy_worker(service: str, query: str, arg: object, timeout: float = 10.0) -> int | None:
    """A worker of `service` whose database session `query` (service, `arg`) finds right now, or None."""
    conn = await asyncpg.connect(PG.format(db=service))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            port = await conn.fetchval(query, service, arg)
            if port:
                owner = _owner_of_local_port(int(port), workers(service))
                if owner:
                    return owner
            await asyncio.sleep(0.002)
    finally:
        await conn.close()
    return None


def _owner_of_local_port(port: int, candidates: list[int]) -> int | None:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in candidates:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return pid
        except FileNotFoundError:
            continue
    return None


def busy_kill(service: str, what: str, query: str, arg: object) -> Inject:
    """Kill -9 the worker caught doing `what` (else, after 10 s, any worker)."""

    async def inject() -> str:
        holder = await busy_worker(service, query, arg)
        if holder is None:
            pid = random.choice(workers(service))
            kill9(pid)
            said = f"nothing {what} seen in 10 s; worker {pid} killed instead"
        else:
            kill9(holder)
            pid = holder
            said = f"worker {holder} killed {what}"
        await wait_workers_replaced(service, [pid])
        return said + "; the supervisor started a new one"

    return inject


def relay_kill(service: str) -> Inject:
    lock_id = zlib.crc32(RELAY_LOCK.format(service=service).encode())
    return busy_kill(service, "while its relay held the outbox lock (mid-pass)", RELAY_PASS, lock_id)


def request_kill() -> Inject:
    return busy_kill(
        "intake", "mid-request (in a submit's transaction)", IN_TRANSACTION, ["%applications%", "%audit_log%"]
    )


def batch_kill() -> Inject:
    return busy_kill(
        "casework",
        "mid-batch (in a consumer transaction)",
        IN_TRANSACTION,
        ["%inbox%", "%incoming_applications%", "%audit_log%"],
    )


def supervisor_kill(service: str) -> Inject:
    async def inject() -> str:
        supervisor = pid_of(service)
        assert supervisor, f"{service} does not run"
        group = [supervisor, *workers(service)]
        os.killpg(supervisor, signal.SIGKILL)  # the supervisor and its workers: one process group
        await wait_gone(group)
        await omsorg("services-up")  # starts what does not run: this service
        return f"supervisor {supervisor} and its workers killed; restarted by omsorg.sh services-up"

    return inject


def postgres_restart() -> Inject:
    async def inject() -> str:
        await omsorg("pg-restart")
        return "pg_ctl restart -m fast"

    return inject


def rolling_restart(service: str) -> Inject:
    async def inject() -> str:
        old = workers(service)
        await omsorg("reload", service)
        return f"SIGHUP: workers {old} -> {workers(service)}, each new one ready before the old one stopped"

    return inject


def schedule(kafka_down_seconds: float) -> list[Fault]:
    """The default run: 24 faults, each kind at least twice where it is cheap."""
    k = kafka_down_seconds
    faults = [
        Fault("kafka: kill -9 a broker", kafka_node(k)),
        Fault("casework: kill -9 a worker mid-batch", batch_kill()),
        Fault("intake: kill -9 a worker mid-request", request_kill()),
        Fault("intake: kill -9 the relay mid-pass", relay_kill("intake")),
        Fault("rolling restart: intake", rolling_restart("intake")),
        Fault("rolling restart: casework", rolling_restart("casework")),
        Fault("rolling restart: messaging", rolling_restart("messaging")),
        Fault("rolling restart: provider", rolling_restart("provider")),
        Fault("rolling restart: notify", rolling_restart("notify")),
        Fault("kafka: kill -9 the controller", kafka_controller(k)),
        Fault("postgresql: restart", postgres_restart()),
        Fault("casework: kill -9 both workers", worker_kill("casework", 2)),
        Fault("casework: kill -9 supervisor+workers", supervisor_kill("casework")),
        Fault("intake: kill -9 supervisor+workers", supervisor_kill("intake")),
        Fault("kafka: kill -9 a broker", kafka_node(k)),
        Fault("intake: kill -9 the relay mid-pass", relay_kill("intake")),
        Fault("kafka: kill -9 all three brokers", kafka_all(k)),
        Fault("casework: kill -9 a worker mid-batch", batch_kill()),
        Fault("intake: kill -9 both workers", worker_kill("intake", 2)),
        Fault("postgresql: restart", postgres_restart()),
        Fault("kafka: kill -9 the controller", kafka_controller(k)),
        Fault("rolling restart: intake", rolling_restart("intake")),
        Fault("rolling restart: casework", rolling_restart("casework")),
        Fault("intake: kill -9 the relay mid-pass", relay_kill("intake")),
    ]
    return faults
