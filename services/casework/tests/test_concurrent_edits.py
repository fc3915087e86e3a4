"""Concurrent changes to one person, against casework's real PostgreSQL with a
deterministic interleaving: one transaction holds a lock, the other is seen
waiting for it (pg_locks), the first commits, and the second must then act on
what the first committed. Real concurrent transactions that commit: an engine
of its own, not the rolled-back session.

First: a revocation racing an edit of the same approval; the edit must see it,
refuse (409) and emit nothing, so no RelatedPersonApprovalChanged revives it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casework.models import Approval, IntakeRecord, Person, RecordStatus, Relation
from casework.persons import repository as persons
from casework.persons import service as persons_service
from casework.relations import repository as approvals
from casework.relations import service
from casework.relations.schemas import ApprovalCreate, ApprovalUpdate, RelationCreate, RelationUpdate
from conftest import new_personnummer
from shared.auth import User
from shared.contracts.intake import ContactDetailsChanged
from shared.db import make_engine, make_sessionmaker
from shared.events import Envelope
from shared.personnummer import Personnummer
from shared.problems import Conflict, InvalidInput

APPROVED = "se.omsorg.casework.person.related-person-approved.v1"
CHANGED = "se.omsorg.casework.person.related-person-approval-changed.v1"
REVOKED = "se.omsorg.casework.person.related-person-approval-revoked.v1"
_WAITING = text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")
_EVENT_TYPES = text("SELECT headers->>'ce_type' FROM outbox WHERE key = :key ORDER BY id")


@pytest.fixture(scope="module")
async def engine(casework_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(casework_database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


async def citizen_with_approval(sessions: async_sessionmaker[AsyncSession]) -> tuple[User, Person, uuid.UUID]:
    """A person with an investigation in a unit of their own and an approved related person."""
    unit = f"race-{uuid.uuid4().hex[:8]}"
    user = User(
        sub=f"cw-{uuid.uuid4().hex[:8]}", name="Marita Test", roles=frozenset({"caseworker"}), units=(unit,)
    )
    async with sessions() as session, session.begin():
        person = Person(id=uuid.uuid4(), pnr=new_personnummer(), name="Annika Test")
        session.add(person)
        await session.flush()
        session.add(
            IntakeRecord(
                person_id=person.id,
                record_type="Förenklad handläggning",
                lss_services=[],
                caseworker_id=user.sub,
                caseworker_name=user.name,
                unit=unit,
                from_whom="Den enskilde",
                channel="E-ansökan",
                note="",
                # Approvals need an investigation started (CW-7).
                status=RecordStatus.INVESTIGATION,
                investigation_type="Ansökan SoL",
                investigation_started_at=datetime.now(UTC),
                created_by=user.sub,
                created_at=datetime.now(UTC),
            )
        )
        await session.flush()
        approval = await service.approve(
            session,
            user,
            person.id,
            ApprovalCreate(
                related_personnummer=Personnummer(new_personnummer()),
                related_name="Josefine Test",
                valid_from=date.today(),
                consent_registered=True,
            ),
        )
    return user, person, approval.id


async def waiting_for_a_lock(engine: AsyncEngine, pid: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with engine.connect() as conn:
        while asyncio.get_running_loop().time() < deadline:
            waiting = await conn.scalar(_WAITING, {"pid": pid})
            await conn.rollback()  # a fresh snapshot each poll
            if waiting:
                return
            await asyncio.sleep(0.02)
    pytest.fail("the edit never waited for the revoker's lock")


async def events_of(sessions: async_sessionmaker[AsyncSession], person_id: uuid.UUID) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(_EVENT_TYPES, {"key": str(person_id)})
        return list(rows)


async def test_an_edit_that_waited_for_a_revocation_is_refused_and_emits_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, person, approval_id = await citizen_with_approval(sessions)
    edit_pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def edit() -> None:
        async with sessions() as session, session.begin():
            edit_pid.set_result(await session.scalar(text("SELECT pg_backend_pid()")))
            await service.update_approval(
                session, user, approval_id, ApprovalUpdate(valid_to=date.today() + timedelta(days=30))
            )

    async with sessions() as revoker, revoker.begin():
        # Hold the approval's locks (the person's row, then the approval's) ...
        assert await persons.get_locked(revoker, person.id) is not None
        assert await approvals.approval_locked(revoker, approval_id) is not None
        editing = asyncio.create_task(edit())
        # ... while the edit starts and has to wait for them ...
        await waiting_for_a_lock(engine, await asyncio.wait_for(edit_pid, 10))
        assert not editing.done()
        # ... then revoke and commit.
        await service.revoke_approval(revoker, user, approval_id)

    with pytest.raises(Conflict, match="revoked"):
        await asyncio.wait_for(editing, 10)
    async with sessions() as session:
        approval = await session.get(Approval, approval_id)
        assert approval is not None and approval.revoked_at is not None
        assert approval.valid_to == approval.valid_from.replace(year=approval.valid_from.year + 1)
        assert approval.version == 2  # approved, revoked: the edit never counted
    assert await events_of(sessions, person.id) == [APPROVED, REVOKED]


async def test_a_revoked_approval_cannot_be_edited(sessions: async_sessionmaker[AsyncSession]) -> None:
    user, person, approval_id = await citizen_with_approval(sessions)
    async with sessions() as session, session.begin():
        await service.revoke_approval(session, user, approval_id)
    with pytest.raises(Conflict):
        async with sessions() as session, session.begin():
            await service.update_approval(session, user, approval_id, ApprovalUpdate(related_name="Ny Test"))
    assert await events_of(sessions, person.id) == [APPROVED, REVOKED]


async def test_approval_events_carry_the_approval_version(sessions: async_sessionmaker[AsyncSession]) -> None:
    user, person, approval_id = await citizen_with_approval(sessions)
    for days in (10, 20):
        async with sessions() as session, session.begin():
            await service.update_approval(
                session, user, approval_id, ApprovalUpdate(valid_to=date.today() + timedelta(days=days))
            )
    async with sessions() as session, session.begin():
        await service.revoke_approval(session, user, approval_id)
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT headers->>'ce_type', convert_from(payload, 'UTF8')::jsonb->>'version' FROM outbox "
                "WHERE key = :key ORDER BY id"
            ),
            {"key": str(person.id)},
        )
        assert [(t, int(v)) for t, v in rows] == [(APPROVED, 1), (CHANGED, 2), (CHANGED, 3), (REVOKED, 4)]


# Two caseworkers editing one relation at once: the second edit read the relation
# before the first committed, then waited for the person's lock. It must judge the
# relation as the first edit left it: SMS alerts for a relation whose mobile number
# was just removed are refused, so no alert setting carries a deleted number.
async def test_an_edit_that_waited_sees_the_mobile_number_the_other_edit_removed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, person, _ = await citizen_with_approval(sessions)
    async with sessions() as session, session.begin():
        relation = await service.add_relation(
            session,
            user,
            person.id,
            RelationCreate(
                relation_type="God man",
                related_personnummer=Personnummer(new_personnummer()),
                related_name="Gode Mannen",
                valid_from=date.today(),
                phone="0701234567",
            ),
        )
    edit_pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def turn_sms_on() -> None:
        async with sessions() as session, session.begin():
            edit_pid.set_result(await session.scalar(text("SELECT pg_backend_pid()")))
            await service.update_relation(session, user, relation.id, RelationUpdate(sms_alerts=True))

    async with sessions() as first, first.begin():
        assert await persons.get_locked(first, person.id) is not None  # the first edit holds the person
        second = asyncio.create_task(turn_sms_on())  # reads the relation, then waits for the person
        await waiting_for_a_lock(engine, await asyncio.wait_for(edit_pid, 10))
        await service.update_relation(first, user, relation.id, RelationUpdate(phone=None))

    with pytest.raises(InvalidInput, match="mobile number"):
        await asyncio.wait_for(second, 10)
    async with sessions() as session:
        stored = await session.get(Relation, relation.id)
        assert stored is not None and (stored.phone, stored.sms_alerts) == (None, False)


# A citizen's contact change applied while a caseworker links the citizen's first
# application: the change cannot yet see the person the link is creating, so the
# link must wait for it and start the person with the new number, not the old.
async def test_a_new_person_starts_with_the_contact_change_applied_meanwhile(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    pnr = new_personnummer()
    citizen_id = uuid.uuid4()

    def changed(version: int, mobile: str) -> ContactDetailsChanged:
        return ContactDetailsChanged(
            citizen_id=citizen_id,
            pnr=Personnummer(pnr),
            changed=["mobile"],
            mobile=mobile,
            email=None,
            changed_at=datetime.now(UTC),
            version=version,
        )

    def envelope() -> Envelope:
        return Envelope(uuid.uuid4(), ContactDetailsChanged.ce_type, "/omsorg/intake", datetime.now(UTC))

    async with sessions() as session, session.begin():
        await persons_service.on_contact_details_changed(session, changed(1, "+46701111111"), envelope())
    link_pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def link_creates_the_person() -> Person:
        async with sessions() as session, session.begin():
            link_pid.set_result(await session.scalar(text("SELECT pg_backend_pid()")))
            person, created = await persons_service.find_or_create(session, pnr, "Annika Test")
            assert created
            return person

    async with sessions() as consumer, consumer.begin():
        await persons_service.on_contact_details_changed(consumer, changed(2, "+46702222222"), envelope())
        linking = asyncio.create_task(link_creates_the_person())
        await waiting_for_a_lock(engine, await asyncio.wait_for(link_pid, 10))

    created = await asyncio.wait_for(linking, 10)
    assert created.phone1 == "+46702222222"
