"""The body of every service's migrations/env.py: async engine, online mode,
the infrastructure tables (outbox, inbox, audit_log) left out of comparisons."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.infra_tables import INFRASTRUCTURE_TABLES


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name in INFRASTRUCTURE_TABLES)


def run_migrations(metadata: MetaData, database_url: str) -> None:
    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata,
                          include_object=_include, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(database_url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
