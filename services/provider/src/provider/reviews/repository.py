"""Every SQL statement on access_reviews and access_review_reminders."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from provider.models import Provider
from provider.reviews.models import AccessReview, AccessReviewReminder

HISTORY_LIMIT = 20


async def add(session: AsyncSession, row: AccessReview | AccessReviewReminder) -> None:
    session.add(row)
    await session.flush()


async def of_provider(session: AsyncSession, provider_id: uuid.UUID) -> list[AccessReview]:
    query = (
        select(AccessReview)
        .where(AccessReview.provider_id == provider_id)
        .order_by(AccessReview.reviewed_at.desc(), AccessReview.id)
        .limit(HISTORY_LIMIT)
    )
    return list(await session.scalars(query))


async def providers_not_reviewed_since(
    session: AsyncSession, since: datetime
) -> list[tuple[Provider, datetime | None]]:
    """Providers with no review after `since`, with their latest review's time (None: never)."""
    latest = (
        select(AccessReview.provider_id, func.max(AccessReview.reviewed_at).label("reviewed_at"))
        .group_by(AccessReview.provider_id)
        .subquery()
    )
    query = (
        select(Provider, latest.c.reviewed_at)
        .outerjoin(latest, latest.c.provider_id == Provider.id)
        .where((latest.c.reviewed_at.is_(None)) | (latest.c.reviewed_at < since))
        .order_by(Provider.id)
    )
    return [(provider, reviewed_at) for provider, reviewed_at in (await session.execute(query)).all()]


async def last_reminders(session: AsyncSession, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    query = (
        select(AccessReviewReminder.provider_id, func.max(AccessReviewReminder.reminded_at))
        .where(AccessReviewReminder.provider_id.in_(provider_ids))
        .group_by(AccessReviewReminder.provider_id)
    )
    return {provider_id: at for provider_id, at in (await session.execute(query)).all()}
