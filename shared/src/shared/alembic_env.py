"""The body of every service's migrations/env.py: async engine, online mode,
the infrastructure tables (outbox, inbox, audit_log, audit_seal) left out of
comparisons, and the runtime role's grants after every upgrade.

Migrations run as the database's owner role (`<svc>_owner`). When
OMSORG_RUNTIME_DB_ROLE names the role the service runs as (`<svc>`), that role
is granted what it needs on every table after each run (shared.audit_schema):
so new tables are covered, and it never owns, alters or truncates anything."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.audit_schema import AUDIT_TABLES, grant_runtime_role
from shared.infra_tables import INFRASTRUCTURE_TABLES

RUNTIME_ROLE_VARIABLE = "OMSORG_RUNTIME_DB_ROLE"


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and (name in INFRASTRUCTURE_TABLES or name in AUDIT_TABLES))


def run_migrations(metadata: MetaData, database_url: str) -> None:
    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection, target_metadata=metadata, include_object=_include, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
            runtime_role = os.environ.get(RUNTIME_ROLE_VARIABLE)
            if runtime_role and runtime_role != connection.scalar(text("SELECT current_user")):
                grant_runtime_role(connection, runtime_role)

    async def run() -> None:
        engine = create_async_engine(database_url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
