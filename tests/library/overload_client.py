"""A burst of concurrent requests from a process of its own, for
tests/library/test_overload.py: each on its own connection, opened beforehand,
all sent at once, each timed from its send to its whole response. A process of
its own so that what is timed is the server, not the test's busy event loop.

Usage: python overload_client.py PORT COUNT PATH; prints one JSON line per
response: {"status", "seconds", "headers", "body"}."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


async def _one(port: int, request: bytes, go: asyncio.Event) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await go.wait()
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return {
            "status": int(lines[0].split()[1]),
            "seconds": time.perf_counter() - started,
            "headers": headers,
            "body": body.decode(),
        }
    finally:
        writer.close()


async def main(port: int, count: int, path: str) -> None:
    """Open `count` connections, then send GET `path` on all of them at once."""
    request = f"GET {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode()
    go = asyncio.Event()
    tasks = [asyncio.create_task(_one(port, request, go)) for _ in range(count)]
    await asyncio.sleep(0.5)  # the connections are open
    go.set()
    for result in await asyncio.gather(*tasks):
        print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
