"""Fixtures of provider's DB-backed tests: provider's own PostgreSQL database at
its newest migration, each test inside a transaction rolled back afterwards, so a
rule of the service layer is tested without Kafka or HTTP. A missing PostgreSQL
fails the tests, it never skips them.

    World = Any  # this conftest cannot be imported by the tests: the root one is `conftest`

    async def test_...(session: AsyncSession, world: World) -> None:
        acme = await world.provider()               # fresh unit codes, a manager
        staff = await world.staff(acme)             # an active user of all its units
        stranger = world.user(acme.id, acme.units)  # a token of the provider, unknown to it

Users are `shared.auth.User`s as a token makes them; `world` registers providers,
units and provider users through the service layer, as the admin and the manager
would. Run a call that should fail inside `session.begin_nested()`: what it
wrote is rolled back, as its request's transaction would be.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.auth import User
from shared.db import make_engine
from shared.events import Envelope, Event
from shared.personnummer import luhn_checksum_digit

if TYPE_CHECKING:
    # The root conftest is loaded after this one: import from it only inside fixtures.
    from conftest import Infrastructure

CASEWORK_SOURCE = "/omsorg/casework"


@pytest.fixture(scope="session")
def provider_database_url(infrastructure: Infrastructure) -> str:
    """Provider's database, migrated to head as deploy/omsorg.sh does, reached as the
    runtime role the service itself uses."""
    from conftest import service_database_url

    return service_database_url(infrastructure, "provider")


@pytest.fixture(scope="session")
async def provider_engine(provider_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(provider_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(provider_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test: nothing stays. Like a
    request's session it collects refusals (see `refusals`)."""
    from conftest import rolled_back_session

    async with rolled_back_session(provider_engine) as session:
        yield session


def new_personnummer() -> str:
    """A fresh valid personnummer (the root conftest's)."""
    from conftest import new_personnummer as fresh  # the root conftest, loaded by now

    return fresh()


def unique(prefix: str) -> str:
    """A fresh name or code, so rows of other tests (and of the running system) never match."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_organisation_number() -> str:
    """A fresh ten-digit organisation number (organisationsnummer) with its check digit."""
    nine = f"55{uuid.uuid4().int % 10**7:07d}"
    return f"{nine}{luhn_checksum_digit(nine)}"


def admin_user() -> User:
    """The municipality's administrator (role admin)."""
    return User(sub=unique("admin"), name="Åsa Admin", roles=frozenset({"admin"}), units=("testenhet",))


def provider_user(
    provider_id: uuid.UUID | str,
    units: tuple[str, ...],
    sub: str | None = None,
    manager: bool = False,
    name: str = "Ulla Utförare",
) -> User:
    """A token's user of a provider: role provider, or provider_manager if `manager`."""
    return User(
        sub=sub or unique("pu"),
        name=name,
        roles=frozenset({"provider_manager" if manager else "provider"}),
        units=units,
        provider_id=str(provider_id),
    )


@dataclass
class ProviderFixture:
    """A registered provider: its id, unit codes and manager (a token's user)."""

    id: uuid.UUID
    name: str
    units: tuple[str, ...]
    manager: User
    staff: list[User] = field(default_factory=list)


@dataclass
class World:
    """Providers, units and users set up through provider's own service layer."""

    session: AsyncSession
    admin: User = field(default_factory=admin_user)

    # Test modules cannot import this conftest (the root one is `conftest` to
    # them): they reach its helpers through the fixture.
    unique = staticmethod(unique)
    organisation_number = staticmethod(new_organisation_number)
    user = staticmethod(provider_user)
    new_admin = staticmethod(admin_user)
    personnummer = staticmethod(new_personnummer)

    async def provider(
        self, units: tuple[str, ...] | None = None, kind: str = "lov", name: str | None = None
    ) -> ProviderFixture:
        """A provider registered by the admin, with fresh units and its first manager."""
        from provider.providers import service as providers
        from provider.providers.schemas import ProviderForm, UnitForm

        manager_sub = unique("mgr")
        created = await providers.register_provider(
            self.session,
            self.admin,
            ProviderForm.model_validate(
                {
                    "name": name or unique("Omsorg AB"),
                    "organisation_number": new_organisation_number(),
                    "kind": kind,
                    "manager": {"sub": manager_sub, "name": "Maja Chef"},
                }
            ),
        )
        codes = units if units is not None else (unique("enhet"),)
        for code in codes:
            await providers.add_unit(
                self.session, self.admin, created.id, UnitForm(code=code, name=f"Enhet {code}")
            )
        manager = provider_user(created.id, codes, sub=manager_sub, manager=True, name="Maja Chef")
        return ProviderFixture(created.id, created.name, codes, manager)

    async def staff(
        self, provider: ProviderFixture, units: tuple[str, ...] | None = None, name: str = "Ulla Utförare"
    ) -> User:
        """A provider user the manager added (active), as their token makes them."""
        from provider.users import service as users
        from provider.users.schemas import UserForm

        sub = unique("pu")
        await users.add_user(self.session, provider.manager, provider.id, UserForm(sub=sub, name=name))
        user = provider_user(provider.id, units or provider.units, sub=sub, name=name)
        provider.staff.append(user)
        return user


@pytest.fixture
def world(session: AsyncSession) -> World:
    return World(session)


EnvelopeFactory = Callable[..., Envelope]
Refusals = Callable[[str], Awaitable[list[dict[str, Any]]]]
Outbox = Callable[[str, str], Awaitable[list[dict[str, Any]]]]
AuditLog = Callable[[str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def make_envelope() -> EnvelopeFactory:
    """The CloudEvents attributes the consumer hands a handler with an event: a fresh ce_id."""

    def make(event: Event, source: str = CASEWORK_SOURCE) -> Envelope:
        return Envelope(uuid.uuid4(), event.ce_type, source, datetime.now(UTC), event.subject())

    return make


@pytest.fixture
def refusals(session: AsyncSession) -> Refusals:
    """The refused audit entries of one actor (a user's sub), the ones collected so far included."""

    async def entries(actor: str) -> list[dict[str, Any]]:
        from conftest import refused_entries

        return await refused_entries(session, actor)

    return entries


@pytest.fixture
def audit_log(session: AsyncSession) -> AuditLog:
    """The audit entries about one person, oldest first, the refusals collected so far included."""
    from conftest import audit_entries

    async def entries(subject_pnr: str) -> list[dict[str, Any]]:
        return await audit_entries(session, subject_pnr)

    return entries


@pytest.fixture
def outbox(session: AsyncSession) -> Outbox:
    """The events of a type with a Kafka key queued in this test, oldest first, as JSON."""
    from conftest import outbox_events

    async def events(ce_type: str, key: str) -> list[dict[str, Any]]:
        return await outbox_events(session, ce_type, key)

    return events
