"""Investigations and cases (CW-7, CW-9, CW-11, IN-6): the investigation started
on an intake record (or the record closed without one), cases (ärenden) per
service with their legal basis and status history, and journal entries filed
under a case.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intake_records", sa.Column("investigation_type", sa.String(40)))
    op.add_column("intake_records", sa.Column("investigation_method", sa.String(10)))
    op.add_column("intake_records", sa.Column("investigation_started_at", sa.DateTime(timezone=True)))
    op.add_column("intake_records", sa.Column("investigation_started_by", sa.String(200)))
    op.add_column("intake_records", sa.Column("closed_at", sa.DateTime(timezone=True)))
    op.add_column("intake_records", sa.Column("closed_by", sa.String(200)))
    op.add_column("intake_records", sa.Column("close_reason", sa.String(100)))
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("record_id", sa.Uuid, sa.ForeignKey("intake_records.id"), nullable=False),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("service_code", sa.String(60), nullable=False),
        sa.Column("service_name", sa.String(200), nullable=False),
        sa.Column("legal_basis", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("record_id", "service_code"),
    )
    op.create_index("ix_cases_record_id", "cases", ["record_id"])
    op.create_index("ix_cases_person_id", "cases", ["person_id"])
    op.create_table(
        "case_status_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.Uuid, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_sub", sa.String(200), nullable=False),
    )
    op.create_index("ix_case_status_history_case_id", "case_status_history", ["case_id", "at"])
    op.add_column("journal_entries", sa.Column("case_id", sa.Uuid, sa.ForeignKey("cases.id")))
    op.create_index("ix_journal_entries_case_id", "journal_entries", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_journal_entries_case_id", "journal_entries")
    op.drop_column("journal_entries", "case_id")
    op.drop_table("case_status_history")
    op.drop_table("cases")
    for column in (
        "close_reason",
        "closed_by",
        "closed_at",
        "investigation_started_by",
        "investigation_started_at",
        "investigation_method",
        "investigation_type",
    ):
        op.drop_column("intake_records", column)
