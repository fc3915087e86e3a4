"""The attachment store's tables (docs/attachments.md).

A file's bytes are `attachment_chunks` rows of one `attachment_contents` (at most
CHUNK_BYTES each), written as the upload streams in. An `attachments` row is one
file as a message shows it (name, type, size, SHA-256, uploader, message): a
forward's attachments are new rows that share the original's content, so no
byte is copied. Contents nobody refers to any more are deleted with the last
attachment that did.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from messaging.models import Base

CHUNK_BYTES = 256 * 1024  # one row of attachment_chunks: bounded memory per step, few rows per file


class AttachmentContent(Base):
    """The bytes of one uploaded file, as its chunks; shared by forwarded copies.
    Every chunk but the last holds exactly CHUNK_BYTES, so an attachment's size
    tells how many chunks its content has."""

    __tablename__ = "attachment_contents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AttachmentChunk(Base):
    """One piece of a file, `seq` counting from 0; written with Core inserts, never loaded as objects."""

    __tablename__ = "attachment_chunks"

    content_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("attachment_contents.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (CheckConstraint("seq >= 0", name="seq"),)


class Attachment(Base):
    """A file as a message shows it. Unclaimed (`message_id` null) it belongs to its
    uploader only; claimed, access follows the message (the messages module checks it)."""

    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachment_contents.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploader_sub: Mapped[str] = mapped_column(String(200))
    # The message it is attached to (the messages module's id); null while unclaimed.
    message_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Its place among the message's attachments (0..4), in the order they were attached.
    position: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("size > 0", name="size"),
        CheckConstraint(
            "(message_id IS NULL) = (claimed_at IS NULL) AND (message_id IS NULL) = (position IS NULL)",
            name="claimed",
        ),
        # The cleanup's scan: unclaimed uploads by age.
        Index(
            "ix_attachments_unclaimed_created_at", "created_at", postgresql_where=text("message_id IS NULL")
        ),
    )
