"""Operations command for parked outbox rows: rows Kafka refused for good (a
missing topic, a record too large, no permission). List them, and once the
cause is fixed (the topic created, the limit raised, the ACL granted) put them
back in line: the relay then sends them, and the rows of the same key that
waited behind them, in their original order. Payloads are never printed.

    .venv/bin/python -m shared.outbox_admin list intake
    .venv/bin/python -m shared.outbox_admin replay intake [--id 42 ...]

The database URL is `--database-url`, else `<SERVICE>_DATABASE_URL`, else the
local development cluster's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

LOCAL_URL = "postgresql+asyncpg://{service}@127.0.0.1:55432/{service}"


@dataclass(frozen=True)
class ParkedRow:
    id: int
    topic: str
    ce_type: str
    parked_at: datetime
    reason: str
    waiting_behind: int  # later rows of the same topic and key held back


async def list_parked(engine: AsyncEngine) -> list[ParkedRow]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("""
            SELECT p.id, p.topic, p.headers->>'ce_type' AS ce_type, p.parked_at, p.park_reason,
                   (SELECT count(*) FROM outbox w WHERE w.sent_at IS NULL AND w.parked_at IS NULL
                      AND w.topic = p.topic AND w.key = p.key AND w.id > p.id) AS waiting
            FROM outbox p WHERE p.parked_at IS NOT NULL AND p.sent_at IS NULL ORDER BY p.id
        """)
            )
        ).all()
    return [
        ParkedRow(r.id, r.topic, r.ce_type or "?", r.parked_at, r.park_reason or "", r.waiting) for r in rows
    ]


async def replay(engine: AsyncEngine, ids: list[int] | None = None) -> int:
    """Unpark the given rows (all parked rows if none are given) and wake the
    relay; returns how many were put back."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text("""
            UPDATE outbox SET parked_at = NULL, park_reason = NULL
            WHERE parked_at IS NOT NULL AND sent_at IS NULL
              AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(CAST(:ids AS bigint[])))
        """),
            {"ids": ids or None},
        )
        await conn.execute(text("SELECT pg_notify('outbox', '')"))
    return result.rowcount


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.outbox_admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("service", help="intake, casework, messaging, provider or notify")
    parser.add_argument("--database-url")
    parser.add_argument("--id", type=int, action="append", help="replay only this row (repeatable)")
    args = parser.parse_args()
    url = (
        args.database_url
        or os.environ.get(f"{args.service.upper()}_DATABASE_URL")
        or LOCAL_URL.format(service=args.service)
    )

    async def run() -> None:
        engine = create_async_engine(url)
        try:
            if args.command == "list":
                for row in await list_parked(engine):
                    print(
                        f"{row.id}\t{row.topic}\t{row.ce_type}\t{row.parked_at.isoformat()}\t"
                        f"{row.reason}\t{row.waiting_behind} waiting behind"
                    )
            else:
                print(f"put back {await replay(engine, args.id)} parked row(s)")
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
