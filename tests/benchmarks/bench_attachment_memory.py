"""Attachment memory benchmark against the running messaging service (`make up` first).

Reads the service's memory from /proc/<pid>/status (pid from .run/pids/messaging.pid),
uploads one 16 MB file streamed from a generator (never a bytes object of the
whole file, here or in the service), reads the memory again, downloads the file
streaming and compares its SHA-256, and prints the figures: the rise of the
current RSS (VmRSS) and of the peak (VmHWM), and the highest VmRSS sampled
while the upload and the download ran. The target (MS-4/MS-5, issue 7): a
16 MB upload raises the service's RSS by at most 20 MB.

    .venv/bin/python tests/benchmarks/bench_attachment_memory.py [--mb 16] [--rounds 1]

A small upload and download go first, so what is measured is the upload, not
the first request's lazy setup (imports, connection pool, JWKS).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "http://127.0.0.1:8100"
MESSAGING = "http://127.0.0.1:8103"
PID_FILE = ROOT / ".run/pids/messaging.pid"
MB = 1024 * 1024
PIECE = 64 * 1024
PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
TARGET_MB = 20.0


def memory(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak since start) of the process, in MB."""
    figures: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) / 1024  # kB -> MB
    return figures


class Sampler:
    """Polls VmRSS while a transfer runs: the highest value seen."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid, self.interval, self.highest = pid, interval, 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.highest = max(self.highest, memory(self.pid)["VmRSS"])
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.highest = max(self.highest, memory(self.pid)["VmRSS"])


async def file_body(size: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    """A PDF-headed file of `size` bytes, made piece by piece as it is sent."""
    sent = 0
    while sent < size:
        piece = PDF_HEAD if sent == 0 else os.urandom(min(PIECE, size - sent))
        digest.update(piece)
        sent += len(piece)
        yield piece


async def token(client: httpx.AsyncClient) -> str:
    body = {
        "role": "caseworker",
        "sub": f"bench-{uuid.uuid4().hex[:8]}",
        "name": "Bench Mark",
        "units": ["testenhet"],
    }
    response = await client.post(f"{ISSUER}/token", json=body)
    response.raise_for_status()
    return str(response.json()["access_token"])


async def upload(client: httpx.AsyncClient, headers: dict[str, str], size: int) -> tuple[str, str]:
    digest = hashlib.sha256()
    response = await client.put(
        f"{MESSAGING}/attachments",
        params={"filename": "bench.pdf"},
        content=file_body(size, digest),
        headers={**headers, "content-type": "application/pdf"},
    )
    if response.status_code != 201:
        sys.exit(f"upload failed: {response.status_code} {response.text}")
    out = response.json()
    if out["sha256"] != digest.hexdigest() or out["size"] != size:
        sys.exit("the service stored another file than was sent")
    return str(out["id"]), digest.hexdigest()


async def download(client: httpx.AsyncClient, headers: dict[str, str], attachment_id: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    async with client.stream("GET", f"{MESSAGING}/attachments/{attachment_id}", headers=headers) as response:
        if response.status_code != 200:
            sys.exit(f"download failed: {response.status_code}")
        async for piece in response.aiter_bytes():
            digest.update(piece)
            size += len(piece)
    return digest.hexdigest(), size


async def main(mb: int, rounds: int) -> int:
    pid = int(PID_FILE.read_text().strip())
    size = mb * MB
    async with httpx.AsyncClient(timeout=120) as client:
        headers = {"authorization": f"Bearer {await token(client)}"}
        warm_id, _ = await upload(client, headers, 64 * 1024)  # first-request setup, not measured
        await download(client, headers, warm_id)
        start = memory(pid)
        print(f"messaging pid {pid}: before  VmRSS {start['VmRSS']:7.1f} MB  VmHWM {start['VmHWM']:7.1f} MB")
        worst = 0.0
        for n in range(1, rounds + 1):
            before = memory(pid)
            async with Sampler(pid) as during_upload:
                attachment_id, sent_sha = await upload(client, headers, size)
            after_upload = memory(pid)
            async with Sampler(pid) as during_download:
                got_sha, got_size = await download(client, headers, attachment_id)
            after = memory(pid)
            same = got_sha == sent_sha and got_size == size
            rise = max(during_upload.highest, during_download.highest, after["VmHWM"]) - before["VmRSS"]
            worst = max(worst, rise)
            print(
                f"round {n}: {mb} MB upload  VmRSS {before['VmRSS']:.1f} -> {after_upload['VmRSS']:.1f} MB "
                f"(+{after_upload['VmRSS'] - before['VmRSS']:.1f}), "
                f"sampled peak {during_upload.highest:.1f} MB "
                f"(+{during_upload.highest - before['VmRSS']:.1f}), VmHWM {before['VmHWM']:.1f} -> "
                f"{after_upload['VmHWM']:.1f} MB (+{after_upload['VmHWM'] - before['VmHWM']:.1f})"
            )
            print(
                f"round {n}: download  sampled peak {during_download.highest:.1f} MB "
                f"(+{during_download.highest - before['VmRSS']:.1f}), VmRSS after {after['VmRSS']:.1f} MB, "
                f"SHA-256 {'identical' if same else 'DIFFERENT'}"
            )
            if not same:
                return 1
        print(
            f"RSS increase for a {mb} MB attachment: {worst:.1f} MB at most "
            f"(target <= {TARGET_MB:.0f} MB): {'OK' if worst <= TARGET_MB else 'OVER'}"
        )
        return 0 if worst <= TARGET_MB else 2


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=16, help="file size in MiB (default 16, the limit)")
    parser.add_argument("--rounds", type=int, default=1, help="uploads one after the other (default 1)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.mb, args.rounds)))
