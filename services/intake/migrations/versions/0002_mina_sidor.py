"""Mina sidor: application status history, citizen profiles, contacts, and the
projection of related-person approvals.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application_status_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("application_id", sa.Uuid, sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_application_status_history_application_id", "application_status_history", ["application_id", "at"]
    )
    # Applications filed before this revision start their history with their status now.
    op.execute(
        "INSERT INTO application_status_history (application_id, status, at) "
        "SELECT id, status, submitted_at FROM applications"
    )
    op.create_table(
        "citizen_profiles",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("pnr", sa.String(12), nullable=False, unique=True),
        sa.Column("mobile", sa.String(20)),
        sa.Column("email", sa.String(254)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "citizen_contacts",
        sa.Column("record_id", sa.Uuid, primary_key=True),
        sa.Column("citizen_pnr", sa.String(12), nullable=False, index=True),
        sa.Column("caseworker_id", sa.String(200), nullable=False),
        sa.Column("caseworker_name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "representations",
        sa.Column("approval_id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("citizen_pnr", sa.String(12), nullable=False),
        sa.Column("citizen_name", sa.String(200), nullable=False),
        sa.Column("related_pnr", sa.String(12), nullable=False, index=True),
        sa.Column("related_name", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        # The event time of the last change applied: an older event never overwrites a newer one.
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("representations")
    op.drop_table("citizen_contacts")
    op.drop_table("citizen_profiles")
    op.drop_table("application_status_history")
