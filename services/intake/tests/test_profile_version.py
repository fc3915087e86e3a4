"""Intake numbers each citizen's contact-detail changes: ContactDetailsChanged
carries the profile's version, incremented under its row lock, which consumers
order by (docs/event-ordering.md). Against intake's real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import ROOT, Infrastructure, new_personnummer
from intake.citizens import service
from intake.citizens.schemas import ProfileUpdate
from shared.auth import User
from shared.db import make_engine, make_sessionmaker
from shared.personnummer import Personnummer

_EVENTS = text("""
    SELECT convert_from(payload, 'UTF8')::jsonb FROM outbox
    WHERE key = :key AND headers->>'ce_type' = 'se.omsorg.intake.citizen.contact-details-changed.v1'
    ORDER BY id""")


def migrated_database(infra: Infrastructure, name: str) -> str:
    """The service's own database at its newest migration, as deploy/omsorg.sh configures it."""
    env = {**os.environ, **infra.env}
    done = subprocess.run(
        [str(ROOT / "deploy/omsorg.sh"), "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pattern = env.get("OMSORG_DATABASE_URL_PATTERN") or "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
    return pattern.replace("{name}", name)


@pytest.fixture(scope="module")
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_database(infrastructure, "intake"), pool_size=2)
    yield engine
    await engine.dispose()


async def test_each_change_of_the_profile_carries_the_next_version(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    user = User(
        sub=f"c-{uuid.uuid4().hex[:8]}",
        name="Annika Test",
        roles=frozenset({"citizen"}),
        pnr=Personnummer(new_personnummer()),
    )
    updates = [
        {"mobile": "0701111111"},
        {"mobile": "0701111111"},  # no change: no event, no version
        {"email": "annika@example.se"},
        {"mobile": None, "email": None},
    ]
    for update in updates:
        async with sessions() as session, session.begin():
            profile = await service.update_profile(session, user, ProfileUpdate.model_validate(update))
    async with sessions() as session:
        events = list(await session.scalars(_EVENTS, {"key": str(profile.citizen_id)}))
    assert [(e["version"], e["changed"]) for e in events] == [
        (1, ["mobile"]),
        (2, ["email"]),
        (3, ["mobile", "email"]),
    ]
