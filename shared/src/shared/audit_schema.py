"""Audit-log schema changes after the first migration, and the runtime role's grants.

- `audit_log.tx`: the transaction that wrote the row, so the sealer
  (shared.audit_chain) seals a row only once no older transaction can still
  add one before it.
- `audit_seal`: the hash chain over the audit rows, insert-only like the log.
- TRUNCATE is refused on both, beside UPDATE and DELETE.
- `audit_seal_append`: the only way to add a seal, a function owned by the
  owner role (SECURITY DEFINER). It takes the seal's hash but checks the rest:
  the next seq, an existing audit row that is settled and not yet sealed, in
  (tx, id) order, with the row's own tx. A forged seal can then only carry a
  wrong hash, which `audit_verify` reports; it cannot stop the sealer.
- `grant_runtime_role`: run after every migration (shared.alembic_env) by the
  owner role, so the role the service runs as may only INSERT and SELECT the
  audit log (and only the columns a request fills: never `tx` or `at`), add
  seals only through `audit_seal_append`, read and write its other tables, and
  never own or alter them.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

AUDIT_TABLES = frozenset({"audit_log", "audit_seal"})

# What a request writes into an audit row; `id`, `at` and `tx` are the database's.
AUDIT_INSERT_COLUMNS = "actor, actor_role, action, subject_pnr, object_type, object_id, outcome, reason"

# search_path FROM CURRENT: the function sees the tables of the schema it was
# created in, whatever the caller's search_path (a SECURITY DEFINER habit).
_SEAL_FUNCTION = """
    CREATE OR REPLACE FUNCTION audit_seal_append(p_seq bigint, p_audit_id bigint, p_hash bytea)
    RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DECLARE
        head record;
        row_tx xid8;
    BEGIN
        SELECT seq, audit_id, tx INTO head FROM audit_seal ORDER BY seq DESC LIMIT 1;
        IF p_seq IS DISTINCT FROM coalesce(head.seq, 0) + 1 THEN
            RAISE EXCEPTION 'audit_seal: seal % is not the next one', p_seq;
        END IF;
        SELECT tx INTO row_tx FROM audit_log WHERE id = p_audit_id;
        IF row_tx IS NULL THEN
            RAISE EXCEPTION 'audit_seal: there is no audit row %', p_audit_id;
        END IF;
        IF row_tx >= pg_snapshot_xmin(pg_current_snapshot()) THEN
            RAISE EXCEPTION 'audit_seal: audit row % is not settled yet', p_audit_id;
        END IF;
        IF head.seq IS NOT NULL AND (row_tx, p_audit_id) <= (head.tx, head.audit_id) THEN
            RAISE EXCEPTION 'audit_seal: audit row % is not after the last sealed one', p_audit_id;
        END IF;
        INSERT INTO audit_seal (seq, audit_id, tx, hash) VALUES (p_seq, p_audit_id, row_tx, p_hash);
    END $$"""


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
    op.execute(_SEAL_FUNCTION)


def unharden_audit_log() -> None:
    op.execute("DROP FUNCTION IF EXISTS audit_seal_append(bigint, bigint, bytea)")
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
    if connection.scalar(text("SELECT to_regclass('public.audit_seal')")) is not None:
        # Databases hardened before the function existed get it here, as do new ones.
        connection.execute(text(_SEAL_FUNCTION))
        for statement in (
            "REVOKE ALL ON FUNCTION audit_seal_append(bigint, bigint, bytea) FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION audit_seal_append(bigint, bigint, bytea) TO {quoted}",
            f"REVOKE INSERT ON audit_seal FROM {quoted}",
            f"REVOKE INSERT ON audit_log FROM {quoted}",
            f"GRANT INSERT ({AUDIT_INSERT_COLUMNS}) ON audit_log TO {quoted}",
        ):
            connection.execute(text(statement))
