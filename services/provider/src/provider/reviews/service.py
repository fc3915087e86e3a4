"""Quarterly access reviews (behörighetsgenomgång, PR-9).

- Each provider's manager confirms, at least once a quarter, the list of its
  active users: the confirmation must name exactly the users active now (a list
  that changed since it was shown is refused, 409, so nobody confirms what they
  did not see); deactivate those who should go first.
- A review is due 92 days after the last one; a provider never reviewed is due
  at once. `overdue` shows the municipality's admin every provider whose review
  is due and records a reminder to its active managers (a row and a log line, no
  personal data in it), at most one a week per provider.
- The manager sees the provider's reviews, when the next is due and the latest
  reminder.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from provider.models import ProviderUser
from provider.providers import service as providers
from provider.reviews import repository
from provider.reviews.models import AccessReview, AccessReviewReminder
from provider.reviews.schemas import ManagerOut, OverdueProvider, ReviewForm, ReviewOut, ReviewStatus
from provider.users import service as users
from shared import audit
from shared.auth import User
from shared.problems import Conflict

log = logging.getLogger(__name__)

REVIEW_PERIOD = timedelta(days=92)  # a quarter, at its longest
REMIND_EVERY = timedelta(days=7)


def _due(registered_at: datetime, last_reviewed_at: datetime | None) -> datetime:
    """When the next review is due: a quarter after the last; at once if never done."""
    return last_reviewed_at + REVIEW_PERIOD if last_reviewed_at else registered_at


def _out(review: AccessReview) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        reviewed_by=review.reviewed_by,
        reviewed_at=review.reviewed_at,
        active_users=sorted(review.confirmed_subs),
    )


async def review(
    session: AsyncSession, user: User, provider_id: uuid.UUID, form: ReviewForm, now: datetime | None = None
) -> ReviewOut:
    """The manager confirms the provider's list of active users."""
    await users.manager_of(session, user, provider_id)
    await providers.lock(session, provider_id)
    active = {u.sub for u in await users.active_users(session, provider_id)}
    confirmed = set(form.active_users)
    if confirmed != active:
        raise Conflict(
            "The list does not match the provider's active users now: reload it and review again.",
            not_confirmed=sorted(active - confirmed),
            not_active=sorted(confirmed - active),
        )
    row = AccessReview(
        id=uuid.uuid4(),
        provider_id=provider_id,
        reviewed_by=user.sub,
        reviewed_at=now or datetime.now(UTC),
        confirmed_subs=sorted(confirmed),
    )
    await repository.add(session, row)
    await audit.record(
        session,
        audit.AuditEntry(user.sub, users.actor_role(user), "review", "provider", str(provider_id)),
    )
    return _out(row)


async def status(
    session: AsyncSession, user: User, provider_id: uuid.UUID, now: datetime | None = None
) -> ReviewStatus:
    """A provider's reviews and whether the next is overdue: its manager, or the admin."""
    await users.may_administer(session, user, provider_id)
    provider = await providers.lock(session, provider_id)
    now = now or datetime.now(UTC)
    reviews = await repository.of_provider(session, provider_id)
    last = reviews[0].reviewed_at if reviews else None
    due = _due(provider.created_at, last)
    reminders = await repository.last_reminders(session, [provider_id])
    return ReviewStatus(
        provider_id=provider_id,
        last_reviewed_at=last,
        due_at=due,
        overdue=due <= now,
        last_reminded_at=reminders.get(provider_id),
        reviews=[_out(r) for r in reviews],
    )


async def overdue(session: AsyncSession, admin: User, now: datetime | None = None) -> list[OverdueProvider]:
    """Providers whose access review is overdue (admin); their managers are reminded."""
    now = now or datetime.now(UTC)
    found = await repository.providers_not_reviewed_since(session, now - REVIEW_PERIOD)
    # All of them: a municipality has hundreds of providers at most. The longest overdue first.
    found.sort(key=lambda pair: (_due(pair[0].created_at, pair[1]), pair[0].name))
    ids = [provider.id for provider, _ in found]
    managers: dict[uuid.UUID, list[ProviderUser]] = {}
    for manager in await users.active_managers(session, ids):
        managers.setdefault(manager.provider_id, []).append(manager)
    reminded = await repository.last_reminders(session, ids)
    listed: list[OverdueProvider] = []
    for provider, last in found:
        to_remind = managers.get(provider.id, [])
        if provider.id not in reminded or reminded[provider.id] <= now - REMIND_EVERY:
            await repository.add(
                session,
                AccessReviewReminder(
                    id=uuid.uuid4(),
                    provider_id=provider.id,
                    manager_subs=[m.sub for m in to_remind],
                    reminded_at=now,
                    last_reviewed_at=last,
                ),
            )
            reminded[provider.id] = now
            # Ids and counts only: the managers' names stay out of the log.
            log.info(
                "access review overdue: provider %s reminded (%d active managers, last review %s)",
                provider.id,
                len(to_remind),
                last.date().isoformat() if last else "never",
            )
            if not to_remind:
                log.warning("access review overdue: provider %s has no active manager", provider.id)
        listed.append(
            OverdueProvider(
                provider_id=provider.id,
                name=provider.name,
                kind=provider.kind,
                last_reviewed_at=last,
                due_at=_due(provider.created_at, last),
                managers=[ManagerOut(sub=m.sub, name=m.name) for m in to_remind],
                reminded_at=reminded.get(provider.id),
            )
        )
    if listed:
        # The managers' names were shown: one row per provider listed.
        await audit.record(
            session,
            *(
                audit.AuditEntry(admin.sub, users.actor_role(admin), "list", "provider", str(p.provider_id))
                for p in listed
            ),
        )
    return listed
