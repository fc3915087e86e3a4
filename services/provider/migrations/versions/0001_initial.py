"""Outbox, inbox, audit log; providers and units.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.infra_tables import create_infrastructure_tables, drop_infrastructure_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_infrastructure_tables()
    op.create_table(
        "providers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation_number", sa.String(12), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "provider_units",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_index("ix_provider_units_provider_id", "provider_units", ["provider_id"])


def downgrade() -> None:
    op.drop_table("provider_units")
    op.drop_table("providers")
    drop_infrastructure_tables()
