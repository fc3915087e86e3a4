"""An audit log that cannot be quietly erased (issue 12, point 10), against
real PostgreSQL:

- in each service's database, the role the service runs as may only INSERT and
  SELECT the audit tables: no UPDATE, DELETE, TRUNCATE, DROP, ALTER, nor
  switching the trigger off; it owns nothing;
- the sealer chains every committed row exactly once, waiting for older
  transactions still open; the running services seal their rows and the
  verify command passes on them;
- whoever owns the tables (and can switch the trigger off) and changes or
  deletes a row is caught by verify, which names the first broken row.

The chain tests work in a scratch schema of the omsorg_test database, whose
role owns it: that role plays the tampering owner.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from conftest import ROOT, SERVICES, Infrastructure, Stack, bearer, eventually, new_personnummer
from shared import audit
from shared.audit_chain import AuditSealer, verify
from shared.audit_verify import check
from shared.db import asyncpg_dsn, make_sessionmaker
from shared.infra_tables import create_infrastructure_tables, harden_infrastructure

LOCAL_PATTERN = "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"


def runtime_url(infra: Infrastructure, service: str) -> str:
    """The service's database as the service itself connects to it (deploy/omsorg.sh)."""
    pattern = (
        infra.env.get("OMSORG_DATABASE_URL_PATTERN")
        or os.environ.get("OMSORG_DATABASE_URL_PATTERN")
        or LOCAL_PATTERN
    )
    return pattern.replace("{name}", service)


# ------------------------------------------------- the runtime role's limits ---

TAMPERING = [
    "UPDATE {t} SET {c} = {c}",
    "DELETE FROM {t}",
    "TRUNCATE {t}",
    "DROP TABLE {t}",
    "ALTER TABLE {t} DISABLE TRIGGER USER",
    "ALTER TABLE {t} DISABLE TRIGGER ALL",
    "ALTER TABLE {t} ADD COLUMN sneaky text",
    "ALTER TABLE {t} OWNER TO CURRENT_USER",
    "DROP TRIGGER {t}_no_truncate ON {t}",
    "CREATE TRIGGER sneaky BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]


@pytest.mark.parametrize("service", list(SERVICES))
async def test_the_runtime_role_may_only_insert_and_read_audit_rows(stack: Stack, service: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(runtime_url(stack.infra, service)))
    try:
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relowner = current_user::regrole"
            )
            == 0
        )
        assert await connection.fetchval(
            "SELECT datdba <> current_user::regrole FROM pg_database WHERE datname = current_database()"
        )
        for table, column in (("audit_log", "reason"), ("audit_seal", "hash")):
            for statement in TAMPERING:
                sql = statement.format(t=table, c=column)
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await connection.execute(sql)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CREATE TABLE sneaky (id int)")
        # Neither a seal of its own nor an audit row with a made-up transaction or time,
        # which could stall the sealer or slip a row in under the sealed part.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(
                "INSERT INTO audit_seal (seq, audit_id, tx, hash) VALUES (999999, 1, '99999999', '\\x00')"
            )
        for column, value in (("tx", "'99999999'"), ("at", "now() - interval '1 year'")):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    f"INSERT INTO audit_log (actor, actor_role, action, object_type, outcome, {column})"
                    f" VALUES ('test', 'test', 'read', 'probe', 'allowed', {value})"
                )
        # The sealing function checks what it is given: no skipped seq, no unknown row.
        head = await connection.fetchval("SELECT coalesce(max(seq), 0) FROM audit_seal")
        for seq, audit_id in ((head + 5, 1), (head + 1, -1)):
            with pytest.raises(asyncpg.RaiseError, match="audit_seal"):
                await connection.execute("SELECT audit_seal_append($1, $2, $3)", seq, audit_id, bytes(32))
        undone = connection.transaction()  # what it may do, undone at the end
        await undone.start()
        await connection.execute(
            "INSERT INTO audit_log (actor, actor_role, action, object_type, outcome)"
            " VALUES ('test', 'test', 'read', 'probe', 'allowed')"
        )
        assert await connection.fetchval("SELECT count(*) FROM audit_log WHERE object_type = 'probe'")
        assert await connection.fetchval("SELECT count(*) FROM audit_seal") is not None
        await undone.rollback()
    finally:
        await connection.close()


async def test_the_services_seal_their_audit_rows_and_verify_passes(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    search = await http.post(
        f"{stack.url('intake')}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr}
    )  # the review itself is audit-logged
    assert search.status_code == 200
    url = runtime_url(stack.infra, "intake")
    engine = create_async_engine(url)
    try:

        async def sealed() -> bool:
            async with engine.connect() as conn:
                return bool(
                    await conn.scalar(
                        text(
                            "SELECT count(*) FROM audit_seal s JOIN audit_log a ON a.id = s.audit_id "
                            "WHERE a.subject_pnr = :pnr"
                        ),
                        {"pnr": pnr},
                    )
                )

        await eventually(sealed, timeout=15)
    finally:
        await engine.dispose()
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shared.audit_verify",
        "intake",
        "--database-url",
        url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(command.communicate(), 120))[0].decode()
    assert command.returncode == 0, output
    assert "audit chain intact" in output and pnr not in output


# ------------------------------------------------------------ the chain ---


@pytest.fixture
async def owner(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    """A fresh schema with the infrastructure tables, as a service's migrations
    leave them, reached through an engine that owns them."""
    schema = f"audit_test_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(infrastructure.test_database_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_async_engine(
        infrastructure.test_database_url, connect_args={"server_settings": {"search_path": schema}}
    )
    async with engine.begin() as conn:

        def migrate(sync_conn: Any) -> None:
            with Operations.context(MigrationContext.configure(sync_conn)):
                create_infrastructure_tables()
                harden_infrastructure()

        await conn.run_sync(migrate)
    yield engine
    await engine.dispose()
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    await admin.dispose()


def entry(n: int) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=f"cw-{n}",
        actor_role="caseworker",
        action="read",
        object_type="person",
        object_id=str(uuid.uuid4()),
        subject_pnr="191212121212",
    )


async def add_rows(engine: AsyncEngine, count: int) -> list[int]:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await audit.record(session, *(entry(n) for n in range(count)))
        return list(
            await session.scalars(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT :n"), {"n": count})
        )[::-1]


async def seals(conn: AsyncConnection) -> list[int]:
    return list(await conn.scalars(text("SELECT audit_id FROM audit_seal ORDER BY seq")))


async def sealed_eventually(engine: AsyncEngine, expected: int) -> list[int]:
    """Seal until `expected` rows are sealed (other transactions in the cluster may hold it back a moment)."""
    sealer = AuditSealer(engine)

    async def done() -> list[int] | None:
        await sealer.seal_all()
        async with engine.connect() as conn:
            sealed = await seals(conn)
        return sealed if len(sealed) >= expected else None

    return list(await eventually(done, timeout=15))


async def test_every_committed_row_is_sealed_once_after_older_transactions_finish(owner: AsyncEngine) -> None:
    first = await add_rows(owner, 3)
    sessions = make_sessionmaker(owner)
    async with sessions() as rolled_back:  # leaves a gap in the ids, never a row
        async with rolled_back.begin():
            await audit.record(rolled_back, entry(99))
            await rolled_back.rollback()
    assert await sealed_eventually(owner, 3) == first

    # A transaction that wrote a row and is still open holds back every row after it.
    async with sessions() as slow:
        await slow.begin()
        await audit.record(slow, entry(7))
        slow_id = await slow.scalar(text("SELECT max(id) FROM audit_log"))
        later = await add_rows(owner, 2)
        await AuditSealer(owner).seal_all()
        async with owner.connect() as conn:
            assert await seals(conn) == first
        await slow.commit()
    assert await sealed_eventually(owner, 6) == [*first, slow_id, *later]

    async with owner.connect() as conn:
        report = await verify(conn)
    assert report.intact, report.findings
    assert (report.sealed, report.head_seq, report.unsealed_recent) == (6, 6, 0)


async def tamper(engine: AsyncEngine, statement: str, **params: Any) -> None:
    """What the owner of the table (or a superuser) can do: switch the guard off, change, switch it on."""
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        await conn.execute(text(statement), params)
        await conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))


async def verify_output(engine: AsyncEngine) -> tuple[int, str]:
    out = io.StringIO()
    status = await check(engine, "test", timedelta(minutes=5), out)
    return status, out.getvalue()


async def test_a_row_changed_by_the_owner_is_found_and_named(owner: AsyncEngine) -> None:
    ids = await add_rows(owner, 5)
    await sealed_eventually(owner, 5)
    assert (await verify_output(owner))[0] == 0

    await tamper(owner, "UPDATE audit_log SET reason = 'nothing to see' WHERE id = :id", id=ids[2])
    await tamper(owner, "UPDATE audit_log SET at = at - interval '1 day' WHERE id = :id", id=ids[4])

    async with owner.connect() as conn:
        report = await verify(conn)
    assert [(f.kind, f.audit_id, f.seq) for f in report.findings] == [
        ("changed", ids[2], 3),
        ("changed", ids[4], 5),
    ]
    status, output = await verify_output(owner)
    assert status == 1
    assert f"BROKEN at audit row {ids[2]} (seal 3)" in output
    assert "191212121212" not in output and "nothing to see" not in output


async def test_a_deleted_row_is_found_and_named(owner: AsyncEngine) -> None:
    ids = await add_rows(owner, 4)
    await sealed_eventually(owner, 4)

    await tamper(owner, "DELETE FROM audit_log WHERE id = :id", id=ids[1])

    async with owner.connect() as conn:
        report = await verify(conn)
    assert [(f.kind, f.audit_id, f.seq) for f in report.findings] == [("deleted", ids[1], 2)]
    status, output = await verify_output(owner)
    assert status == 1 and f"audit row {ids[1]} (seal 2) was deleted" in output


async def test_truncate_and_changes_are_refused_even_for_the_owner_while_the_guard_is_on(
    owner: AsyncEngine,
) -> None:
    await add_rows(owner, 2)
    await sealed_eventually(owner, 2)
    for statement in (
        "TRUNCATE audit_log",
        "TRUNCATE audit_seal",
        "UPDATE audit_log SET reason = 'x'",
        "DELETE FROM audit_log",
        "UPDATE audit_seal SET hash = hash",
        "DELETE FROM audit_seal",
    ):
        with pytest.raises(Exception, match="is append-only"):
            async with owner.begin() as conn:
                await conn.execute(text(statement))
    async with owner.connect() as conn:
        assert len(await seals(conn)) == 2
        assert (await verify(conn)).intact


async def test_rows_left_unsealed_too_long_are_reported(owner: AsyncEngine) -> None:
    ids = await add_rows(owner, 2)
    async with owner.begin() as conn:  # as if no sealer had run for an hour
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        await conn.execute(text("UPDATE audit_log SET at = at - interval '1 hour'"))
        await conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
    async with owner.connect() as conn:
        report = await verify(conn, unsealed_after=timedelta(minutes=5))
    assert [(f.kind, f.audit_id) for f in report.findings] == [("unsealed", ids[0])]
    assert "2 audit rows unsealed" in report.findings[0].detail
