"""Intake's projection of casework's approvals, against intake's real PostgreSQL,
with the events arriving in orders a redelivery, a dead-letter replay or clock
skew between hosts produce: ordered by the approval's version, never by
timestamps, and a revocation is final whatever arrives after it."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from conftest import ROOT, Infrastructure, new_personnummer
from intake.models import Representation
from intake.representations import service
from shared.contracts.casework import (
    RelatedPersonApprovalChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.db import make_engine, make_sessionmaker
from shared.events import Envelope, Event

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
START = date(2026, 3, 1)


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


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


class Approval:
    """One approval's events as casework would publish them, each built on demand."""

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {
            "approval_id": uuid.uuid4(),
            "person_id": uuid.uuid4(),
            "citizen_pnr": new_personnummer(),
            "citizen_name": "Annika Test",
            "related_pnr": new_personnummer(),
            "related_name": "Josefine Test",
            "valid_from": START,
            "valid_to": START + timedelta(days=365),
        }

    def approved(self, version: int = 1, at: datetime = T0) -> RelatedPersonApproved:
        return RelatedPersonApproved(**self.facts, version=version, approved_at=at)

    def changed(self, version: int, valid_to: date, at: datetime) -> RelatedPersonApprovalChanged:
        return RelatedPersonApprovalChanged(
            **{**self.facts, "valid_to": valid_to}, version=version, changed_at=at
        )

    def revoked(self, version: int, at: datetime) -> RelatedPersonApprovalRevoked:
        return RelatedPersonApprovalRevoked(**self.facts, version=version, revoked_at=at)


async def deliver(sessions: async_sessionmaker[AsyncSession], event: Event) -> None:
    """Hand `event` to intake's handler as its consumer does: one transaction, a fresh ce_id."""
    envelope = Envelope(uuid.uuid4(), event.ce_type, "/omsorg/casework", datetime.now(UTC))
    async with sessions() as session, session.begin():
        if isinstance(event, RelatedPersonApprovalRevoked):
            await service.on_revoked(session, event, envelope)
        else:
            assert isinstance(event, RelatedPersonApproved | RelatedPersonApprovalChanged)
            await service.on_approved(session, event, envelope)


async def projected(sessions: async_sessionmaker[AsyncSession], approval: Approval) -> Representation:
    async with sessions() as session:
        row = await session.get(Representation, approval.facts["approval_id"])
        assert row is not None
        return row


async def test_a_revocation_stays_whatever_arrives_after_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    approval = Approval()
    await deliver(sessions, approval.approved())
    await deliver(sessions, approval.revoked(version=3, at=T0 + timedelta(minutes=2)))
    # An edit the revocation raced (or a host whose clock runs ahead), even with a newer version.
    await deliver(
        sessions,
        approval.changed(version=4, valid_to=START + timedelta(days=30), at=T0 + timedelta(minutes=5)),
    )
    await deliver(sessions, approval.approved(version=5, at=T0 + timedelta(minutes=6)))
    row = await projected(sessions, approval)
    assert row.revoked_at == T0 + timedelta(minutes=2)
    assert row.valid_to == START + timedelta(days=365) and row.version == 3
    assert not row.active_on(START + timedelta(days=1))


async def test_a_revocation_that_overtook_its_approval_is_not_undone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    approval = Approval()
    await deliver(sessions, approval.revoked(version=2, at=T0 + timedelta(minutes=1)))
    await deliver(sessions, approval.approved(version=1))
    assert (await projected(sessions, approval)).revoked_at is not None


async def test_changes_apply_in_version_order_not_by_the_clocks_of_the_hosts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    approval = Approval()
    shorter, longer = START + timedelta(days=30), START + timedelta(days=90)
    await deliver(sessions, approval.approved())
    # Version 2 stamped by a host whose clock runs five minutes ahead of version 3's.
    await deliver(sessions, approval.changed(version=2, valid_to=shorter, at=T0 + timedelta(minutes=10)))
    await deliver(sessions, approval.changed(version=3, valid_to=longer, at=T0 + timedelta(minutes=5)))
    assert (await projected(sessions, approval)).valid_to == longer
    # A replay of the older change, from the dead letters, changes nothing.
    await deliver(sessions, approval.changed(version=2, valid_to=shorter, at=T0 + timedelta(minutes=10)))
    await deliver(sessions, approval.approved(version=1))
    row = await projected(sessions, approval)
    assert (row.valid_to, row.version, row.revoked_at) == (longer, 3, None)


async def test_an_event_without_a_version_never_overrides_a_versioned_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    approval = Approval()
    await deliver(sessions, approval.approved(version=1))
    legacy = approval.changed(version=0, valid_to=START + timedelta(days=5), at=T0 + timedelta(days=1))
    await deliver(sessions, legacy)
    assert (await projected(sessions, approval)).valid_to == START + timedelta(days=365)
    # Before versions existed, the old order by timestamp still holds between unversioned events.
    old = Approval()
    await deliver(sessions, old.approved(version=0))
    await deliver(
        sessions, old.changed(version=0, valid_to=START + timedelta(days=5), at=T0 + timedelta(days=1))
    )
    await deliver(sessions, old.changed(version=0, valid_to=START + timedelta(days=9), at=T0))
    assert (await projected(sessions, old)).valid_to == START + timedelta(days=5)
    await deliver(sessions, old.changed(version=1, valid_to=START + timedelta(days=7), at=T0))
    assert (await projected(sessions, old)).valid_to == START + timedelta(days=7)
