"""Outbox, inbox, audit log; contact settings.

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
        "contact_settings",
        sa.Column("person_id", sa.Uuid, primary_key=True),
        sa.Column("sms_phone", sa.String(32)),
        sa.Column("email", sa.String(254)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("contact_settings")
    drop_infrastructure_tables()
