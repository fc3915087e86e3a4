"""The attachment routes on the running messaging service (127.0.0.1:8103) with
a caseworker's token from the development issuer: round trips, the 16 MB edge
limit (with Content-Length and streamed without), a mislabelled file, and
another user's attachment."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx

from conftest import Stack, bearer, caseworker_token
from shared.db import asyncpg_dsn

MB = 1024 * 1024
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


async def _stored_by(database_url: str, uploader_sub: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM attachments WHERE uploader_sub = $1", uploader_sub
        )
        return count
    finally:
        await connection.close()


async def _caseworker(stack: Stack) -> tuple[str, str]:
    sub = f"cw-{uuid.uuid4().hex[:8]}"
    return sub, await caseworker_token(stack, sub=sub)


async def test_uploads_round_trip_byte_identical(stack: Stack, http: httpx.AsyncClient) -> None:
    _, token = await _caseworker(stack)
    url = f"{stack.url('messaging')}/attachments"
    files = [
        ("intyg.pdf", "application/pdf", PDF + os.urandom(700 * 1024)),
        ("bild.png", "image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(5000)),
        ("anteckning från mötet.txt", "text/plain; charset=utf-8", "Hej!\nÅsa ringer i morgon.\n".encode()),
    ]
    for name, content_type, data in files:
        uploaded = await http.put(
            url,
            params={"filename": name},
            content=data,
            headers={**bearer(token), "content-type": content_type},
        )
        assert uploaded.status_code == 201, uploaded.text
        out = uploaded.json()
        assert (out["filename"], out["size"], out["sha256"]) == (
            name,
            len(data),
            hashlib.sha256(data).hexdigest(),
        )
        downloaded = await http.get(f"{url}/{out['id']}", headers=bearer(token))
        assert downloaded.status_code == 200, downloaded.text
        assert downloaded.content == data
        assert downloaded.headers["content-type"].split(";")[0] == content_type.split(";")[0]
        assert downloaded.headers["content-length"] == str(len(data))
        assert downloaded.headers["x-content-type-options"] == "nosniff"
        assert downloaded.headers["content-disposition"].startswith("attachment;")


async def test_17_mb_answers_413_and_stores_nothing(
    stack: Stack, http: httpx.AsyncClient, attachments_database_url: str
) -> None:
    sub, token = await _caseworker(stack)

    # Declared 17 MB: refused from the header alone, before the body is read.
    reader, writer = await asyncio.open_connection("127.0.0.1", 8103)
    writer.write(
        (
            "PUT /attachments?filename=stor.pdf HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            f"authorization: Bearer {token}\r\n"
            f"content-type: application/pdf\r\ncontent-length: {17 * MB}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head

    # Streamed without Content-Length: 16 MB of chunks are written, then rolled back.
    async def seventeen() -> AsyncIterator[bytes]:
        yield PDF
        for _ in range(17 * 16):
            yield os.urandom(64 * 1024)

    streamed = await http.put(
        f"{stack.url('messaging')}/attachments",
        params={"filename": "stor.pdf"},
        content=seventeen(),
        headers={**bearer(token), "content-type": "application/pdf"},
        timeout=60,
    )
    assert streamed.status_code == 413, streamed.text
    assert streamed.headers["content-type"] == "application/problem+json"
    assert await _stored_by(attachments_database_url, sub) == 0


async def test_a_file_that_is_not_its_declared_type_is_refused(
    stack: Stack, http: httpx.AsyncClient, attachments_database_url: str
) -> None:
    sub, token = await _caseworker(stack)
    url = f"{stack.url('messaging')}/attachments"
    elf = await http.put(
        url,
        params={"filename": "faktura.pdf"},
        content=b"\x7fELF\x02\x01\x01\x00" + os.urandom(4096),
        headers={**bearer(token), "content-type": "application/pdf"},
    )
    assert elf.status_code == 422, elf.text
    assert elf.headers["content-type"] == "application/problem+json"
    html = await http.post(
        url,
        params={"filename": "sida.txt"},
        content=b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        headers={**bearer(token), "content-type": "text/plain"},
    )
    assert html.status_code == 422, html.text
    exe = await http.put(
        url,
        params={"filename": "program.exe"},
        content=b"MZ\x90\x00" + os.urandom(4096),
        headers={**bearer(token), "content-type": "application/x-msdownload"},
    )
    assert exe.status_code == 415, exe.text
    assert await _stored_by(attachments_database_url, sub) == 0


async def test_someone_elses_attachment_cannot_be_downloaded(stack: Stack, http: httpx.AsyncClient) -> None:
    _, owner = await _caseworker(stack)
    _, other = await _caseworker(stack)
    url = f"{stack.url('messaging')}/attachments"
    uploaded = await http.put(
        url,
        params={"filename": "a.pdf"},
        content=PDF,
        headers={**bearer(owner), "content-type": "application/pdf"},
    )
    assert uploaded.status_code == 201, uploaded.text
    refused = await http.get(f"{url}/{uploaded.json()['id']}", headers=bearer(other))
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    anonymous = await http.get(f"{url}/{uploaded.json()['id']}")
    assert anonymous.status_code == 401
