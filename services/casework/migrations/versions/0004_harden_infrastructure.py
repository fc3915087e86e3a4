"""Harden the shared infrastructure tables: outbox parking and cleanup, the
audit log's hash chain and grants (shared.infra_tables.harden_infrastructure).

Revision ID: 0004
Revises: 0003
"""

from shared.infra_tables import harden_infrastructure, unharden_infrastructure

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    harden_infrastructure()


def downgrade() -> None:
    unharden_infrastructure()
