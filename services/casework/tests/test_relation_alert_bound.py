"""EServiceSettingsChanged carries at most MAX_RELATED_ALERTS related persons, so
casework refuses (409) to alert more than that for one person, and writes nothing.
Against casework's real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from casework.models import IntakeRecord, Person
from casework.relations import repository, service
from casework.relations.schemas import RelationCreate, RelationUpdate
from conftest import ROOT, Infrastructure, new_personnummer
from shared.auth import User
from shared.contracts.casework import MAX_RELATED_ALERTS
from shared.db import make_engine, make_sessionmaker
from shared.problems import Conflict


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
    engine = make_engine(migrated_database(infrastructure, "casework"), pool_size=2)
    yield engine
    await engine.dispose()


def relation(sms_alerts: bool) -> RelationCreate:
    return RelationCreate(
        relation_type="Anhörig",
        related_personnummer=new_personnummer(),  # type: ignore[arg-type]
        related_name="Isabella Test",
        valid_from=date.today(),
        phone="0701234567",
        sms_alerts=sms_alerts,
    )


async def test_no_more_related_persons_are_alerted_than_the_event_carries(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    unit = f"bound-{uuid.uuid4().hex[:8]}"
    user = User(
        sub=f"cw-{uuid.uuid4().hex[:8]}", name="Marita Test", roles=frozenset({"caseworker"}), units=(unit,)
    )
    person_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(Person(id=person_id, pnr=new_personnummer(), name="Annika Test"))
        await session.flush()
        session.add(
            IntakeRecord(
                person_id=person_id,
                record_type="Förenklad handläggning",
                lss_services=[],
                caseworker_id=user.sub,
                caseworker_name=user.name,
                unit=unit,
                from_whom="Den enskilde",
                channel="E-ansökan",
                note="",
                status="Pågående",
                created_by=user.sub,
                created_at=datetime.now(UTC),
            )
        )
        for _ in range(MAX_RELATED_ALERTS):
            await service.add_relation(session, user, person_id, relation(sms_alerts=True))
        quiet = await service.add_relation(session, user, person_id, relation(sms_alerts=False))
    with pytest.raises(Conflict, match=f"At most {MAX_RELATED_ALERTS}"):
        async with sessions() as session, session.begin():
            await service.add_relation(session, user, person_id, relation(sms_alerts=True))
    with pytest.raises(Conflict):
        async with sessions() as session, session.begin():
            await service.update_relation(session, user, quiet.id, RelationUpdate(sms_alerts=True))
    async with sessions() as session:
        assert await repository.count_with_alerts(session, person_id) == MAX_RELATED_ALERTS
        assert len(await repository.relations_of(session, person_id)) == MAX_RELATED_ALERTS + 1
