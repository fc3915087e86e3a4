"""The attachment store's rules at the service layer (MS-4, MS-5), against
messaging's PostgreSQL in a rolled-back transaction."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import uuid
import zipfile
import zlib
from collections.abc import AsyncIterable, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.responses import StreamingResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messaging.attachments import service
from messaging.attachments.models import CHUNK_BYTES
from messaging.attachments.service import Limits, TooLarge, UnsupportedType
from shared.auth import User
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

UserFactory = Callable[..., User]
Counts = Callable[[], Awaitable[dict[str, int]]]
AuditRows = Callable[[str], Awaitable[list[dict[str, Any]]]]
MB = 1024 * 1024


async def body(data: bytes, piece: int = 64 * 1024) -> AsyncIterable[bytes]:
    """`data` as a request body arrives: in pieces."""
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


def pdf(padding: int = 0) -> bytes:
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
        + os.urandom(padding)
        + b"%%EOF\n"
    )


def png() -> bytes:
    def part(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + part(b"IHDR", header)
        + part(b"IDAT", zlib.compress(b"\0\0"))
        + part(b"IEND", b"")
    )


def jpeg() -> bytes:
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + os.urandom(200)
        + b"\xff\xd9"
    )


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024)
ELF = b"\x7fELF\x02\x01\x01\x00" + os.urandom(4096)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(4096)
TEXT = "Hej! Här är anteckningen från mötet.\nRad två, med å ä ö.\n".encode()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def read_all(response: StreamingResponse) -> bytes:
    return b"".join([bytes(piece) async for piece in response.body_iterator])  # type: ignore[arg-type]


async def upload(session: AsyncSession, user: User, name: str, content_type: str | None, data: bytes) -> Any:
    return await service.upload(session, user, name, content_type, body(data))


@pytest.mark.parametrize(
    ("name", "content_type", "data"),
    [
        ("intyg.pdf", "application/pdf", pdf()),
        ("bild.png", "image/png", png()),
        ("foto.jpg", "image/jpeg", jpeg()),
        ("anteckning.txt", "text/plain; charset=utf-8", TEXT),
        ("brev.docx", DOCX, docx()),
        ("gammalt.doc", "application/msword", OLE),
        ("stor.pdf", "application/pdf", pdf(padding=3 * CHUNK_BYTES + 12345)),  # several chunks
    ],
)
async def test_an_upload_downloads_byte_identical(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: UserFactory,
    audit_rows: AuditRows,
    name: str,
    content_type: str,
    data: bytes,
) -> None:
    user = make_user()
    out = await upload(session, user, name, content_type, data)
    assert out.filename == name
    assert out.size == len(data)
    assert out.sha256 == hashlib.sha256(data).hexdigest()
    chunks = await session.scalar(
        text(
            "SELECT count(*) FROM attachment_chunks c JOIN attachments a USING (content_id) WHERE a.id = :id"
        ),
        {"id": out.id},
    )
    assert chunks == -(-len(data) // CHUNK_BYTES)

    response = await service.download_own(session, sessionmaker, user, out.id)
    assert await read_all(response) == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-type"].startswith(content_type.split(";")[0])
    assert [(r["action"], r["outcome"], r["actor"]) for r in await audit_rows(str(out.id))] == [
        ("create", "allowed", user.sub),
        ("read", "allowed", user.sub),
    ]


async def test_a_citizen_uploads_too(session: AsyncSession, make_user: UserFactory) -> None:
    citizen = make_user("citizen")
    out = await upload(session, citizen, "kvitto.pdf", "application/pdf", pdf())
    assert out.size > 0


async def test_17_mb_is_refused_and_nothing_is_stored(
    session: AsyncSession, make_user: UserFactory, stored: Counts
) -> None:
    before = await stored()
    seventeen = pdf(padding=17 * MB)
    with pytest.raises(TooLarge) as refused:
        await upload(session, make_user(), "stor.pdf", "application/pdf", seventeen)
    assert refused.value.status == 413
    assert await stored() == before
    # 16 MB exactly is allowed.
    sixteen = pdf()[:20] + os.urandom(16 * MB - 20)
    out = await upload(session, make_user(), "precis.pdf", "application/pdf", sixteen)
    assert out.size == 16 * MB


async def test_the_limit_is_a_setting(session: AsyncSession, make_user: UserFactory, stored: Counts) -> None:
    before = await stored()
    with pytest.raises(TooLarge):
        await service.upload(
            session, make_user(), "a.pdf", "application/pdf", body(pdf(padding=2000)), Limits(max_bytes=1000)
        )
    assert await stored() == before


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("application/pdf", ELF),  # an executable declared a PDF
        ("application/pdf", EXE),
        ("image/jpeg", png()),  # an image, but not the declared one
        ("image/png", pdf()),
        ("application/msword", docx()),  # zip declared OLE
        (DOCX, OLE),
        ("text/plain", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),  # markup
        ("text/plain", b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("text/plain", "latin-1: åäö".encode("latin-1")),  # not UTF-8
        ("text/plain", b"text with a NUL \x00 byte"),
        ("text/plain", b"a" * (CHUNK_BYTES + 10) + b"\xff"),  # invalid UTF-8 after the first chunk
        ("text/plain", ELF),
    ],
)
async def test_content_that_is_not_its_declared_type_is_refused(
    session: AsyncSession, make_user: UserFactory, stored: Counts, content_type: str, data: bytes
) -> None:
    before = await stored()
    with pytest.raises(InvalidInput) as refused:
        await upload(session, make_user(), "fil", content_type, data)
    assert refused.value.status == 422
    assert await stored() == before


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/x-msdownload",
        "application/octet-stream",
        "text/html",
        "image/gif",
        "text/plain; charset=latin-1",
    ],
)
async def test_a_type_not_allowed_is_refused(
    session: AsyncSession, make_user: UserFactory, stored: Counts, content_type: str | None
) -> None:
    before = await stored()
    with pytest.raises(UnsupportedType) as refused:
        await upload(session, make_user(), "fil", content_type, pdf())
    assert refused.value.status == 415
    assert await stored() == before


async def test_an_empty_file_is_refused(
    session: AsyncSession, make_user: UserFactory, stored: Counts
) -> None:
    before = await stored()
    with pytest.raises(InvalidInput):
        await upload(session, make_user(), "tom.txt", "text/plain", b"")
    assert await stored() == before


@pytest.mark.parametrize("filename", ["../..", "\x02", "/", " . "])
async def test_a_name_that_cleans_away_to_nothing_is_named_bilaga(
    session: AsyncSession, make_user: UserFactory, filename: str
) -> None:
    # The schema takes any name of 1 to 1000 characters: such a name is not refused.
    uploaded = await upload(session, make_user(), filename, "application/pdf", pdf())
    assert uploaded.filename == service.FALLBACK_FILENAME


def test_filenames_are_made_safe() -> None:
    assert service.safe_filename("C:\\Users\\x\\rapport.pdf") == "rapport.pdf"
    assert service.safe_filename("../../etc/passwd") == "passwd"
    assert service.safe_filename("an\r\nteck\x00ning.txt") == "anteckning.txt"
    long = service.safe_filename("å" * 400 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")
    header = service.content_disposition('Beslut "nr 2" för Åsa.pdf')
    assert header.startswith("attachment; filename=\"Beslut _nr 2_ for Asa.pdf\"; filename*=UTF-8''")
    assert "Beslut%20%22nr%202%22%20f%C3%B6r%20%C3%85sa.pdf" in header


async def test_five_attachments_are_claimed_and_a_sixth_is_refused(
    session: AsyncSession, make_user: UserFactory
) -> None:
    user = make_user()
    message_id = uuid.uuid4()
    ids = [(await upload(session, user, f"{i}.txt", "text/plain", TEXT)).id for i in range(6)]
    claimed = await service.claim(session, user.sub, ids[:3], message_id)
    assert [a.id for a in claimed] == ids[:3]
    await service.claim(session, user.sub, ids[3:5], message_id)
    with pytest.raises(InvalidInput):
        await service.claim(session, user.sub, ids[5:], message_id)
    with pytest.raises(InvalidInput):  # six at once, for a new message
        await service.claim(session, user.sub, ids, uuid.uuid4())
    assert [a.id for a in await service.of_message(session, message_id)] == ids[:5]


async def test_someone_elses_or_a_claimed_attachment_cannot_be_claimed(
    session: AsyncSession, make_user: UserFactory, audit_rows: AuditRows
) -> None:
    owner, other = make_user(), make_user()
    mine = (await upload(session, owner, "a.pdf", "application/pdf", pdf())).id
    theirs = (await upload(session, other, "b.pdf", "application/pdf", pdf())).id
    message_id = uuid.uuid4()
    with pytest.raises(NotAllowed):
        await service.claim(session, owner.sub, [mine, theirs], message_id)
    assert await service.of_message(session, message_id) == []  # all or nothing
    refusals = [r for r in await audit_rows(str(theirs)) if r["outcome"] == "refused"]
    assert [(r["actor"], r["action"]) for r in refusals] == [(owner.sub, "claim")]
    with pytest.raises(NotAllowed):
        await service.claim(session, owner.sub, [uuid.uuid4()], message_id)  # unknown id

    await service.claim(session, owner.sub, [mine], message_id)
    with pytest.raises(Conflict):
        await service.claim(session, owner.sub, [mine], uuid.uuid4())


async def test_someone_elses_attachment_cannot_be_downloaded(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: UserFactory,
    audit_rows: AuditRows,
) -> None:
    owner, other = make_user(), make_user("citizen")
    out = await upload(session, owner, "a.pdf", "application/pdf", pdf())
    with pytest.raises(NotAllowed):
        await service.download_own(session, sessionmaker, other, out.id)
    with pytest.raises(NotFound):
        await service.download_own(session, sessionmaker, other, uuid.uuid4())
    assert [(r["actor"], r["outcome"]) for r in await audit_rows(str(out.id)) if r["action"] == "read"] == [
        (other.sub, "refused")
    ]
    # Once on a message, even the uploader reads it through the message.
    await service.claim(session, owner.sub, [out.id], uuid.uuid4())
    with pytest.raises(NotAllowed):
        await service.download_own(session, sessionmaker, owner, out.id)


async def test_the_messages_module_streams_a_message_attachment(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: UserFactory,
    audit_rows: AuditRows,
) -> None:
    owner, reader = make_user(), make_user("citizen")
    data = pdf(padding=CHUNK_BYTES)
    out = await upload(session, owner, "beslut.pdf", "application/pdf", data)
    message_id = uuid.uuid4()
    await service.claim(session, owner.sub, [out.id], message_id)
    response = await service.download_response(
        sessionmaker, out.id, message_id=message_id, session=session, user=reader, subject_pnr=str(reader.pnr)
    )
    assert await read_all(response) == data
    reads = [r for r in await audit_rows(str(out.id)) if r["action"] == "read"]
    assert [(r["actor"], r["subject_pnr"]) for r in reads] == [(reader.sub, str(reader.pnr))]
    with pytest.raises(NotFound):  # not an attachment of that message
        await service.download_response(sessionmaker, out.id, message_id=uuid.uuid4(), session=session)


async def test_a_forward_shares_the_content(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: UserFactory,
    stored: Counts,
) -> None:
    user = make_user()
    data = pdf(padding=2 * CHUNK_BYTES)
    original = await upload(session, user, "a.pdf", "application/pdf", data)
    first, forward = uuid.uuid4(), uuid.uuid4()
    await service.claim(session, user.sub, [original.id], first)
    before = await stored()
    copies = await service.copy_to(session, first, forward)
    after = await stored()
    assert after == {**before, "attachments": before["attachments"] + 1}  # no chunk copied
    assert [(c.filename, c.size, c.sha256) for c in copies] == [
        (original.filename, original.size, original.sha256)
    ]
    assert copies[0].id != original.id

    # The original message is purged: the forward keeps the content.
    assert await service.delete_of_messages(session, [first]) == 1
    response = await service.download_response(sessionmaker, copies[0].id, session=session)
    assert await read_all(response) == data
    assert await service.delete_of_messages(session, [forward]) == 1
    assert await stored() == {
        "attachments": before["attachments"] - 1,
        "contents": before["contents"] - 1,
        "chunks": before["chunks"] - 3,
    }


async def test_a_forward_keeps_to_five(session: AsyncSession, make_user: UserFactory) -> None:
    user = make_user()
    first, forward = uuid.uuid4(), uuid.uuid4()
    ids = [(await upload(session, user, f"{i}.txt", "text/plain", TEXT)).id for i in range(6)]
    await service.claim(session, user.sub, ids[:5], first)
    await service.claim(session, user.sub, ids[5:], forward)
    with pytest.raises(InvalidInput):
        await service.copy_to(session, first, forward)


async def test_unclaimed_uploads_are_purged_after_a_while(
    session: AsyncSession, make_user: UserFactory, stored: Counts
) -> None:
    user = make_user()
    old = await upload(session, user, "gammal.txt", "text/plain", TEXT)
    kept = await upload(session, user, "skickad.txt", "text/plain", TEXT)
    fresh = await upload(session, user, "ny.txt", "text/plain", TEXT)
    await service.claim(session, user.sub, [kept.id], uuid.uuid4())
    await session.execute(
        text("UPDATE attachments SET created_at = now() - interval '25 hours' WHERE id IN (:a, :b)"),
        {"a": old.id, "b": kept.id},
    )
    before = await stored()
    assert await service.purge_unclaimed(session, timedelta(hours=24)) >= 1
    remaining = set(
        await session.scalars(
            text("SELECT id FROM attachments WHERE id IN (:a, :b, :c)"),
            {"a": old.id, "b": kept.id, "c": fresh.id},
        )
    )
    assert remaining == {kept.id, fresh.id}
    after = await stored()
    assert after["chunks"] <= before["chunks"] - 1 and after["contents"] <= before["contents"] - 1
