"""Orders to providers and fees (CW-13, CW-15): casework's copy of the providers
and their units (from provider.providers.v1); orders of granted services and
their state as provider reports it (placed, executing, ended); the absences
fees know of (dates only) and the fee administrator's work list.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation_number", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "provider_units",
        sa.Column("code", sa.String(100), primary_key=True),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_provider_units_provider_id", "provider_units", ["provider_id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("decision_id", sa.Uuid, sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("case_id", sa.Uuid, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("record_id", sa.Uuid, sa.ForeignKey("intake_records.id"), nullable=False),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("service_code", sa.String(60), nullable=False),
        sa.Column("service_name", sa.String(200), nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("document_ids", postgresql.ARRAY(sa.Uuid), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_by_name", sa.String(200), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("execution_date", sa.Date),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("end_date", sa.Date),
        sa.Column("end_reason", sa.String(40)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "end_date IS NULL OR execution_date IS NULL OR execution_date <= end_date", name="period"
        ),
    )
    op.create_index("ix_orders_decision_id", "orders", ["decision_id"])
    op.create_index("ix_orders_case_id", "orders", ["case_id"])
    op.create_index("ix_orders_person_id", "orders", ["person_id"])
    op.create_index("ix_orders_execution", "orders", ["execution_date", "end_date"])
    # The service refuses a second open order of a decision (409); this holds it anyway.
    op.create_index(
        "uq_orders_open_decision",
        "orders",
        ["decision_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'Avslutad'"),
    )

    op.create_table(
        "fee_absences",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("kundnummer", sa.String(20), nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("from_date", sa.Date, nullable=False),
        sa.Column("to_date", sa.Date),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_fee_absences_order_id", "fee_absences", ["order_id"])
    op.create_index("ix_fee_absences_person_id", "fee_absences", ["person_id"])
    op.create_table(
        "fee_work_items",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("absence_id", sa.Uuid, sa.ForeignKey("fee_absences.id"), nullable=False),
        sa.Column("signal", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kundnummer", sa.String(20), nullable=False),
        sa.Column("from_date", sa.Date, nullable=False),
        sa.Column("to_date", sa.Date),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("signalled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("done_by", sa.String(200)),
        # One item per applied version of an absence.
        sa.UniqueConstraint("absence_id", "version", name="uq_fee_work_items_absence_id"),
    )
    op.create_index(
        "ix_fee_work_items_list",
        "fee_work_items",
        [sa.text("(done_at IS NULL)"), "kundnummer", "signalled_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("fee_work_items")
    op.drop_table("fee_absences")
    op.drop_table("orders")
    op.drop_table("provider_units")
    op.drop_table("providers")
