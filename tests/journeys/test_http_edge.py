"""The HTTP edge on the running services (issue 12, point 12): oversized bodies
answer 413 at once and write nothing, over-long lists answer 422, and PDFs
render off the event loop and outside the e-application's row lock."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import asyncpg
import httpx

from conftest import (
    Stack,
    arrived_in_casework,
    bankid_login,
    bearer,
    caseworker_token,
    eventually,
    link_form,
    new_personnummer,
    submit_application,
)
from shared.db import asyncpg_dsn

MiB = 1024 * 1024
# Short lines: the slowest text to render that an applicant may send (about half a second).
SLOW_TEXT = "a\n" * 4999 + "a"


async def _citizen(http: httpx.AsyncClient, stack: Stack) -> str:
    return await bankid_login(http, stack, new_personnummer(), "Edith Edge")


def _padded_application(marker: str) -> bytes:
    """A valid application, padded with JSON whitespace to over 1 MiB: accepted but for its size."""
    body = json.dumps({"entry": "sol", "services": ["trygghetslarm"], "description": marker})
    return body.encode() + b" " * (MiB + 1024)


async def _own_descriptions(http: httpx.AsyncClient, stack: Stack, citizen: str) -> list[str]:
    response = await http.get(f"{stack.url('intake')}/applications", headers=bearer(citizen))
    assert response.status_code == 200, response.text
    return [a["description"] for a in response.json()]


async def test_an_oversized_body_answers_413_at_once_and_writes_nothing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    citizen = await _citizen(http, stack)
    intake = stack.url("intake")
    marker = f"edge-{uuid.uuid4().hex}"
    headers = {**bearer(citizen), "content-type": "application/json"}

    # With Content-Length: refused from the header alone, before the body is read.
    reader, writer = await asyncio.open_connection("127.0.0.1", 8101)
    started = time.perf_counter()
    writer.write(
        (
            f"POST /applications HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {citizen}\r\n"
            f"content-type: application/json\r\ncontent-length: {50 * MiB}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    elapsed = time.perf_counter() - started
    writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/problem+json" in head
    assert elapsed < 2.0  # no 50 MiB was waited for

    # A whole oversized body, with Content-Length and streamed without it.
    sized = await http.post(f"{intake}/applications", headers=headers, content=_padded_application(marker))
    payload = _padded_application(marker)

    async def chunks() -> Any:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    streamed = await http.post(f"{intake}/applications", headers=headers, content=chunks())
    for response in (sized, streamed):
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Content too large"
    assert marker not in await _own_descriptions(http, stack, citizen)

    # The same application, unpadded, goes through: only the size was refused.
    await submit_application(http, stack, citizen, description=marker)
    assert marker in await _own_descriptions(http, stack, citizen)


async def test_an_over_long_list_answers_422(stack: Stack, http: httpx.AsyncClient) -> None:
    citizen = await _citizen(http, stack)
    too_many = await http.post(
        f"{stack.url('intake')}/applications",
        headers=bearer(citizen),
        json={"entry": "sol", "services": ["trygghetslarm"] * 21, "description": "För många"},
    )
    assert too_many.status_code == 422, too_many.text
    assert too_many.json()["errors"][0]["loc"] == ["body", "services"]

    sub = f"cw-{uuid.uuid4().hex[:8]}"
    caseworker = await caseworker_token(stack, sub=sub)
    link = await http.post(
        f"{stack.url('casework')}/e-applications/{uuid.uuid4()}/link",
        headers=bearer(caseworker),
        json=link_form(sub, record_type="Begäran LSS", lss_services=["ledsagarservice"] * 11),
    )
    assert link.status_code == 422, link.text
    assert link.json()["errors"][0]["loc"] == ["body", "lss_services"]


async def test_rendering_pdfs_does_not_block_other_requests(stack: Stack, http: httpx.AsyncClient) -> None:
    citizen = await _citizen(http, stack)
    intake = stack.url("intake")
    application = await submit_application(http, stack, citizen, description=SLOW_TEXT)
    pdf_url = f"{intake}/applications/{application['id']}/pdf"

    async with httpx.AsyncClient(timeout=60) as client:
        renders = [asyncio.create_task(client.get(pdf_url, headers=bearer(citizen))) for _ in range(6)]
        await asyncio.sleep(0.2)  # the renders are under way
        slowest = 0.0
        while not all(task.done() for task in renders):
            started = time.perf_counter()
            live = await client.get(f"{intake}/health/live")
            slowest = max(slowest, time.perf_counter() - started)
            assert live.status_code == 200
            await asyncio.sleep(0.05)
        pdfs = [task.result() for task in renders]
    assert all(r.status_code == 200 and r.content.startswith(b"%PDF") for r in pdfs)
    assert slowest < 1.5, f"/health/live took {slowest:.2f}s while PDFs rendered"


def _casework_dsn(stack: Stack) -> str:
    pattern = stack.infra.env.get(
        "OMSORG_DATABASE_URL_PATTERN", "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
    )
    return asyncpg_dsn(pattern.replace("{name}", "casework"))


async def test_linking_renders_the_pdf_before_it_locks_the_e_application(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    """Hold the e-application's row lock, start the link, and release the lock
    once the link waits for it: the PDF is already rendered then, so the link
    finishes at once (it used to render the PDF while holding the lock)."""
    citizen = await _citizen(http, stack)
    application = await submit_application(http, stack, citizen, description=SLOW_TEXT)
    sub = f"cw-{uuid.uuid4().hex[:8]}"
    caseworker = await caseworker_token(stack, sub=sub)
    await arrived_in_casework(http, stack, caseworker, application["id"])
    # The caseworker is known to casework before the link names them as Handläggare.
    await http.get(
        f"{stack.url('casework')}/caseworkers", params={"unit": "testenhet"}, headers=bearer(caseworker)
    )

    holder = await asyncpg.connect(_casework_dsn(stack))
    observer = await asyncpg.connect(_casework_dsn(stack))
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.execute(
            "SELECT 1 FROM incoming_applications WHERE id = $1 FOR UPDATE", uuid.UUID(application["id"])
        )
        holder_pid = holder.get_server_pid()
        link = asyncio.create_task(
            http.post(
                f"{stack.url('casework')}/e-applications/{application['id']}/link",
                headers=bearer(caseworker),
                json=link_form(sub),
            )
        )

        async def link_waits_for_the_lock() -> bool:
            blocked = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", holder_pid
            )
            return bool(blocked)

        await eventually(link_waits_for_the_lock, timeout=30)
        released = time.perf_counter()
        await holding.rollback()
        response = await link
        after_release = time.perf_counter() - released
    finally:
        await holder.close()
        await observer.close()
    assert response.status_code == 201, response.text
    # Rendering this text takes about half a second; the write after the lock, milliseconds.
    assert after_release < 0.3, f"the link took {after_release:.2f}s after the lock was released"

    new = (await http.get(f"{stack.url('casework')}/intake-records/new", headers=bearer(caseworker))).json()
    [record] = [r for r in new if r["id"] == response.json()["record_id"]]
    [document] = record["documents"]
    pdf = await http.get(f"{stack.url('casework')}/documents/{document['id']}", headers=bearer(caseworker))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
