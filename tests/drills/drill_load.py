"""The drill's steady load: worker processes that submit applications to intake
as a careful citizen's client would, and report every outcome to the drill.

Each application carries a marker in its description (`drill <run> <index>`),
so the drill can find it in intake's and casework's databases by id and by
marker. The client never gives up on an application while the drill runs:

- 503: waits what Retry-After says (capped) and sends the same application again;
- a connection refused before anything was sent: sends it again;
- anything else that leaves it unknown whether intake stored the application
  (the connection dropped after the request was written, a timeout, another
  5xx): intake takes no Idempotency-Key, so before sending again the client
  looks the application up by its marker in the citizen's own list
  (GET /applications) and takes the id from there if it was stored;
- a 4xx other than 503 is final: reported as failed.

Every attempt that did not end in a 201 is reported with its time and kind, so
the drill can count what a client retrying only on 503 would have seen fail.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

# The benchmark's lean HTTP/1.1 connection (prepared bytes out; status, headers, body in).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from load_client import HttpConnection, HttpError, Reply  # isort: skip

try:  # uvloop ships with uvicorn[standard]
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

# Kinds of a failed attempt. Only RETRY_LATER (503) is what the API asks a client to retry.
REFUSED = "refused"  # connect refused: nothing was sent
DROPPED = "dropped"  # the connection closed after the request was written, before an answer
TIMEOUT = "timeout"
RETRY_LATER = "503"
MAX_RETRY_AFTER = 5.0


@dataclass(frozen=True)
class LoadPlan:
    """One worker's share: applications index, index+workers, ... at `rate` per second in all."""

    index: int
    workers: int
    rate: float
    start: float  # time.monotonic() of application 0
    run: str
    host: str
    port: int
    tokens: Sequence[str]
    max_in_flight: int
    timeout: float
    give_up_after: float  # seconds after the stop signal an unfinished application is abandoned


# ("app", index, first send (wall), done (wall), id or "", outcome, attempts)
#   outcome: "201" | "found" (stored, learnt by lookup) | "failed <kind>" | "abandoned"
# ("err", wall time, kind, index)
Report = tuple[object, ...]


def marker(run: str, index: int) -> str:
    """The description that identifies application `index` of drill `run`."""
    return f"drill {run} {index}"


def run_worker(plan: LoadPlan, stop: Event, reports: Connection) -> None:
    """Entry point of a load process: submit until `stop`, finish what is in flight, report."""
    if uvloop is not None:
        uvloop.install()
    asyncio.run(_submit_until_stopped(plan, stop, reports))
    reports.send(("done",))
    reports.close()


# Uvicorn closes a keep-alive connection idle for 5 s: one idle 2 s is not reused.
MAX_IDLE_SECONDS = 2.0


class _Client:
    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.idle: list[HttpConnection] = []
        self.target = f"{plan.host}:{plan.port}"

    def request(self, method: str, path: str, token: str, body: bytes | None = None) -> bytes:
        """The bytes of one request."""
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.target}", f"authorization: Bearer {token}"]
        if body is not None:
            lines += ["content-type: application/json", f"content-length: {len(body)}"]
        return ("".join(f"{line}\r\n" for line in lines) + "\r\n").encode() + (body or b"")

    async def _connection(self) -> HttpConnection:
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()
            if now - connection.idle_since < MAX_IDLE_SECONDS:
                return connection
            connection.writer.close()
        reader, writer = await asyncio.open_connection(self.plan.host, self.plan.port)
        return HttpConnection(reader, writer)

    async def exchange(self, request: bytes) -> Reply | str:
        """The reply, or the kind of failure."""
        try:
            connection = await self._connection()
        except OSError:
            return REFUSED  # nothing was sent
        try:
            async with asyncio.timeout(self.plan.timeout):
                reply = await connection.exchange(request)
        except TimeoutError:
            connection.writer.close()
            return TIMEOUT
        except (OSError, HttpError, asyncio.IncompleteReadError, ValueError):
            # Closed or garbled mid-answer (a worker killed while it wrote): unknown outcome.
            connection.writer.close()
            return DROPPED
        if connection.reusable:
            connection.idle_since = time.monotonic()
            self.idle.append(connection)
        else:
            connection.writer.close()
        return reply

    async def lookup(self, token: str, description: str, deadline: float) -> str | None:
        """The id of the citizen's application with this description, None if intake has none."""
        request = self.request("GET", "/applications", token)
        while time.monotonic() < deadline:
            reply = await self.exchange(request)
            if isinstance(reply, Reply) and reply.status == 200:
                for item in json.loads(reply.body):
                    if item["description"] == description:
                        return str(item["id"])
                return None
            await asyncio.sleep(0.5)
        raise TimeoutError("lookup")

    def close(self) -> None:
        for connection in self.idle:
            connection.writer.close()


async def _submit_until_stopped(plan: LoadPlan, stop: Event, reports: Connection) -> None:
    client = _Client(plan)
    batch: list[Report] = []
    stopped_at: list[float] = []

    def abandon_by() -> float:
        return stopped_at[0] + plan.give_up_after if stopped_at else float("inf")

    async def submit(i: int) -> None:
        token = plan.tokens[i % len(plan.tokens)]
        description = marker(plan.run, i)
        body = json.dumps({"entry": "sol", "services": ["hemtjanst"], "description": description}).encode()
        request = client.request("POST", "/applications", token, body)
        first = time.time()
        attempts = 0
        backoff = 0.2
        while time.monotonic() < abandon_by():
            attempts += 1
            reply = await client.exchange(request)
            if isinstance(reply, Reply) and reply.status == 201:
                batch.append(("app", i, first, time.time(), json.loads(reply.body)["id"], "201", attempts))
                return
            if isinstance(reply, Reply) and reply.status == 503:
                batch.append(("err", time.time(), RETRY_LATER, i))
                await asyncio.sleep(_retry_after(reply))
                continue
            kind = reply if isinstance(reply, str) else f"HTTP {reply.status}"
            batch.append(("err", time.time(), kind, i))
            if isinstance(reply, Reply) and reply.status < 500:
                batch.append(("app", i, first, time.time(), "", f"failed {kind}", attempts))
                return
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(2.0, backoff * 2)
            if reply == REFUSED:
                continue  # nothing reached intake
            try:  # stored or not? intake takes no Idempotency-Key: look it up by the marker
                found = await client.lookup(token, description, abandon_by())
            except TimeoutError:
                break
            if found is not None:
                batch.append(("app", i, first, time.time(), found, "found", attempts))
                return
        batch.append(("app", i, first, time.time(), "", "abandoned", attempts))

    async def flush() -> None:
        while True:
            await asyncio.sleep(0.1)
            if batch:
                reports.send(batch[:])
                batch.clear()

    flusher = asyncio.create_task(flush())
    tasks: set[asyncio.Task[None]] = set()
    slots = asyncio.Semaphore(plan.max_in_flight)
    i = plan.index
    await asyncio.sleep(max(0.0, plan.start - time.monotonic()))
    while not stop.is_set():
        delay = plan.start + i / plan.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(min(delay, 0.5))
            continue
        await slots.acquire()  # a stalled system holds back new applications, not an ever-growing queue
        task = asyncio.create_task(submit(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        task.add_done_callback(lambda _: slots.release())
        i += plan.workers
    stopped_at.append(time.monotonic())
    while tasks:
        await asyncio.gather(*tasks)
    flusher.cancel()
    if batch:
        reports.send(batch[:])
    client.close()


def _retry_after(reply: Reply) -> float:
    """What Retry-After asks (1 s without it), capped, with jitter so retries spread out."""
    try:
        seconds = float(reply.headers.get(b"retry-after", b"1"))
    except ValueError:  # an HTTP date: not what intake sends; wait a second
        seconds = 1.0
    return min(MAX_RETRY_AFTER, max(0.1, seconds)) * (0.5 + random.random())
