"""A provider's own users (PR-9) and the check every provider request makes.

- The staff IdP vouches for who a provider user is (token: sub, roles provider /
  provider_manager, provider_id, units); provider's own `provider_users` row says
  whether the provider still lets them in. Every provider request calls
  `active_provider_user` (or `acting_in_unit` / `check_unit_access`): an unknown
  or deactivated user, or a token of another provider, is refused (403) and the
  refusal audited, however valid the token.
- The municipality's admin registers the provider's first manager; a manager
  (token role provider_manager AND marked manager here, active) administers the
  provider's users: add, deactivate (on leaving, long absence), reactivate. The
  admin may do the same, e.g. when the last manager has left.
- The last active manager cannot be deactivated or demoted: someone must be able
  to administer the provider and answer its access review.
- Changes to one provider's users are serialised on the provider's row lock.
- Every change and every listing of users is audited (their names are personal
  data); no personnummer is involved.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from provider.models import ProviderUnit, ProviderUser
from provider.providers import service as providers
from provider.users import repository
from provider.users.schemas import ProviderUserOut, UserForm
from shared import audit
from shared.auth import PROVIDER_ROLES, Role, User
from shared.problems import Conflict, NotAllowed, NotFound

OBJECT_TYPE = "provider_user"


def actor_role(user: User) -> str:
    """The role a user acts in here, for the audit log."""
    for role in (Role.ADMIN, Role.PROVIDER_MANAGER, Role.PROVIDER):
        if user.has(role):
            return str(role)
    return user.main_role


def _entry(
    user: User, action: str, object_type: str, object_id: object, subject_pnr: str | None = None
) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=actor_role(user),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        subject_pnr=subject_pnr,
    )


def token_provider_id(user: User) -> uuid.UUID | None:
    """The provider the token names, None if it names none (or not a provider id)."""
    try:
        return uuid.UUID(user.provider_id) if user.provider_id else None
    except ValueError:
        return None


async def refused(
    session: AsyncSession,
    user: User,
    detail: str,
    object_type: str = OBJECT_TYPE,
    object_id: object = None,
    subject_pnr: str | None = None,
) -> NotAllowed:
    """Audit a refused access by `user` (to `object_type`/`object_id`, by default
    their own user) and return the 403 to raise."""
    entry = _entry(user, "access", object_type, user.sub if object_id is None else object_id, subject_pnr)
    error = NotAllowed(detail)
    await audit.refuse(session, entry, error)
    return error


async def active_provider_user(session: AsyncSession, user: User) -> ProviderUser:
    """The caller as an active user of the provider their token names; else 403, audited."""
    if not user.roles & PROVIDER_ROLES:
        raise await refused(session, user, "This needs a provider user's token.")
    provider_id = token_provider_id(user)
    if provider_id is None:
        raise await refused(session, user, "The token names no provider.")
    row = await repository.by_sub(session, user.sub)
    if row is None or row.provider_id != provider_id:
        raise await refused(session, user, "You are not a user of this provider.")
    if not row.active:
        raise await refused(session, user, "Your user has been deactivated by the provider.")
    return row


async def acting_in_unit(session: AsyncSession, user: User, unit: str) -> ProviderUnit:
    """The unit an active provider user acts in: one of their token's units, of their
    own provider; else 403, audited."""
    member = await active_provider_user(session, user)
    found = await providers.unit_by_code(session, unit) if unit in user.units else None
    if found is None or found.provider_id != member.provider_id:
        raise await refused(session, user, "You do not work in this unit.", "provider_unit", unit[:100])
    return found


async def check_unit_access(
    session: AsyncSession,
    user: User,
    provider_id: uuid.UUID,
    unit: str,
    object_type: str,
    object_id: object,
    subject_pnr: str | None = None,
) -> ProviderUser:
    """An object of `provider_id`'s `unit` (an order, an absence) may be reached by the
    caller: an active user of that provider with the unit in their token; else 403,
    audited against the object (and the person it is about)."""
    member = await active_provider_user(session, user)
    if member.provider_id != provider_id or unit not in user.units:
        raise await refused(
            session, user, "This belongs to another provider or unit.", object_type, object_id, subject_pnr
        )
    return member


async def manager_of(session: AsyncSession, user: User, provider_id: uuid.UUID) -> ProviderUser:
    """The caller as an active manager of `provider_id`; else 403, audited."""
    member = await active_provider_user(session, user)
    if member.provider_id != provider_id or not member.manager or not user.has(Role.PROVIDER_MANAGER):
        raise await refused(
            session, user, "Only this provider's manager may do this.", "provider", provider_id
        )
    return member


async def may_administer(session: AsyncSession, user: User, provider_id: uuid.UUID) -> None:
    """The admin, or an active manager of `provider_id`; else 403, audited."""
    if not user.has(Role.ADMIN):
        await manager_of(session, user, provider_id)


def to_out(row: ProviderUser) -> ProviderUserOut:
    return ProviderUserOut(
        sub=row.sub,
        name=row.name,
        manager=row.manager,
        active=row.active,
        created_at=row.created_at,
        changed_at=row.changed_at,
        deactivated_at=row.deactivated_at,
    )


async def _insert(
    session: AsyncSession, actor: User, provider_id: uuid.UUID, sub: str, name: str, manager: bool
) -> ProviderUser:
    existing = await repository.by_sub(session, sub)
    if existing is not None:
        if existing.provider_id != provider_id:
            raise Conflict("This user belongs to another provider.")
        raise Conflict("This user is already a user of the provider (reactivate them if deactivated).")
    now = datetime.now(UTC)
    row = ProviderUser(
        provider_id=provider_id,
        sub=sub,
        name=name,
        manager=manager,
        active=True,
        created_by=actor.sub,
        created_at=now,
        changed_by=actor.sub,
        changed_at=now,
        deactivated_at=None,
    )
    if not await repository.insert(session, row):
        raise Conflict("This user was just added, to this or another provider.")
    await audit.record(session, _entry(actor, "create", OBJECT_TYPE, sub))
    return row


async def add_first_manager(
    session: AsyncSession, admin: User, provider_id: uuid.UUID, sub: str, name: str
) -> ProviderUser:
    """The manager the municipality registers with a new provider."""
    return await _insert(session, admin, provider_id, sub, name, manager=True)


async def add_user(
    session: AsyncSession, actor: User, provider_id: uuid.UUID, form: UserForm
) -> ProviderUserOut:
    """Add a user (or a manager) to the provider: its manager, or the admin."""
    await may_administer(session, actor, provider_id)
    await providers.lock(session, provider_id)
    return to_out(await _insert(session, actor, provider_id, form.sub, form.name, form.manager))


async def list_users(session: AsyncSession, actor: User, provider_id: uuid.UUID) -> list[ProviderUserOut]:
    """The provider's users, active and deactivated: its manager, or the admin."""
    await may_administer(session, actor, provider_id)
    await providers.provider_or_404(session, provider_id)
    rows = await repository.of_provider(session, provider_id)
    await audit.record(session, _entry(actor, "list", "provider", provider_id))
    return [to_out(row) for row in rows]


async def _target(session: AsyncSession, actor: User, sub: str) -> ProviderUser:
    """The user `sub`, locked with their provider, if the actor may administer them."""
    row = await repository.by_sub(session, sub)
    if row is None:
        raise NotFound("There is no such provider user.")
    await may_administer(session, actor, row.provider_id)
    await providers.lock(session, row.provider_id)
    locked = await repository.by_sub_locked(session, sub)
    assert locked is not None  # users are never deleted
    return locked


async def deactivate(session: AsyncSession, actor: User, sub: str) -> ProviderUserOut:
    """Deactivate a user (leaving, long absence): their token no longer opens anything here."""
    row = await _target(session, actor, sub)
    if not row.active:
        raise Conflict("This user is already deactivated.")
    if row.manager:
        managers = await repository.active_managers(session, [row.provider_id])
        if all(m.sub == row.sub for m in managers):
            raise Conflict("This is the provider's last active manager: add another manager first.")
    now = datetime.now(UTC)
    row.active, row.deactivated_at, row.changed_by, row.changed_at = False, now, actor.sub, now
    await repository.flush(session)
    await audit.record(session, _entry(actor, "deactivate", OBJECT_TYPE, sub))
    return to_out(row)


async def reactivate(session: AsyncSession, actor: User, sub: str) -> ProviderUserOut:
    """Let a deactivated user in again."""
    row = await _target(session, actor, sub)
    if row.active:
        raise Conflict("This user is already active.")
    now = datetime.now(UTC)
    row.active, row.deactivated_at, row.changed_by, row.changed_at = True, None, actor.sub, now
    await repository.flush(session)
    await audit.record(session, _entry(actor, "reactivate", OBJECT_TYPE, sub))
    return to_out(row)


async def active_users(session: AsyncSession, provider_id: uuid.UUID) -> list[ProviderUser]:
    """The provider's active users (for its access review)."""
    return await repository.of_provider(session, provider_id, active_only=True)


async def active_managers(session: AsyncSession, provider_ids: list[uuid.UUID]) -> list[ProviderUser]:
    """The active managers of these providers (whom a reminder goes to)."""
    return await repository.active_managers(session, provider_ids)
