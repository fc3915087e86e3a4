"""Attachments: files streamed into chunks, shared by forwarded copies.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_contents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "attachment_chunks",
        sa.Column(
            "content_id",
            sa.Uuid,
            sa.ForeignKey("attachment_contents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.CheckConstraint("seq >= 0", name="seq"),
    )
    # The files are mostly compressed already (PDF, PNG, JPEG, zip-based Office):
    # stored out of line without trying to compress them again.
    op.execute("ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("content_id", sa.Uuid, sa.ForeignKey("attachment_contents.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploader_sub", sa.String(200), nullable=False),
        sa.Column("message_id", sa.Uuid),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("position", sa.SmallInteger),
        sa.CheckConstraint("size > 0", name="size"),
        sa.CheckConstraint(
            "(message_id IS NULL) = (claimed_at IS NULL) AND (message_id IS NULL) = (position IS NULL)",
            name="claimed",
        ),
    )
    op.create_index("ix_attachments_content_id", "attachments", ["content_id"])
    op.create_index("ix_attachments_message_id", "attachments", ["message_id"])
    op.create_index(
        "ix_attachments_unclaimed_created_at",
        "attachments",
        ["created_at"],
        postgresql_where=sa.text("message_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("attachments")
    op.drop_table("attachment_chunks")
    op.drop_table("attachment_contents")
