"""Deliveries to the e-service (CW-9, MS-10): each decision letter or document
casework asked messaging to deliver into a citizen's e-service mailbox, once,
with the message it became (or why it was refused).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "e_service_deliveries",
        sa.Column("delivery_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("document_id", sa.Uuid, nullable=False),
        sa.Column("record_id", sa.Uuid, nullable=False),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("caseworker_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("message_id", sa.Uuid),
        sa.Column("mailbox_id", sa.Uuid),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_e_service_deliveries_person_id", "e_service_deliveries", ["person_id"])


def downgrade() -> None:
    op.drop_table("e_service_deliveries")
