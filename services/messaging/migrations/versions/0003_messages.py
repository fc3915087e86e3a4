"""Mailboxes of staff, units and citizens; the staff directory; the projections
of casework's facts that say who may write to whom (e-service, caseworkers,
provider assignments, related persons); messages and their per-mailbox copies.
Seeds the units' group mailboxes (gemensamma brevlådor, MS-6).

Revision ID: 0003
Revises: 0002
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The group mailboxes of the absence routine, and Bosam SÄF (MS-6, MS-12):
# (unit as the tokens name it, mailbox name). Ids are stable across databases.
GROUP_MAILBOXES = (
    ("ifo-barn-och-familj", "IFO Barn och familj"),
    ("ifo-vuxen", "IFO vuxen"),
    ("ifo-ekonomiskt-bistand", "IFO Ekonomiskt bistånd"),
    ("ifo-familjeteamet", "IFO Familjeteamet"),
    ("ifo-social-stodteamet", "IFO Social stödteamet"),
    ("vo-bistandshandlaggare", "VO Biståndshandläggare"),
    ("lss-handlaggare", "LSS handläggare"),
    ("bosam-saf", "Bosam SÄF"),
)
_NAMESPACE = uuid.UUID("6f1c2a52-4d0e-4a53-9a55-0c1b6a9e7d10")


def group_mailbox_id(unit: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"group:{unit}")


def upgrade() -> None:
    op.add_column("mailboxes", sa.Column("owner_sub", sa.String(200)))
    op.add_column("mailboxes", sa.Column("person_id", sa.Uuid))
    op.create_unique_constraint("uq_mailboxes_owner_sub", "mailboxes", ["owner_sub"])
    op.create_unique_constraint("uq_mailboxes_person_id", "mailboxes", ["person_id"])
    op.create_index(
        "uq_mailboxes_group_unit",
        "mailboxes",
        ["unit"],
        unique=True,
        postgresql_where=sa.text("kind = 'group'"),
    )
    op.create_check_constraint(
        "owner",
        "mailboxes",
        "(kind = 'personal' AND owner_sub IS NOT NULL) OR (kind = 'group' AND unit IS NOT NULL)"
        " OR (kind = 'citizen' AND person_id IS NOT NULL)",
    )
    mailboxes = sa.table(
        "mailboxes",
        sa.column("id", sa.Uuid),
        sa.column("kind", sa.String),
        sa.column("name", sa.String),
        sa.column("unit", sa.String),
    )
    op.bulk_insert(
        mailboxes,
        [
            {"id": group_mailbox_id(unit), "kind": "group", "name": name, "unit": unit}
            for unit, name in GROUP_MAILBOXES
        ],
    )
    op.create_table(
        "staff_members",
        sa.Column("sub", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("units", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("provider_id", sa.String(100)),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "e_service_persons",
        sa.Column("person_id", sa.Uuid, primary_key=True),
        sa.Column("pnr", sa.String(12), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("messages_enabled", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "caseworker_assignments",
        sa.Column("record_id", sa.Uuid, primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("caseworker_id", sa.String(200), nullable=False, index=True),
        sa.Column("caseworker_name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('caseworker', 'co_caseworker')", name="role"),
    )
    op.create_table(
        "provider_assignments",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("provider_id", sa.String(100), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "representations",
        sa.Column("approval_id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("citizen_pnr", sa.String(12), nullable=False),
        sa.Column("citizen_name", sa.String(200), nullable=False),
        sa.Column("related_pnr", sa.String(12), nullable=False, index=True),
        sa.Column("related_name", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("from_mailbox_id", sa.Uuid, sa.ForeignKey("mailboxes.id"), nullable=False, index=True),
        sa.Column("person_id", sa.Uuid, index=True),
        sa.Column("person_pnr", sa.String(12)),
        sa.Column("person_name", sa.String(200)),
        sa.Column("author_sub", sa.String(200), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("author_role", sa.String(32), nullable=False),
        sa.Column("author_pnr", sa.String(12)),
        sa.Column("approval_id", sa.Uuid),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("read_receipt", sa.Boolean, nullable=False),
        sa.Column("reply_to_id", sa.Uuid, sa.ForeignKey("messages.id")),
        sa.Column("forwarded_from_id", sa.Uuid, sa.ForeignKey("messages.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("kind IN ('message', 'receipt')", name="kind"),
        sa.CheckConstraint("status IN ('draft', 'sent')", name="status"),
        sa.CheckConstraint("length(btrim(subject)) > 0", name="subject"),
    )
    op.create_table(
        "message_recipients",
        sa.Column("message_id", sa.Uuid, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("mailbox_id", sa.Uuid, sa.ForeignKey("mailboxes.id"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.CheckConstraint("role IN ('to', 'client')", name="role"),
    )
    op.create_table(
        "mailbox_items",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("mailbox_id", sa.Uuid, sa.ForeignKey("mailboxes.id"), nullable=False, index=True),
        sa.Column("message_id", sa.Uuid, sa.ForeignKey("messages.id"), nullable=False, index=True),
        sa.Column("folder", sa.String(16), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("mailbox_id", "message_id", "folder"),
        sa.CheckConstraint("folder IN ('inbox', 'sent', 'drafts')", name="folder"),
    )


def downgrade() -> None:
    for table in (
        "mailbox_items",
        "message_recipients",
        "messages",
        "representations",
        "provider_assignments",
        "caseworker_assignments",
        "e_service_persons",
        "staff_members",
    ):
        op.drop_table(table)
    op.execute("DELETE FROM mailboxes")
    op.drop_constraint("ck_mailboxes_owner", "mailboxes")
    op.drop_index("uq_mailboxes_group_unit", "mailboxes")
    op.drop_column("mailboxes", "person_id")
    op.drop_column("mailboxes", "owner_sub")
