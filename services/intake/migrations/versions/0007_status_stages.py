"""The application's status history follows the investigation (IN-6): Mottagen →
Utredning pågår → Beslut fattat per service (or Avslutad). A step may name one
service and the decision it reports; the application keeps the stage its status
is at, so an older event replayed late never runs the status back.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "applications", sa.Column("status_stage", sa.SmallInteger, nullable=False, server_default="0")
    )
    # Until now an application was new (stage 0) or received by casework (stage 1).
    op.execute("UPDATE applications SET status_stage = 1 WHERE status <> 'Ny'")
    op.add_column("application_status_history", sa.Column("service_code", sa.String(64)))
    op.add_column("application_status_history", sa.Column("source_id", sa.Uuid))
    # One step per decision reported.
    op.create_index(
        "ix_application_status_history_source_id",
        "application_status_history",
        ["application_id", "source_id"],
        unique=True,
        postgresql_where=sa.text("source_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_application_status_history_source_id", "application_status_history")
    op.drop_column("application_status_history", "source_id")
    op.drop_column("application_status_history", "service_code")
    op.drop_column("applications", "status_stage")
