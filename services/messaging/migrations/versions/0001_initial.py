"""Outbox, inbox, audit log; mailboxes.

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
        "mailboxes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('personal', 'group', 'citizen')", name="kind"),
    )


def downgrade() -> None:
    op.drop_table("mailboxes")
    drop_infrastructure_tables()
