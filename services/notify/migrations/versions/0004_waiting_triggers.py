"""Triggers that arrive before the person's alert settings wait here until the
settings come (notify.alerts.service.plan_waiting).

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
        "waiting_triggers",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("mailbox_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("waiting_triggers")
