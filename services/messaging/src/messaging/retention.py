"""The retention rule (MS-11) from the command line, for a scheduler:

    python -m messaging.retention            # list what would be purged (dry run)
    python -m messaging.retention --purge    # purge it, audit-logged

Messages journaled longer ago than MESSAGING_RETENTION_DAYS_AFTER_JOURNAL go,
with their attachments; unjournaled messages never. Prints ids and counts only."""

from __future__ import annotations

import argparse
import asyncio

from messaging.config import Settings
from messaging.journal import service
from messaging.journal.settings import config
from shared.auth import User
from shared.db import make_engine, make_sessionmaker

ACTOR = User(sub="retention-rule", name="retention rule", roles=frozenset({"system"}))


async def run(purge: bool) -> None:
    settings = Settings()
    engine = make_engine(settings.database_url, 2)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            result = await service.retention(session, ACTOR, not purge, config())
    finally:
        await engine.dispose()
    verb = "purged" if purge else "would purge"
    print(f"{verb} {result.count} messages journaled before {result.cutoff.isoformat()}")
    for item in result.messages:
        print(f"  {item.message_id}  journaled {item.journaled_at.isoformat()}")
    if result.more:
        print("more are due: run again")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m messaging.retention", description=__doc__)
    parser.add_argument("--purge", action="store_true", help="purge (default: a dry run that only lists)")
    asyncio.run(run(parser.parse_args().purge))


if __name__ == "__main__":
    main()
