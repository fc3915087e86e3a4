"""Check one service's audit log against its hash chain (shared.audit_chain):
every sealed row still there and unchanged, no seal missing, no row left
unsealed too long. Prints the chain head (keep it elsewhere: a later head must
extend it) and, when broken, the first broken row first. Ids only, never the
rows' content.

    .venv/bin/python -m shared.audit_verify intake [--unsealed-after-minutes 5]

Exit status 0: intact; 1: broken (the findings are printed); 2: cannot check.
The database URL is `--database-url`, else `<SERVICE>_DATABASE_URL`, else the
local development cluster's. The service's runtime role suffices (SELECT).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import timedelta
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.audit_chain import verify

LOCAL_URL = "postgresql+asyncpg://{service}@127.0.0.1:55432/{service}"


async def check(
    engine: AsyncEngine, service: str, unsealed_after: timedelta, out: TextIO = sys.stdout
) -> int:
    """Verify and print; the exit status."""
    async with engine.connect() as connection:
        report = await verify(connection, unsealed_after)
    print(
        f"{service}: {report.sealed} audit rows sealed, head seq {report.head_seq} "
        f"hash {report.head_hash.hex()}, {report.unsealed_recent} recent rows not yet sealed",
        file=out,
    )
    if report.intact:
        print(f"{service}: audit chain intact", file=out)
        return 0
    first = report.findings[0]
    print(f"{service}: audit chain BROKEN at {first.detail}", file=out)
    for finding in report.findings:
        print(f"  {finding.kind}: {finding.detail}", file=out)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.audit_verify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("service", help="intake, casework, messaging, provider or notify")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--unsealed-after-minutes",
        type=float,
        default=5.0,
        help="a row still unsealed after this long is a finding (default 5)",
    )
    args = parser.parse_args()
    url = (
        args.database_url
        or os.environ.get(f"{args.service.upper()}_DATABASE_URL")
        or LOCAL_URL.format(service=args.service)
    )

    async def run() -> int:
        engine = create_async_engine(url)
        try:
            return await check(engine, args.service, timedelta(minutes=args.unsealed_after_minutes))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except Exception as exc:  # unreachable database, no audit_seal table yet: say so, exit 2
        print(f"{args.service}: cannot check the audit chain: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
