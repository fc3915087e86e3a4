"""Co-caseworkers (medhandläggare) of an intake record at the service layer, against
casework's real PostgreSQL: only a caseworker of the record's unit adds or removes
them, only caseworkers of that unit can be one, never the record's own caseworker
and never twice; the record lists them; each change is announced in the same
transaction with the record's co-caseworker version, incremented under its row lock."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casework.intake_records import repository, service
from casework.intake_records.schemas import MAX_CO_CASEWORKERS, CoCaseworkerAdd
from casework.models import CoCaseworker, IntakeRecord, Person, RecordStatus
from casework.staff import service as staff
from shared.auth import User
from shared.contracts.casework import CoCaseworkerAdded, CoCaseworkerRemoved
from shared.db import make_engine, make_sessionmaker
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

Audit = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
ADDED, REMOVED = CoCaseworkerAdded.ce_type, CoCaseworkerRemoved.ce_type
_ANNOUNCED = text("""
    SELECT headers->>'ce_type', convert_from(payload, 'UTF8') FROM outbox
    WHERE key = :key ORDER BY id""")


async def announced(session: AsyncSession, record_id: uuid.UUID) -> list[tuple[str, str, int]]:
    """(ce_type, co-caseworker, version) of the record's co-caseworker events, in order."""
    rows = await session.execute(_ANNOUNCED, {"key": str(record_id)})
    return [
        (ce_type, data["caseworker_id"], data["version"])
        for ce_type, payload in rows
        if ce_type in (ADDED, REMOVED)
        for data in [json.loads(payload)]
    ]


def colleague_of(user: User, name: str = "Kalle Kollega") -> User:
    return User(
        sub=f"cw-{uuid.uuid4().hex[:8]}", name=name, roles=frozenset({"caseworker"}), units=user.units
    )


@pytest.fixture
def record_of(
    session: AsyncSession, linked_person: Callable[..., Awaitable[Person]]
) -> Callable[[User], Awaitable[IntakeRecord]]:
    """An intake record in `user`'s unit with `user` as its caseworker."""

    async def make(user: User) -> IntakeRecord:
        person = await linked_person(user)
        return (await session.scalars(select(IntakeRecord).where(IntakeRecord.person_id == person.id))).one()

    return make


@pytest.fixture
def known(session: AsyncSession) -> Callable[[User], Awaitable[User]]:
    """A caseworker as the staff directory knows them (they have used casework)."""

    async def remember(user: User) -> User:
        await staff.remember(session, user)
        return user

    return remember


def add(caseworker_id: str) -> CoCaseworkerAdd:
    return CoCaseworkerAdd(caseworker_id=caseworker_id)


async def test_co_caseworkers_are_listed_on_the_record_and_announced_with_its_version(
    session: AsyncSession,
    caseworker: User,
    record_of: Callable[[User], Awaitable[IntakeRecord]],
    known: Callable[[User], Awaitable[User]],
    audit_of: Audit,
) -> None:
    record = await record_of(caseworker)
    first, second = await known(colleague_of(caseworker)), await known(colleague_of(caseworker, "Vera Vän"))

    added = await service.add_co_caseworker(session, caseworker, record.id, add(first.sub))
    await service.add_co_caseworker(session, caseworker, record.id, add(second.sub))

    assert (added.caseworker_id, added.caseworker_name, added.added_by) == (
        first.sub,
        "Kalle Kollega",
        caseworker.sub,
    )
    view = await service.get_record(session, caseworker, record.id)
    assert [(c.caseworker_id, c.caseworker_name) for c in view.co_caseworkers] == [
        (first.sub, "Kalle Kollega"),
        (second.sub, "Vera Vän"),
    ]
    assert await announced(session, record.id) == [(ADDED, first.sub, 1), (ADDED, second.sub, 2)]
    person = await session.get(Person, record.person_id)
    assert person is not None
    written = [row[:6] for row in await audit_of(person.pnr) if row[3] == "co_caseworker"]
    assert (
        written == [(caseworker.sub, "caseworker", "create", "co_caseworker", str(record.id), "allowed")] * 2
    )


async def test_a_removed_co_caseworker_is_announced_with_a_newer_version_and_may_be_added_again(
    session: AsyncSession,
    caseworker: User,
    record_of: Callable[[User], Awaitable[IntakeRecord]],
    known: Callable[[User], Awaitable[User]],
) -> None:
    record = await record_of(caseworker)
    colleague = await known(colleague_of(caseworker))
    await service.add_co_caseworker(session, caseworker, record.id, add(colleague.sub))

    await service.remove_co_caseworker(session, caseworker, record.id, colleague.sub)
    assert (await service.get_record(session, caseworker, record.id)).co_caseworkers == []
    await service.add_co_caseworker(session, caseworker, record.id, add(colleague.sub))

    assert await announced(session, record.id) == [
        (ADDED, colleague.sub, 1),
        (REMOVED, colleague.sub, 2),
        (ADDED, colleague.sub, 3),
    ]


async def test_an_unknown_caseworker_or_one_of_another_unit_is_refused_and_nothing_is_written(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    record_of: Callable[[User], Awaitable[IntakeRecord]],
    known: Callable[[User], Awaitable[User]],
) -> None:
    record = await record_of(caseworker)
    elsewhere = await known(make_caseworker())  # a caseworker, of another unit
    never_seen = colleague_of(caseworker)  # never used casework: not in the staff directory
    for caseworker_id in (elsewhere.sub, never_seen.sub):
        with pytest.raises(InvalidInput, match="not a caseworker of the record's unit"):
            async with session.begin_nested():
                await service.add_co_caseworker(session, caseworker, record.id, add(caseworker_id))
    assert await repository.co_caseworkers_of(session, [record.id]) == []
    assert await announced(session, record.id) == []
    await session.refresh(record)
    assert record.co_caseworker_version == 0


async def test_the_records_own_caseworker_cannot_be_its_co_caseworker(
    session: AsyncSession, caseworker: User, record_of: Callable[[User], Awaitable[IntakeRecord]]
) -> None:
    record = await record_of(caseworker)
    await staff.remember(session, caseworker)
    with pytest.raises(Conflict, match="the record's caseworker"):
        async with session.begin_nested():
            await service.add_co_caseworker(session, caseworker, record.id, add(caseworker.sub))
    assert await announced(session, record.id) == []


async def test_adding_the_same_co_caseworker_twice_is_refused(
    session: AsyncSession,
    caseworker: User,
    record_of: Callable[[User], Awaitable[IntakeRecord]],
    known: Callable[[User], Awaitable[User]],
) -> None:
    record = await record_of(caseworker)
    colleague = await known(colleague_of(caseworker))
    await service.add_co_caseworker(session, caseworker, record.id, add(colleague.sub))
    with pytest.raises(Conflict, match="already"):
        async with session.begin_nested():
            await service.add_co_caseworker(session, caseworker, record.id, add(colleague.sub))
    assert await announced(session, record.id) == [(ADDED, colleague.sub, 1)]


async def test_a_record_has_a_bounded_number_of_co_caseworkers(
    session: AsyncSession,
    caseworker: User,
    record_of: Callable[[User], Awaitable[IntakeRecord]],
    known: Callable[[User], Awaitable[User]],
) -> None:
    record = await record_of(caseworker)
    for _ in range(MAX_CO_CASEWORKERS):
        colleague = await known(colleague_of(caseworker))
        await service.add_co_caseworker(session, caseworker, record.id, add(colleague.sub))
    one_more = await known(colleague_of(caseworker))
    with pytest.raises(Conflict, match=f"at most {MAX_CO_CASEWORKERS}"):
        async with session.begin_nested():
            await service.add_co_caseworker(session, caseworker, record.id, add(one_more.sub))
    view = await service.get_record(session, caseworker, record.id)
    assert len(view.co_caseworkers) == MAX_CO_CASEWORKERS


async def test_removing_someone_who_is_not_a_co_caseworker_answers_not_found(
    session: AsyncSession, caseworker: User, record_of: Callable[[User], Awaitable[IntakeRecord]]
) -> None:
    record = await record_of(caseworker)
    with pytest.raises(NotFound):
        async with session.begin_nested():
            await service.remove_co_caseworker(session, caseworker, record.id, caseworker.sub)
    with pytest.raises(NotFound):
        async with session.begin_nested():
            await service.add_co_caseworker(session, caseworker, uuid.uuid4(), add(caseworker.sub))
    assert await announced(session, record.id) == []


async def test_a_caseworker_of_another_unit_may_neither_add_nor_remove_and_is_audited(
    session: AsyncSession,
    caseworker: User,
    make_caseworker: Callable[[], User],
    record_of: Callable[[User], Awaitable[IntakeRecord]],
    known: Callable[[User], Awaitable[User]],
    audit_of: Audit,
) -> None:
    record = await record_of(caseworker)
    colleague = await known(colleague_of(caseworker))
    await service.add_co_caseworker(session, caseworker, record.id, add(colleague.sub))
    outsider = await known(make_caseworker())

    with pytest.raises(NotAllowed):
        async with session.begin_nested():
            await service.add_co_caseworker(session, outsider, record.id, add(outsider.sub))
    with pytest.raises(NotAllowed):
        async with session.begin_nested():
            await service.remove_co_caseworker(session, outsider, record.id, colleague.sub)

    assert [c.caseworker_id for c in await repository.co_caseworkers_of(session, [record.id])] == [
        colleague.sub
    ]
    assert await announced(session, record.id) == [(ADDED, colleague.sub, 1)]
    person = await session.get(Person, record.person_id)
    assert person is not None
    refused = [row[:5] for row in await audit_of(person.pnr) if row[5] == "refused"]
    assert refused == [
        (outsider.sub, "caseworker", "create", "co_caseworker", str(record.id)),
        (outsider.sub, "caseworker", "delete", "co_caseworker", str(record.id)),
    ]


# Two caseworkers change one record's co-caseworkers at once, with committed
# transactions: the second waits for the record's row lock and then acts on what
# the first committed, so versions never repeat and nobody is added twice.


@pytest.fixture(scope="module")
async def racing_engine(casework_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(casework_database_url, pool_size=4)
    yield engine
    await engine.dispose()


_WAITING = text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")


async def _waiting_for_a_lock(engine: AsyncEngine, pid: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with engine.connect() as conn:
        while asyncio.get_running_loop().time() < deadline:
            waiting = await conn.scalar(_WAITING, {"pid": pid})
            await conn.rollback()  # a fresh snapshot each poll
            if waiting:
                return
            await asyncio.sleep(0.02)
    pytest.fail("the second change never waited for the record's lock")


async def _committed_record(sessions: async_sessionmaker[AsyncSession]) -> tuple[User, IntakeRecord]:
    from conftest import new_personnummer

    unit = f"race-{uuid.uuid4().hex[:8]}"
    user = User(
        sub=f"cw-{uuid.uuid4().hex[:8]}", name="Marita Test", roles=frozenset({"caseworker"}), units=(unit,)
    )
    async with sessions() as session, session.begin():
        person = Person(id=uuid.uuid4(), pnr=new_personnummer(), name="Annika Test")
        session.add(person)
        await session.flush()
        record = IntakeRecord(
            person_id=person.id,
            record_type="Förenklad handläggning",
            lss_services=[],
            caseworker_id=user.sub,
            caseworker_name=user.name,
            unit=unit,
            from_whom="Den enskilde",
            channel="E-ansökan",
            note="",
            status=RecordStatus.IN_PROGRESS,
            created_by=user.sub,
            created_at=datetime.now(UTC),
        )
        session.add(record)
        await staff.remember(session, user)
    return user, record


async def _race(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    user: User,
    record_id: uuid.UUID,
    first: str,
    second: str,
) -> asyncio.Task[None]:
    """Add `second` while `first` is added in a transaction that holds the record's
    lock; commit the first, and hand back the second, which waited."""
    pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def add_second() -> None:
        async with sessions() as session, session.begin():
            pid.set_result(await session.scalar(text("SELECT pg_backend_pid()")))
            await service.add_co_caseworker(session, user, record_id, add(second))

    async with sessions() as holder, holder.begin():
        assert await repository.get_locked(holder, record_id) is not None
        adding = asyncio.create_task(add_second())
        await _waiting_for_a_lock(engine, await asyncio.wait_for(pid, 10))
        assert not adding.done()
        await service.add_co_caseworker(holder, user, record_id, add(first))
    return adding


async def test_concurrent_additions_get_consecutive_versions(racing_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(racing_engine)
    user, record = await _committed_record(sessions)
    one, two = colleague_of(user), colleague_of(user, "Vera Vän")
    async with sessions() as session, session.begin():
        await staff.remember(session, one)
        await staff.remember(session, two)

    await asyncio.wait_for(await _race(racing_engine, sessions, user, record.id, one.sub, two.sub), 10)

    async with sessions() as session:
        assert await announced(session, record.id) == [(ADDED, one.sub, 1), (ADDED, two.sub, 2)]


async def test_the_same_co_caseworker_added_twice_at_once_is_added_once(racing_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(racing_engine)
    user, record = await _committed_record(sessions)
    one = colleague_of(user)
    async with sessions() as session, session.begin():
        await staff.remember(session, one)

    second = await _race(racing_engine, sessions, user, record.id, one.sub, one.sub)
    with pytest.raises(Conflict, match="already"):
        await asyncio.wait_for(second, 10)

    async with sessions() as session:
        assert await announced(session, record.id) == [(ADDED, one.sub, 1)]
        rows = await session.scalars(select(CoCaseworker).where(CoCaseworker.record_id == record.id))
        assert [r.caseworker_id for r in rows] == [one.sub]
