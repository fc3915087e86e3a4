"""Persons, staff, intake records and their documents, relations and approvals.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("incoming_applications", sa.Column("record_id", sa.Uuid))
    op.add_column("incoming_applications", sa.Column("linked_at", TS))
    op.create_index(
        "ix_incoming_applications_entry_submitted",
        "incoming_applications",
        ["entry", sa.text("submitted_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_incoming_applications_categories", "incoming_applications", ["categories"], postgresql_using="gin"
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("units", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
    )
    op.execute("CREATE SEQUENCE kundnummer_seq START 100001")
    op.create_table(
        "persons",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("pnr", sa.String(12), nullable=False, unique=True),
        sa.Column(
            "kundnummer",
            sa.String(20),
            nullable=False,
            unique=True,
            server_default=sa.text("nextval('kundnummer_seq')::text"),
        ),
        sa.Column("name", sa.String(200), nullable=False),
        *[
            sa.Column(name, sa.String(length))
            for name, length in (
                ("address_street", 200),
                ("address_postal_code", 10),
                ("address_city", 100),
                ("registered_street", 200),
                ("registered_postal_code", 10),
                ("registered_city", 100),
                ("municipality", 100),
                ("county", 100),
                ("phone1", 20),
                ("phone2", 20),
                ("phone3", 20),
                ("email", 254),
            )
        ],
        *[
            sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false())
            for name in (
                "protected_identity",
                "confidentiality_marking",
                "secret_phone",
                "interpreter_needed",
                "messages_enabled",
                "sms_alerts",
                "email_alerts",
            )
        ],
        sa.Column("sms_phone", sa.SmallInteger),
        sa.Column("alert_recipients", sa.String(10), nullable=False, server_default="citizen"),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("sms_phone IN (1, 2)", name="sms_phone"),
        sa.CheckConstraint("alert_recipients IN ('citizen', 'related', 'both')", name="alert_recipients"),
    )
    op.create_index("ix_persons_name_lower", "persons", [sa.text("lower(name)")])
    op.create_table(
        "intake_records",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False, index=True),
        sa.Column("application_id", sa.Uuid, unique=True),
        sa.Column("record_type", sa.String(40), nullable=False),
        sa.Column("lss_services", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("caseworker_id", sa.String(200), nullable=False, index=True),
        sa.Column("caseworker_name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("from_whom", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "record_type IN ('Ansökan SoL', 'Begäran LSS', 'Förenklad handläggning')", name="record_type"
        ),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("record_id", sa.Uuid, sa.ForeignKey("intake_records.id"), nullable=False, index=True),
        sa.Column("doc_type", sa.String(60), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "relations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False, index=True),
        sa.Column("relation_type", sa.String(60), nullable=False),
        sa.Column("related_pnr", sa.String(12), nullable=False),
        sa.Column("related_name", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("phone", sa.String(20)),
        sa.Column("email", sa.String(254)),
        sa.Column("sms_alerts", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("email_alerts", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("persons.id"), nullable=False, index=True),
        sa.Column("related_pnr", sa.String(12), nullable=False),
        sa.Column("related_name", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("consent_info", sa.Text),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.CheckConstraint("valid_to >= valid_from", name="period"),
    )


def downgrade() -> None:
    for table in ("approvals", "relations", "documents", "intake_records", "persons", "staff"):
        op.drop_table(table)
    op.execute("DROP SEQUENCE kundnummer_seq")
    op.drop_index("ix_incoming_applications_categories", "incoming_applications")
    op.drop_index("ix_incoming_applications_entry_submitted", "incoming_applications")
    op.drop_column("incoming_applications", "linked_at")
    op.drop_column("incoming_applications", "record_id")
