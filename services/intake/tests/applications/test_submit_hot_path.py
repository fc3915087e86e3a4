"""What the submit's hot path (issue 11) must keep, against intake's real
PostgreSQL: the application, its services in the applicant's order and its
first status step stored by one plain insert and read back as the citizen sent
them; the catalogue served from memory still names and checks every service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import service
from intake.applications.schemas import ApplicationCreate
from intake.catalogue import service as catalogue
from shared.auth import User
from shared.contracts.intake import ApplicationSubmitted
from shared.problems import InvalidInput


async def test_several_services_are_stored_and_read_back_in_the_applicants_order(
    session: AsyncSession,
    make_citizen: Callable[..., User],
    outbox: Callable[[str, str], Awaitable[list[dict[str, Any]]]],
) -> None:
    user = make_citizen()
    order = ["trygghetslarm", "sarskilt_boende", "hemtjanst"]
    form = ApplicationCreate(entry="sol", services=order, description="Tre insatser")

    submitted = await service.submit(session, user, form)

    assert [s.code for s in submitted.services] == order
    assert await service.get_own(session, user, submitted.id) == submitted
    [event] = await outbox(ApplicationSubmitted.ce_type, str(submitted.id))
    assert [s["code"] for s in event["services"]] == order
    assert all(s["name"] and s["category"] for s in event["services"])


async def test_the_catalogue_served_from_memory_matches_the_database(
    session: AsyncSession, make_citizen: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue, "_snapshot", None)  # the first read goes to the database
    fresh = await catalogue.list_all(session)
    assert await catalogue.list_all(session) == fresh  # the second is served from memory
    assert {c.entry for c in fresh} >= {"sol", "lss"}

    with pytest.raises(InvalidInput, match="Unknown service"):
        await service.submit(
            session, make_citizen(), ApplicationCreate(entry="sol", services=["nope"], description="x")
        )
