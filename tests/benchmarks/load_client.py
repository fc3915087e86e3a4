"""The Apply benchmark's load generator: a lean HTTP/1.1 client run in worker
processes of its own, so the load competes as little as it can with the
system it measures (the benchmark prints what the workers spent).

A general-purpose client (httpx) spends about as much CPU per request as the
service answering it; this one sends prepared bytes over keep-alive
connections and reads back only the status line, the headers it needs and the
body, on uvloop where it is installed.

Open loop: each worker sends its share of the schedule (application i at
`start + i / rate`) whether or not earlier answers came back, over as many
connections as are busy, up to its cap; a latency is counted from the
scheduled time, so a wait for a free connection is not hidden.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

try:  # uvloop ships with uvicorn[standard]; the plain loop works too, more slowly
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]


class HttpError(Exception):
    """The connection failed or answered something that is not HTTP/1.1."""


@dataclass
class Reply:
    status: int
    headers: dict[bytes, bytes]  # names in lower case
    body: bytes


class HttpConnection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.reusable = True
        self.idle_since = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> Reply:
        """Send one prepared request and read its whole response."""
        self.writer.write(request)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self.reusable = False
            raise HttpError("connection closed before a response") from exc
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            self.reusable = False
            raise HttpError("not an HTTP/1.x response")
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if headers.get(b"connection", b"").lower() == b"close":
            self.reusable = False
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            body = await self._chunked()
        elif b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        else:
            self.reusable = False
            body = await self.reader.read()
        return Reply(int(parts[1]), headers, body)

    async def _chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(body)
            body += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


def request_head(method: str, host: str, target: str, headers: dict[str, str]) -> bytes:
    """The request line and headers of an HTTP/1.1 request, without the blank line that ends them."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return "".join(f"{line}\r\n" for line in lines).encode()


def with_body(head: bytes, body: bytes) -> bytes:
    """A whole request: `head`, its content-length and `body`."""
    return head + b"content-length: %d\r\n\r\n" % len(body) + body


# Uvicorn closes a connection idle for 5 s; one idle this long is not reused,
# so a request is never written into a connection the server is closing.
MAX_IDLE_SECONDS = 2.0


class Pool:
    """Keep-alive connections to one server, opened as needed up to `cap`."""

    def __init__(self, host: str, port: int, cap: int) -> None:
        self.host, self.port, self.cap = host, port, cap
        self.idle: list[HttpConnection] = []
        self.opened = 0
        self.freed = asyncio.Condition()

    async def exchange(self, request: bytes) -> Reply:
        connection = await self._acquire()
        try:
            reply = await connection.exchange(request)
        except BaseException:
            connection.reusable = False
            raise
        finally:
            await self._release(connection)
        return reply

    async def _acquire(self) -> HttpConnection:
        async with self.freed:
            while not self.idle and self.opened >= self.cap:
                await self.freed.wait()
            now = time.monotonic()
            while self.idle and now - self.idle[0].idle_since > MAX_IDLE_SECONDS:
                self.idle.pop(0).close()  # the oldest first: the list is in release order
                self.opened -= 1
            if self.idle:
                return self.idle.pop()
            self.opened += 1
        try:
            return await HttpConnection.open(self.host, self.port)
        except BaseException:
            async with self.freed:
                self.opened -= 1
                self.freed.notify()
            raise

    async def _release(self, connection: HttpConnection) -> None:
        async with self.freed:
            if connection.reusable:
                connection.idle_since = time.monotonic()
                self.idle.append(connection)
            else:
                connection.close()
                self.opened -= 1
            self.freed.notify()

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


@dataclass(frozen=True)
class WorkerPlan:
    """One worker's share of the load: applications index, index+workers, ... of `total`."""

    index: int
    workers: int
    total: int
    rate: float
    start: float  # time.monotonic() of application 0; CLOCK_MONOTONIC is one clock for every process
    host: str
    port: int
    tokens: Sequence[str]
    max_connections: int
    timeout: float


# What a worker sends back for each application: index, scheduled time, time
# the answer was complete, HTTP status (0: no answer), the application's id and
# submitted_at from a 201, or the error's name.
Result = tuple[int, float, float, int, str, str]


def run_worker(plan: WorkerPlan, results: Connection) -> None:
    """Entry point of a worker process: send the plan's share, stream the results back in batches."""
    if uvloop is not None:
        uvloop.install()
    sending_cpu = asyncio.run(_send_share(plan, results))
    results.send(("done", sending_cpu))
    results.close()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _send_share(plan: WorkerPlan, results: Connection) -> float:
    """Send the plan's share; the CPU seconds spent from the first send on (start-up left out)."""
    pool = Pool(plan.host, plan.port, plan.max_connections)
    heads = [
        request_head(
            "POST",
            f"{plan.host}:{plan.port}",
            "/applications",
            {"authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        for token in plan.tokens
    ]
    batch: list[Result] = []

    async def submit(i: int, scheduled: float) -> None:
        body = json.dumps({"entry": "sol", "services": ["hemtjanst"], "description": f"bench {i}"}).encode()
        request = with_body(heads[i % len(heads)], body)
        try:
            async with asyncio.timeout(plan.timeout):
                reply = await pool.exchange(request)
        except (OSError, HttpError, TimeoutError) as exc:
            batch.append((i, scheduled, time.monotonic(), 0, "", type(exc).__name__))
            return
        done = time.monotonic()
        if reply.status == 201:
            answer = json.loads(reply.body)
            batch.append((i, scheduled, done, 201, answer["id"], answer["submitted_at"]))
        else:
            batch.append((i, scheduled, done, reply.status, "", ""))

    async def flush() -> None:
        while True:
            await asyncio.sleep(0.05)
            if batch:
                results.send(batch[:])
                batch.clear()

    await asyncio.sleep(max(0.0, plan.start - time.monotonic()))
    cpu_at_start = _cpu()
    flusher = asyncio.create_task(flush())
    tasks = set()
    for i in range(plan.index, plan.total, plan.workers):
        scheduled = plan.start + i / plan.rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(submit(i, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    flusher.cancel()
    if batch:
        results.send(batch[:])
    pool.close()
    return _cpu() - cpu_at_start
