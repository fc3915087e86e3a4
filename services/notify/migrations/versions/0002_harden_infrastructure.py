"""Harden the shared infrastructure tables: outbox parking and cleanup, the
audit log's hash chain and grants (shared.infra_tables.harden_infrastructure).

Revision ID: 0002
Revises: 0001
"""

from shared.infra_tables import harden_infrastructure, unharden_infrastructure

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    harden_infrastructure()


def downgrade() -> None:
    unharden_infrastructure()
