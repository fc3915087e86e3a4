"""Outbox, inbox, audit log; the shared e-application inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from shared.infra_tables import create_infrastructure_tables, drop_infrastructure_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_infrastructure_tables()
    op.create_table(
        "incoming_applications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("applicant_pnr", sa.String(12), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("entry", sa.String(8), nullable=False),
        sa.Column("services", pg.JSONB, nullable=False),
        sa.Column("categories", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_incoming_applications_applicant_pnr", "incoming_applications", ["applicant_pnr"])
    # The inbox is read newest first, by status: keyset pagination on this index.
    op.create_index(
        "ix_incoming_applications_status_submitted",
        "incoming_applications",
        ["status", sa.text("submitted_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_incoming_applications_submitted",
        "incoming_applications",
        [sa.text("submitted_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    op.drop_table("incoming_applications")
    drop_infrastructure_tables()
