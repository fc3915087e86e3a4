"""Orders (casework's OrderPlaced, kept as they came) with their executions
(confirmed with an execution date, ended with a reason), and the clients'
absences under executing orders, versioned.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("decision_id", sa.Uuid, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("record_id", sa.Uuid, nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("client_pnr", sa.String(12), nullable=False),
        sa.Column("client_name", sa.String(200), nullable=False),
        sa.Column("kundnummer", sa.String(20), nullable=False),
        sa.Column("client_address", sa.String(300), nullable=True),
        sa.Column("client_phone", sa.String(20), nullable=True),
        sa.Column("protected_identity", sa.Boolean, nullable=False),
        sa.Column("service_code", sa.String(60), nullable=False),
        sa.Column("service_name", sa.String(200), nullable=False),
        sa.Column("extent", sa.String(500), nullable=True),
        sa.Column("period_from", sa.Date, nullable=True),
        sa.Column("period_to", sa.Date, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("documents", JSONB, nullable=False),
        sa.Column("caseworker_id", sa.String(200), nullable=False),
        sa.Column("caseworker_name", sa.String(200), nullable=False),
        sa.Column("caseworker_unit", sa.String(100), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("execution_date", sa.Date, nullable=True),
        sa.Column("confirmed_by", sa.String(200), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("end_date IS NULL OR execution_date IS NOT NULL", name="ended_after_confirmed"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= execution_date", name="end_after_start"),
        sa.CheckConstraint("NOT protected_identity OR client_address IS NULL", name="protected_no_address"),
    )
    op.create_index("ix_orders_provider_id", "orders", ["provider_id"])
    op.create_index("ix_orders_person_id", "orders", ["person_id"])
    op.create_index("ix_orders_client_pnr", "orders", ["client_pnr"])
    op.create_index("ix_orders_kundnummer", "orders", ["kundnummer"])
    op.create_index("ix_orders_unit_placed", "orders", ["unit", "placed_at", "id"])
    op.create_table(
        "absences",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "order_id",
            sa.Uuid,
            sa.ForeignKey("orders.id", name="fk_absences_order_id_orders"),
            nullable=False,
        ),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("kundnummer", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("planned", sa.Boolean, nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("from_date", sa.Date, nullable=False),
        sa.Column("to_date", sa.Date, nullable=True),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("to_date IS NULL OR to_date >= from_date", name="period"),
        sa.CheckConstraint("version >= 1", name="version"),
    )
    op.create_index("ix_absences_order_id", "absences", ["order_id"])
    op.create_index("ix_absences_provider_person", "absences", ["provider_id", "person_id"])
    op.create_index("ix_absences_unit_from", "absences", ["unit", "from_date", "id"])


def downgrade() -> None:
    op.drop_table("absences")
    op.drop_table("orders")
