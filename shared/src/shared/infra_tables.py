"""The outbox, inbox and audit-log tables every service has, created by each
service's first migration through `create_infrastructure_tables()`.

They are written with plain SQL by shared.outbox, shared.inbox and shared.audit,
so they are not part of any service's ORM metadata; the Alembic environment
ignores them when comparing models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

INFRASTRUCTURE_TABLES = frozenset({"outbox", "inbox", "audit_log"})
OUTBOX_CHANNEL = "outbox"


def create_infrastructure_tables() -> None:
    op.create_table(
        "outbox",
        # bigserial: the relay publishes in insertion order.
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("headers", pg.JSONB, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL"))
    # Wake the relay at commit time instead of polling (LISTEN/NOTIFY).
    op.execute(f"""
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('{OUTBOX_CHANNEL}', ''); RETURN NULL; END $$""")
    op.execute("""CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()""")

    op.create_table(
        "inbox",
        sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("ce_type", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("actor_role", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("subject_pnr", sa.String(12)),
        sa.Column("object_type", sa.Text, nullable=False),
        sa.Column("object_id", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_audit_log_subject_pnr", "audit_log", ["subject_pnr", "at"])
    # Append-only: the database itself refuses to change or remove audit rows.
    op.execute("""
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""")
    op.execute("""CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")


def drop_infrastructure_tables() -> None:
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("inbox")
    op.drop_table("outbox")
    op.execute("DROP FUNCTION outbox_notify()")


def harden_infrastructure() -> None:
    """Second step of the infrastructure tables (issue: harden the event path):
    outbox parking and cleanup, audit-log chain and grants. Every service's
    migration after its first calls this once."""
    from shared.audit_schema import harden_audit_log

    _harden_outbox_inbox()
    harden_audit_log()


def unharden_infrastructure() -> None:
    from shared.audit_schema import unharden_audit_log

    unharden_audit_log()
    _unharden_outbox_inbox()


def _harden_outbox_inbox() -> None:
    # A row Kafka refuses for good is parked (kept, with the reason) instead of
    # blocking the relay; the later rows of its topic and key wait behind it.
    op.add_column("outbox", sa.Column("parked_at", sa.DateTime(timezone=True)))
    op.add_column("outbox", sa.Column("park_reason", sa.Text))
    op.drop_index("ix_outbox_unsent", "outbox")
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["id"],
        postgresql_where=sa.text("sent_at IS NULL AND parked_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_parked",
        "outbox",
        ["topic", "key", "id"],
        postgresql_where=sa.text("sent_at IS NULL AND parked_at IS NOT NULL"),
    )


def _unharden_outbox_inbox() -> None:
    op.drop_index("ix_outbox_parked", "outbox")
    op.drop_index("ix_outbox_unsent", "outbox")
    op.create_index("ix_outbox_unsent", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_column("outbox", "park_reason")
    op.drop_column("outbox", "parked_at")
