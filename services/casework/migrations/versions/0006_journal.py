"""Journal entries of intake records (CW-11, CW-12): messages journaled from
messaging, attributed to their real author; their attachments are documents.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("record_id", sa.Uuid, sa.ForeignKey("intake_records.id"), nullable=False),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("message_id", sa.Uuid, nullable=False),
        sa.Column("request_id", sa.Uuid, nullable=False),
        sa.Column("entry_type", sa.String(40), nullable=False),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("sender_designation", sa.String(200)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_sub", sa.String(200), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("author_role", sa.String(32), nullable=False),
        sa.Column("author_pnr", sa.String(12)),
        sa.Column("on_behalf_of", sa.String(200)),
        sa.Column("approval_id", sa.Uuid),
        sa.Column("registered_by_sub", sa.String(200), nullable=False),
        sa.Column("registered_by_name", sa.String(200), nullable=False),
        sa.Column("document_ids", ARRAY(sa.Uuid), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("record_id", "message_id"),
    )
    op.create_index("ix_journal_entries_record_id", "journal_entries", ["record_id"])


def downgrade() -> None:
    op.drop_table("journal_entries")
