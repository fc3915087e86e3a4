"""Journaling (MS-9) and retention (MS-11): each request to journal a message into
an intake record, when casework journaled it, and when the retention rule purged it.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_requests",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("message_id", sa.Uuid, nullable=False),
        sa.Column("record_id", sa.Uuid, nullable=False),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("person_pnr", sa.String(12), nullable=False),
        sa.Column("entry_type", sa.String(40), nullable=False),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("requested_by_sub", sa.String(200), nullable=False),
        sa.Column("requested_by_name", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journaled_at", sa.DateTime(timezone=True)),
        sa.Column("journal_entry_id", sa.Uuid),
        sa.Column("purged_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_journal_requests_message_id", "journal_requests", ["message_id"])
    op.create_index(
        "ix_journal_requests_journaled_at",
        "journal_requests",
        ["journaled_at"],
        postgresql_where=sa.text("journaled_at IS NOT NULL AND purged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("journal_requests")
