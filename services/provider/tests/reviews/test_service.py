"""Quarterly access reviews: the manager confirms exactly the active users; the
municipality sees whose review is overdue (never done, or older than 92 days)
and the managers are reminded, once a week at most."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from provider.reviews import service
from provider.reviews.models import AccessReview, AccessReviewReminder
from provider.reviews.schemas import OverdueProvider, ReviewForm
from provider.users import service as users
from shared.problems import Conflict, NotAllowed

World = Any  # services/provider/tests/conftest.py's World (not importable here)
Refusals = Callable[[str], Awaitable[list[dict[str, Any]]]]


def listed(overdue: list[OverdueProvider], provider_id: Any) -> OverdueProvider | None:
    return next((p for p in overdue if p.provider_id == provider_id), None)


async def reminders(session: AsyncSession, provider_id: Any) -> list[AccessReviewReminder]:
    query = select(AccessReviewReminder).where(AccessReviewReminder.provider_id == provider_id)
    return list(await session.scalars(query.order_by(AccessReviewReminder.reminded_at)))


async def test_a_provider_never_reviewed_is_overdue_and_its_manager_is_reminded(
    session: AsyncSession, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    acme = await world.provider()

    with caplog.at_level(logging.INFO, logger="provider.reviews.service"):
        overdue = await service.overdue(session, world.admin)

    shown = listed(overdue, acme.id)
    assert shown is not None and shown.last_reviewed_at is None
    assert [m.sub for m in shown.managers] == [acme.manager.sub]
    [reminder] = await reminders(session, acme.id)
    assert reminder.manager_subs == [acme.manager.sub] and reminder.last_reviewed_at is None
    assert shown.reminded_at == reminder.reminded_at
    line = next(r.getMessage() for r in caplog.records if str(acme.id) in r.getMessage())
    assert "reminded" in line and "never" in line
    assert "Maja" not in line  # the manager's name stays out of the log
    status = await service.status(session, acme.manager, acme.id)
    assert status.overdue and status.last_reminded_at == reminder.reminded_at


async def test_a_review_older_than_a_quarter_is_overdue_and_a_recent_one_is_not(
    session: AsyncSession, world: World
) -> None:
    old, recent = await world.provider(), await world.provider()
    now = datetime.now(UTC)
    for provider, days_ago in ((old, 93), (recent, 91)):
        form = ReviewForm(active_users=[provider.manager.sub])
        await service.review(session, provider.manager, provider.id, form, now=now - timedelta(days=days_ago))

    overdue = await service.overdue(session, world.admin, now=now)

    shown = listed(overdue, old.id)
    assert shown is not None and shown.last_reviewed_at == now - timedelta(days=93)
    assert shown.due_at == now - timedelta(days=1)
    assert listed(overdue, recent.id) is None
    assert await reminders(session, recent.id) == []


async def test_the_manager_is_reminded_once_a_week_at_most(session: AsyncSession, world: World) -> None:
    acme = await world.provider()
    now = datetime.now(UTC)

    await service.overdue(session, world.admin, now=now)
    await service.overdue(session, world.admin, now=now + timedelta(days=6))
    assert len(await reminders(session, acme.id)) == 1
    later = await service.overdue(session, world.admin, now=now + timedelta(days=7))
    assert len(await reminders(session, acme.id)) == 2
    shown = listed(later, acme.id)
    assert shown is not None and shown.reminded_at == now + timedelta(days=7)


async def test_a_confirmed_review_takes_the_provider_off_the_overdue_list(
    session: AsyncSession, world: World
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)

    review = await service.review(
        session, acme.manager, acme.id, ReviewForm(active_users=[staff.sub, acme.manager.sub])
    )

    assert review.active_users == sorted([staff.sub, acme.manager.sub])
    assert listed(await service.overdue(session, world.admin), acme.id) is None
    status = await service.status(session, world.admin, acme.id)
    assert not status.overdue and status.due_at == review.reviewed_at + timedelta(days=92)
    assert [r.id for r in status.reviews] == [review.id]


async def test_a_list_that_is_not_the_active_users_is_refused_with_nothing_written(
    session: AsyncSession, world: World
) -> None:
    acme = await world.provider()
    staff = await world.staff(acme)
    gone = await world.staff(acme)
    await users.deactivate(session, acme.manager, gone.sub)

    for subs in ([acme.manager.sub], [acme.manager.sub, staff.sub, gone.sub]):
        with pytest.raises(Conflict) as refused:
            async with session.begin_nested():
                await service.review(session, acme.manager, acme.id, ReviewForm(active_users=subs))
    assert refused.value.extra == {"not_confirmed": [], "not_active": [gone.sub]}
    count = await session.scalar(
        select(func.count()).select_from(AccessReview).where(AccessReview.provider_id == acme.id)
    )
    assert count == 0


async def test_only_the_providers_own_manager_reviews_it(
    session: AsyncSession, world: World, refusals: Refusals
) -> None:
    acme, other = await world.provider(), await world.provider()
    staff = await world.staff(acme)

    for user in (other.manager, staff):
        with pytest.raises(NotAllowed):
            await service.review(session, user, acme.id, ReviewForm(active_users=[acme.manager.sub]))
    assert len(await refusals(other.manager.sub)) == 1
    with pytest.raises(NotAllowed):
        await service.status(session, other.manager, acme.id)
