"""Login hardening (docs/identity.md): a login is tied to the browser that
started it (the hash of its cookie's secret) and remembers the address BankID
was told (endUserIp), to compare with the completing device's; the simulator's
orders say from which address the simulated device completes. Indexes for the
purge of ended logins.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Logins started before this revision have neither: they can no longer be
    # collected (403) and are purged like any ended login.
    op.add_column("login_transactions", sa.Column("browser_binding", sa.String(64)))
    op.add_column("login_transactions", sa.Column("end_user_ip", sa.String(45)))
    op.create_index("login_transactions_started_at", "login_transactions", ["started_at"])
    op.create_index("login_transactions_finished_at", "login_transactions", ["finished_at"])
    op.add_column("eid_simulator_orders", sa.Column("device_ip", sa.String(45)))
    op.create_index("eid_simulator_orders_created_at", "eid_simulator_orders", ["created_at"])


def downgrade() -> None:
    op.drop_index("eid_simulator_orders_created_at", "eid_simulator_orders")
    op.drop_column("eid_simulator_orders", "device_ip")
    op.drop_index("login_transactions_finished_at", "login_transactions")
    op.drop_index("login_transactions_started_at", "login_transactions")
    op.drop_column("login_transactions", "end_user_ip")
    op.drop_column("login_transactions", "browser_binding")
