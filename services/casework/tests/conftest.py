"""Fixtures of casework's DB-backed tests: its own PostgreSQL database at the newest
migration, and a session whose work is rolled back after each test, so a rule of
the service layer is tested in milliseconds, without Kafka or HTTP.

A test that needs committed transactions (a race between two of them) takes
`casework_database_url` and makes its own engine. Missing PostgreSQL fails the
test (the root conftest's `infrastructure`), it never skips it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from casework.models import IntakeRecord, Person, RecordStatus
from shared import audit
from shared.auth import User
from shared.db import make_engine
from shared.events import Envelope, Event

if TYPE_CHECKING:
    # The root conftest is loaded after this one: import from it only inside fixtures.
    from conftest import Infrastructure


def _new_personnummer() -> str:
    from conftest import new_personnummer  # the root conftest, loaded by now

    return str(new_personnummer())


DEFAULT_URL_PATTERN = "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
_AUDIT = text("""
    SELECT actor, actor_role, action, object_type, object_id, outcome FROM audit_log
    WHERE subject_pnr = :pnr ORDER BY id""")
_EVENTS = text("SELECT headers->>'ce_type' FROM outbox WHERE key = :key ORDER BY id")


@pytest.fixture(scope="session")
def casework_database_url(infrastructure: Infrastructure) -> str:
    """Casework's own database, migrated to head as deploy/omsorg.sh configures it."""
    from conftest import service_database_url

    return service_database_url(infrastructure, "casework")


@pytest.fixture(scope="session")
async def engine(casework_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(casework_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session in a transaction rolled back after the test (the root conftest's
    `rolled_back_session`): nothing it writes stays, and it collects refusals as a
    request's session does (see `audit_of`). Run a call that should fail in
    `session.begin_nested()`: what it wrote is rolled back, as its request's
    transaction would be, and the test goes on."""
    from conftest import rolled_back_session

    async with rolled_back_session(engine) as session:
        yield session


def _caseworker_in(*units: str) -> User:
    return User(
        sub=f"cw-{uuid.uuid4().hex[:8]}", name="Marita Test", roles=frozenset({"caseworker"}), units=units
    )


@pytest.fixture
def make_caseworker() -> Callable[[], User]:
    """Make a caseworker of a unit of their own, so rows of other tests never match."""
    return lambda: _caseworker_in(f"unit-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def caseworker(make_caseworker: Callable[[], User]) -> User:
    return make_caseworker()


@pytest.fixture
def linked_person(session: AsyncSession) -> Callable[..., Awaitable[Person]]:
    """Make a person with an intake record in `user`'s first unit (so the user may reach them)."""

    async def make(user: User, **person: Any) -> Person:
        created = Person(id=uuid.uuid4(), pnr=_new_personnummer(), name="Annika Test", **person)
        session.add(created)
        await session.flush()
        session.add(
            IntakeRecord(
                person_id=created.id,
                record_type="Förenklad handläggning",
                lss_services=[],
                caseworker_id=user.sub,
                caseworker_name=user.name,
                unit=user.units[0],
                from_whom="Den enskilde",
                channel="E-ansökan",
                note="",
                status=RecordStatus.IN_PROGRESS,
                created_by=user.sub,
                created_at=datetime.now(UTC),
            )
        )
        await session.flush()
        return created

    return make


@pytest.fixture
def new_pnr() -> Callable[[], str]:
    """Make a fresh valid personnummer, so runs against a long-lived database never collide."""
    return _new_personnummer


@pytest.fixture
def envelope() -> Callable[[Event], Envelope]:
    """The CloudEvents attributes a consumer hands the handler with an event from intake."""
    return lambda event: Envelope(uuid.uuid4(), event.ce_type, "/omsorg/intake", datetime.now(UTC))


@pytest.fixture
def audit_of(session: AsyncSession) -> Callable[[str], Awaitable[list[tuple[Any, ...]]]]:
    """(actor, actor_role, action, object_type, object_id, outcome) of a person's audit
    rows, in order, with the refusals collected so far (written as a request does)."""

    async def rows(pnr: str) -> list[tuple[Any, ...]]:
        await audit.write_refusals(session)
        audit.collect_refusals(session)  # written now: collect anew
        return [tuple(row) for row in await session.execute(_AUDIT, {"pnr": pnr})]

    return rows


@pytest.fixture
def events_of(session: AsyncSession) -> Callable[[uuid.UUID], Awaitable[list[str]]]:
    """The ce_types of the outbox rows with this key (an aggregate id), in order."""

    async def types(key: uuid.UUID) -> list[str]:
        return list(await session.scalars(_EVENTS, {"key": str(key)}))

    return types


# ---- orders and fees (issue 10): a granted service and a provider unit to order from ----

PROVIDER_SOURCE = "/omsorg/provider"


@pytest.fixture
def provider_envelope() -> Callable[[Event], Envelope]:
    """The CloudEvents attributes a consumer hands the handler with an event from provider."""
    return lambda event: Envelope(uuid.uuid4(), event.ce_type, PROVIDER_SOURCE, datetime.now(UTC))


@pytest.fixture
def provider_unit(
    session: AsyncSession, provider_envelope: Callable[[Event], Envelope]
) -> Callable[..., Awaitable[tuple[uuid.UUID, str]]]:
    """Make a provider and one of its units known to casework, as provider's events
    announce them: (provider id, unit code)."""
    from casework.providers import service as providers
    from shared.contracts.provider import ProviderRegistered, ProviderUnitAdded

    async def make(name: str = "Omsorgsbolaget AB", kind: str = "lov") -> tuple[uuid.UUID, str]:
        provider_id, code = uuid.uuid4(), f"unit-{uuid.uuid4().hex[:8]}"
        now = datetime.now(UTC)
        registered = ProviderRegistered.model_validate(
            {
                "provider_id": provider_id,
                "name": name,
                "organisation_number": "5566778899",
                "kind": kind,
                "registered_at": now,
            }
        )
        await providers.on_provider_registered(session, registered, provider_envelope(registered))
        added = ProviderUnitAdded(provider_id=provider_id, unit=code, name=f"{name} Norr", added_at=now)
        await providers.on_unit_added(session, added, provider_envelope(added))
        return provider_id, code

    return make


@pytest.fixture
def granted_decision(session: AsyncSession, new_pnr: Callable[[], str]) -> Callable[..., Awaitable[Any]]:
    """Make a person with an intake record (its note given) in `user`'s first unit,
    under investigation, a case for särskilt boende and a signed decision on it
    (`outcome`, a grant for a year by default); `person` sets the person's columns.
    Returns the signed decision (decisions.schemas.DecisionOut)."""
    from datetime import timedelta

    from casework.cases import service as cases
    from casework.cases.schemas import CaseCreate, InvestigationStart
    from casework.config import TIME_ZONE
    from casework.decisions import service as decisions
    from casework.decisions.letter import Letterhead
    from casework.decisions.schemas import DecisionCreate

    async def make(
        user: User, *, outcome: str = "Beviljad", note: str = "Behöver stöd dygnet runt.", **person: Any
    ) -> Any:
        created = Person(id=uuid.uuid4(), pnr=new_pnr(), name="Annika Test", **person)
        session.add(created)
        await session.flush()
        record = IntakeRecord(
            id=uuid.uuid4(),
            person_id=created.id,
            record_type="Ansökan SoL",
            lss_services=[],
            caseworker_id=user.sub,
            caseworker_name=user.name,
            unit=user.units[0],
            from_whom="Den enskilde",
            channel="Telefon",
            note=note,
            status=RecordStatus.NEW,
            created_by=user.sub,
            created_at=datetime.now(UTC),
        )
        session.add(record)
        await session.flush()
        await cases.start_investigation(session, user, record.id, InvestigationStart())
        case = await cases.create_case(
            session,
            user,
            record.id,
            CaseCreate.model_validate(
                {
                    "service_code": "sarskilt_boende",
                    "service_name": "Särskilt boende",
                    "legal_basis": "SoL 4 kap. 1 §",
                }
            ),
        )
        today = datetime.now(TIME_ZONE).date()
        grant = {
            "period_from": today.isoformat(),
            "period_to": (today + timedelta(days=364)).isoformat(),
            "extent": "Boende med omsorg dygnet runt",
        }
        draft = await decisions.create_decision(
            session,
            user,
            case.id,
            DecisionCreate.model_validate(
                {"outcome": outcome, "text": "Ditt behov kan inte tillgodoses i hemmet."}
                | (grant if outcome != "Avslag" else {})
            ),
        )
        letterhead = Letterhead("Testby kommun", ("Socialtjänsten", "Box 7", "999 99 Testby"))
        return await decisions.sign_decision(session, user, draft.id, letterhead)

    return make
