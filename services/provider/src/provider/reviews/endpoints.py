"""Quarterly access reviews: the provider's manager confirms its active users;
the municipality sees whose review is overdue."""

import uuid

from fastapi import APIRouter

from provider.reviews import service
from provider.reviews.schemas import OverdueProvider, ReviewForm, ReviewOut, ReviewStatus
from provider.roles import Admin, AdminOrProviderManager, ProviderManager
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["access reviews"])


@router.post(
    "/providers/{provider_id}/access-reviews",
    status_code=201,
    responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict),
)
async def confirm_access_review(
    provider_id: uuid.UUID, form: ReviewForm, user: ProviderManager, session: Session
) -> ReviewOut:
    """Confirm the provider's list of active users (exactly those active now)."""
    return await service.review(session, user, provider_id, form)


@router.get(
    "/providers/{provider_id}/access-reviews",
    responses=problem_responses(NotAuthenticated, NotAllowed, NotFound),
)
async def access_review_status(
    provider_id: uuid.UUID, user: AdminOrProviderManager, session: Session
) -> ReviewStatus:
    """The provider's reviews, when the next is due, and the latest reminder."""
    return await service.status(session, user, provider_id)


@router.get("/access-reviews/overdue", responses=problem_responses(NotAuthenticated, NotAllowed))
async def overdue_access_reviews(user: Admin, session: Session) -> list[OverdueProvider]:
    """Providers whose review is overdue (never done, or older than 92 days); their
    managers are reminded (at most weekly)."""
    return await service.overdue(session, user)
