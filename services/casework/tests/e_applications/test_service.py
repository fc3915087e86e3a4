"""The shared inbox at the service layer, against casework's real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casework.e_applications import service
from casework.models import ApplicationStatus, IncomingApplication
from shared.contracts.intake import Applicant, ApplicationSubmitted, AppliedService
from shared.events import Envelope, Event
from shared.personnummer import Personnummer


def submitted(pnr: str) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=uuid.uuid4(),
        entry="sol",
        services=[AppliedService(code="trygghetslarm", name="Trygghetslarm", category="Trygghet")],
        description="Jag trillar då och då",
        applicant=Applicant(pnr=Personnummer(pnr), name="Annika Test"),
        submitted_at=datetime.now(UTC),
    )


async def test_a_redelivered_application_is_kept_once_and_audited_as_the_system(
    session: AsyncSession,
    envelope: Callable[[Event], Envelope],
    audit_of: Callable[[str], Awaitable[list[tuple[Any, ...]]]],
    new_pnr: Callable[[], str],
) -> None:
    event = submitted(new_pnr())
    for _ in range(2):
        await service.receive_application(session, event, envelope(event))
    kept = await session.get(IncomingApplication, event.application_id)
    assert kept is not None and kept.status is ApplicationStatus.NEW and kept.entry == "sol"
    assert await audit_of(str(event.applicant.pnr)) == [
        (
            "event:/omsorg/intake",
            "system",
            "create",
            "incoming_application",
            str(event.application_id),
            "allowed",
        )
    ]
