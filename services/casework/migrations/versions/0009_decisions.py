"""Decisions (beslut, CW-9) on cases: drafted, then signed and write-protected
(a trigger refuses every change to a signed decision, and its deletion); a
correction is a new decision naming the one it replaces.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("case_id", sa.Uuid, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.String(40), nullable=False),
        sa.Column("decided_on", sa.Date),
        sa.Column("period_from", sa.Date),
        sa.Column("period_to", sa.Date),
        sa.Column("extent", sa.String(500)),
        sa.Column("corrects", sa.Uuid, sa.ForeignKey("decisions.id")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(200)),
        sa.Column("signed_by_name", sa.String(200)),
        sa.Column("signed_at", sa.DateTime(timezone=True)),
        sa.Column("document_id", sa.Uuid, sa.ForeignKey("documents.id")),
        sa.Column("delivery", sa.String(20)),
        sa.CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to", name="period"
        ),
    )
    op.create_index("ix_decisions_case_id", "decisions", ["case_id"])
    op.create_index(
        "uq_decisions_first_signed",
        "decisions",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("signed_at IS NOT NULL AND corrects IS NULL"),
    )
    op.create_index(
        "uq_decisions_signed_corrects",
        "decisions",
        ["corrects"],
        unique=True,
        postgresql_where=sa.text("signed_at IS NOT NULL AND corrects IS NOT NULL"),
    )
    # The service refuses first (409); this keeps a signed decision as it was
    # signed whatever writes to the table. The error class is an integrity
    # violation, which the problem handler answers with 409, never 500.
    op.execute("""
        CREATE FUNCTION decisions_signed_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a signed decision is write-protected'
                USING ERRCODE = 'integrity_constraint_violation';
        END $$""")
    op.execute("""
        CREATE TRIGGER decisions_signed_unchanged BEFORE UPDATE OR DELETE ON decisions
        FOR EACH ROW WHEN (OLD.signed_at IS NOT NULL) EXECUTE FUNCTION decisions_signed_unchanged()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER decisions_signed_unchanged ON decisions")
    op.execute("DROP FUNCTION decisions_signed_unchanged()")
    op.drop_table("decisions")
