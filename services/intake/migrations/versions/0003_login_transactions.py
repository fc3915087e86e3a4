"""Citizen e-ID login (IN-1): login transactions, and the development
simulator's orders.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_transactions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("order_ref", sa.String(100), nullable=False),
        sa.Column("auto_start_token", sa.String(100), nullable=False),
        sa.Column("qr_start_token", sa.String(100), nullable=False),
        sa.Column("qr_start_secret", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hint_code", sa.String(40)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("token_issued_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'failed', 'complete')", name="status"),
        # A token only for a complete login; a complete login has given out its token.
        sa.CheckConstraint("(status = 'complete') = (token_issued_at IS NOT NULL)", name="token_once"),
    )
    op.create_table(
        "eid_simulator_orders",
        sa.Column("order_ref", sa.String(100), primary_key=True),
        sa.Column("personal_number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("collects", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("eid_simulator_orders")
    op.drop_table("login_transactions")
