"""The attachment store (MS-4, MS-5; docs/attachments.md).

An upload streams in: each CHUNK_BYTES of the body is checked, hashed and
inserted as it arrives, all in one savepoint of the request's transaction, so a
refused or failed upload (too large, not its declared type, the client gone)
leaves nothing behind. A download streams out one chunk per query, each on a
pooled connection only while it is read, after the request's transaction has
committed.

Unclaimed attachments belong to their uploader only. The messages module
claims them for a message (`claim`), copies a forwarded message's (`copy_to`,
sharing the content), lists them (`of_message`) and streams them
(`download_response`) once it has checked the reader's access to the message;
it audits the message access, this module audits uploads and downloads.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messaging.attachments import repository
from messaging.attachments.content_types import (
    ALLOWED,
    ContentCheck,
    ContentMismatch,
    NotAllowedType,
    normalise,
    stored_type,
)
from messaging.attachments.models import CHUNK_BYTES, Attachment
from messaging.attachments.schemas import AttachmentOut
from messaging.config import MAX_ATTACHMENTS
from shared import audit
from shared.auth import User
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound, ServiceError

MAX_PER_MESSAGE = MAX_ATTACHMENTS  # MS-4
OBJECT_TYPE = "attachment"


class TooLarge(ServiceError):
    status = 413
    title = "Content too large"


class UnsupportedType(ServiceError):
    status = 415
    title = "Unsupported media type"


@dataclass(frozen=True)
class Limits:
    """The settings the store works under (messaging.config.Settings)."""

    max_bytes: int = 16 * 1024 * 1024
    unclaimed_after: timedelta = timedelta(hours=24)


def _out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut.model_validate(attachment)


def _entry(
    user: User, action: str, attachment_id: uuid.UUID, subject_pnr: str | None = None
) -> audit.AuditEntry:
    # The person an attachment concerns is known only through its message: the
    # messages module records that; here the actor and the object.
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=user.main_role,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(attachment_id),
        subject_pnr=subject_pnr,
    )


# The name of a file whose own name has nothing left once cleaned ("/", "..", control
# characters only). The API takes any non-empty name, as its schema says: which names
# clean away to nothing is beyond a pattern (Unicode's control category, path rules).
FALLBACK_FILENAME = "bilaga"


def safe_filename(filename: str) -> str:
    """The name an attachment keeps: no directories, no control characters, NFC,
    at most 255 characters (the extension kept); "bilaga" when nothing is left."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".").strip()
    if not name:
        return FALLBACK_FILENAME
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 254 - len(extension)]}.{extension}" if dot and len(extension) <= 16 else name[:255]
    return name


async def _pieces(body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The body regrouped into pieces of exactly CHUNK_BYTES (the last one shorter)."""
    buffer = bytearray()
    async for data in body:
        buffer += data
        while len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer[:CHUNK_BYTES])
            del buffer[:CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


async def upload(
    session: AsyncSession,
    user: User,
    filename: str,
    declared_type: str | None,
    body: AsyncIterable[bytes],
    limits: Limits = Limits(),
) -> AttachmentOut:
    """Store a file streamed from `body` as an unclaimed attachment of `user`.
    Nothing stays unless it is whole, at most `limits.max_bytes`, and its content
    is its declared type."""
    name = safe_filename(filename)
    try:
        media_type, family = normalise(declared_type)
    except NotAllowedType as exc:
        raise UnsupportedType(str(exc), allowed=sorted(ALLOWED)) from exc
    check = ContentCheck(family)
    digest = hashlib.sha256()
    size = 0
    attachment_id = uuid.uuid4()
    try:
        async with session.begin_nested():  # a refused upload rolls back every chunk
            content_id = await repository.new_content(session)
            seq = 0
            async for piece in _pieces(body):
                size += len(piece)
                if size > limits.max_bytes:
                    raise TooLarge(
                        f"An attachment may be at most {limits.max_bytes} bytes; nothing was saved.",
                        max_bytes=limits.max_bytes,
                    )
                check.feed(piece)
                digest.update(piece)
                await repository.add_chunk(session, content_id, seq, piece)
                seq += 1
            if size == 0:
                raise InvalidInput("The file is empty; nothing was saved.")
            check.finish()
            attachment = await repository.add(
                session,
                Attachment(
                    id=attachment_id,
                    content_id=content_id,
                    filename=name,
                    content_type=stored_type(media_type),
                    size=size,
                    sha256=digest.hexdigest(),
                    uploader_sub=user.sub,
                ),
            )
    except ContentMismatch as exc:
        raise InvalidInput(f"{exc} Nothing was saved.", declared_type=media_type) from exc
    await purge_unclaimed(session, limits.unclaimed_after)
    await audit.record(session, _entry(user, "create", attachment_id))
    return _out(attachment)


async def purge_unclaimed(session: AsyncSession, older_than: timedelta) -> int:
    """Delete attachments nobody attached to a message within `older_than` of their
    upload, and their contents; how many. Run on every upload."""
    return await repository.delete_unclaimed_before(session, datetime.now(UTC) - older_than)


async def claim(
    session: AsyncSession,
    user_sub: str,
    attachment_ids: Sequence[uuid.UUID],
    message_id: uuid.UUID,
    actor_role: str = "user",
) -> list[AttachmentOut]:
    """Attach the uploader's unclaimed attachments to a message (at most
    MAX_PER_MESSAGE on it in all). Someone else's (or an unknown id) is refused
    and audited; one already attached is a conflict; nothing changes unless all can."""
    ids = list(dict.fromkeys(attachment_ids))
    if not ids:
        return []
    if len(ids) > MAX_PER_MESSAGE:
        raise InvalidInput(f"A message has at most {MAX_PER_MESSAGE} attachments.")
    await repository.lock_message(session, message_id)
    found = {a.id: a for a in await repository.locked_many(session, ids)}
    for attachment_id in ids:
        attachment = found.get(attachment_id)
        if attachment is None or attachment.uploader_sub != user_sub:
            entry = audit.AuditEntry(user_sub, actor_role, "claim", OBJECT_TYPE, str(attachment_id))
            raise await audit.refuse(
                session, entry, NotAllowed("That is not one of your uploaded attachments.")
            )
        if attachment.message_id is not None:
            raise Conflict("That attachment is attached to a message already.")
    attached = await repository.count_of_message(session, message_id)
    if attached + len(ids) > MAX_PER_MESSAGE:
        raise InvalidInput(f"A message has at most {MAX_PER_MESSAGE} attachments.")
    await repository.claim(session, [found[i] for i in ids], message_id, attached, datetime.now(UTC))
    return [_out(found[i]) for i in ids]


async def copy_to(
    session: AsyncSession, from_message_id: uuid.UUID, to_message_id: uuid.UUID
) -> list[AttachmentOut]:
    """Give a forward (or a reply that keeps them) the attachments of the message it
    comes from: new attachments sharing the content, no byte copied."""
    await repository.lock_message(session, to_message_id)
    originals = await repository.of_message(session, from_message_id)
    if not originals:
        return []
    attached = await repository.count_of_message(session, to_message_id)
    if attached + len(originals) > MAX_PER_MESSAGE:
        raise InvalidInput(f"A message has at most {MAX_PER_MESSAGE} attachments.")
    now = datetime.now(UTC)
    copies = [
        await repository.add(
            session,
            Attachment(
                id=uuid.uuid4(),
                content_id=original.content_id,
                filename=original.filename,
                content_type=original.content_type,
                size=original.size,
                sha256=original.sha256,
                uploader_sub=original.uploader_sub,
                message_id=to_message_id,
                claimed_at=now,
                position=attached + offset,
            ),
        )
        for offset, original in enumerate(originals)
    ]
    return [_out(c) for c in copies]


async def of_message(session: AsyncSession, message_id: uuid.UUID) -> list[AttachmentOut]:
    """The attachments of a message, in the order they were attached."""
    return [_out(a) for a in await repository.of_message(session, message_id)]


async def delete_of_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> int:
    """Delete the attachments of these messages (a purge, MS-11), and every content
    no other message shares; how many attachments."""
    if not message_ids:
        return 0
    return await repository.delete_of_messages(session, message_ids)


async def remove_from_message(
    session: AsyncSession, message_id: uuid.UUID, attachment_ids: Sequence[uuid.UUID]
) -> int:
    """Delete these attachments of a message (a draft being edited), and every
    content no other message shares; how many. The messages module checks that
    the message is the user's draft."""
    if not attachment_ids:
        return 0
    await repository.lock_message(session, message_id)
    return await repository.delete_of_message(session, message_id, attachment_ids)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = "".join(
        c if c.isascii() and (c.isalnum() or c in " .-_()") else "_"
        for c in unicodedata.normalize("NFKD", filename)
        if not unicodedata.combining(c)
    ).strip()
    return f"attachment; filename=\"{fallback or 'attachment'}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _chunks(
    sessionmaker: async_sessionmaker[AsyncSession], content_id: uuid.UUID, size: int
) -> AsyncIterator[bytes]:
    """The content, one chunk per query; no connection is held while the client reads."""
    for seq in range(-(-size // CHUNK_BYTES)):
        async with sessionmaker() as session:
            data = await repository.chunk(session, content_id, seq)
        if data is None:
            # Deleted meanwhile: end the response short of its Content-Length.
            raise RuntimeError("attachment content is incomplete")
        yield data


def _streaming(sessionmaker: async_sessionmaker[AsyncSession], attachment: Attachment) -> StreamingResponse:
    return StreamingResponse(
        _chunks(sessionmaker, attachment.content_id, attachment.size),
        media_type=attachment.content_type,
        headers={
            "Content-Length": str(attachment.size),
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


async def download_response(
    sessionmaker: async_sessionmaker[AsyncSession],
    attachment_id: uuid.UUID,
    *,
    message_id: uuid.UUID | None = None,
    session: AsyncSession | None = None,
    user: User | None = None,
    subject_pnr: str | None = None,
) -> StreamingResponse:
    """The attachment as a streamed download. The CALLER has checked the reader's
    access (to the message). With `message_id`, an attachment of another message
    is not found. With `user`, the download is audited (as `subject_pnr`'s data),
    in `session` if given (the caller's transaction: one connection per request),
    else in a short transaction of its own."""
    if session is not None:
        return await _download(session, sessionmaker, attachment_id, message_id, user, subject_pnr)
    async with sessionmaker() as own, own.begin():
        return await _download(own, sessionmaker, attachment_id, message_id, user, subject_pnr)


async def _download(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    attachment_id: uuid.UUID,
    message_id: uuid.UUID | None,
    user: User | None,
    subject_pnr: str | None,
) -> StreamingResponse:
    attachment = await repository.get(session, attachment_id)
    if attachment is None or (message_id is not None and attachment.message_id != message_id):
        raise NotFound("There is no such attachment.")
    if user is not None:
        await audit.record(session, _entry(user, "read", attachment_id, subject_pnr))
    return _streaming(sessionmaker, attachment)


async def download_own(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    user: User,
    attachment_id: uuid.UUID,
) -> StreamingResponse:
    """The uploader's own attachment, while it is not attached to a message (once it
    is, it is read through the message, whose access rules apply)."""
    attachment = await repository.get(session, attachment_id)
    if attachment is None:
        raise NotFound("There is no such attachment.")
    entry = _entry(user, "read", attachment_id)
    if attachment.uploader_sub != user.sub:
        raise await audit.refuse(session, entry, NotAllowed("This attachment is not yours."))
    if attachment.message_id is not None:
        raise await audit.refuse(
            session, entry, NotAllowed("This attachment is on a message: open it from the message.")
        )
    await audit.record(session, entry)
    return _streaming(sessionmaker, attachment)
