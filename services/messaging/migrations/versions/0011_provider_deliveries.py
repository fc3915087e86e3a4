"""Provider documents delivered to the e-service (PR-10): a delivery is casework's
(with its intake record) or provider's (with its order).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("e_service_deliveries", "record_id", nullable=True)
    op.add_column("e_service_deliveries", sa.Column("order_id", sa.Uuid, nullable=True))
    op.create_check_constraint(
        "ck_e_service_deliveries_record_or_order",
        "e_service_deliveries",
        "record_id IS NOT NULL OR order_id IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_constraint("ck_e_service_deliveries_record_or_order", "e_service_deliveries", type_="check")
    op.execute("DELETE FROM e_service_deliveries WHERE record_id IS NULL")
    op.drop_column("e_service_deliveries", "order_id")
    op.alter_column("e_service_deliveries", "record_id", nullable=False)
