"""Audit-log schema changes after the first migration, and the runtime role's grants.

- `audit_log.tx`: the transaction that wrote the row, so the sealer
  (shared.audit_chain) seals a row only once no older transaction can still
  add one before it.
- `audit_seal`: the hash chain over the audit rows, insert-only like the log.
- TRUNCATE is refused on both, beside UPDATE and DELETE.
- `grant_runtime_role`: run after every migration (shared.alembic_env) by the
  owner role, so the role the service runs as may only INSERT and SELECT the
  audit tables, and read and write its other tables, never own or alter them.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

AUDIT_TABLES = frozenset({"audit_log", "audit_seal"})


def harden_audit_log() -> None:
    # Every existing row gets the migration's transaction: sealed once it commits.
    op.execute("ALTER TABLE audit_log ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute("CREATE INDEX ix_audit_log_tx ON audit_log (tx, id)")
    op.execute("""
        CREATE TABLE audit_seal (
            seq bigint PRIMARY KEY,
            audit_id bigint NOT NULL UNIQUE,
            tx xid8 NOT NULL,
            hash bytea NOT NULL CHECK (length(hash) = 32),
            sealed_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""")
    op.execute("""CREATE TRIGGER audit_seal_no_change BEFORE UPDATE OR DELETE ON audit_seal
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    for table in AUDIT_TABLES:
        op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""")


def unharden_audit_log() -> None:
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TABLE audit_seal")
    op.execute("""
        CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""")
    op.execute("DROP INDEX ix_audit_log_tx")
    op.execute("ALTER TABLE audit_log DROP COLUMN tx")


def grant_runtime_role(connection: Connection, role: str) -> None:
    """What the service's runtime role may do, granted by the owner after each
    migration so new tables are covered: read and write rows, use sequences,
    only INSERT and SELECT on the audit tables, only read the Alembic version."""
    quoted = connection.dialect.identifier_preparer.quote(role)
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON alembic_version FROM {quoted}",
    ):
        connection.execute(text(statement))
    for table in AUDIT_TABLES:
        if connection.scalar(text("SELECT to_regclass(:t)"), {"t": f"public.{table}"}) is not None:
            connection.execute(
                text(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} FROM {quoted}")
            )
