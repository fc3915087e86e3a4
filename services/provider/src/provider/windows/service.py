"""Service windows (PR-11): the municipality's operator (role admin) announces a
planned window; every provider user sees the current and coming ones on their
home screen. A window that has already ended announces nothing and is refused;
a cancelled one is withdrawn. No personal data is involved: the text is the
operator's notice to all providers."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from provider.users import service as users
from provider.windows import repository
from provider.windows.models import ServiceWindow
from provider.windows.schemas import WindowForm, WindowOut
from shared.auth import Role, User
from shared.problems import InvalidInput, NotFound

log = logging.getLogger(__name__)


def _out(window: ServiceWindow, now: datetime) -> WindowOut:
    return WindowOut(
        id=window.id,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        text=window.text,
        current=window.starts_at <= now < window.ends_at,
        created_at=window.created_at,
    )


async def announce(
    session: AsyncSession, admin: User, form: WindowForm, now: datetime | None = None
) -> WindowOut:
    """Announce a planned service window (admin)."""
    now = now or datetime.now(UTC)
    if form.ends_at <= now:
        raise InvalidInput("This service window has already ended.")
    window = ServiceWindow(
        id=uuid.uuid4(),
        starts_at=form.starts_at,
        ends_at=form.ends_at,
        text=form.text,
        created_by=admin.sub,
        created_at=now,
    )
    await repository.add(session, window)
    log.info("service window %s announced, %s to %s", window.id, window.starts_at, window.ends_at)
    return _out(window, now)


async def current_and_coming(
    session: AsyncSession, user: User, now: datetime | None = None
) -> list[WindowOut]:
    """The windows not yet ended: the admin, or any active provider user."""
    if not user.has(Role.ADMIN):
        await users.active_provider_user(session, user)
    now = now or datetime.now(UTC)
    return [_out(w, now) for w in await repository.not_ended(session, now)]


async def withdraw(session: AsyncSession, admin: User, window_id: uuid.UUID) -> None:
    """Withdraw a window that was cancelled (admin)."""
    if not await repository.remove(session, window_id):
        raise NotFound("There is no such service window.")
    log.info("service window %s withdrawn", window_id)
