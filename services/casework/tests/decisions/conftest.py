"""Fixtures of the decisions tests: a case under investigation, made through the
cases module's own service (start the investigation, open the case), on a
person made for the test, so the decisions rest on what casework really has."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases import service as cases
from casework.cases.models import Case
from casework.cases.schemas import CaseCreate, InvestigationStart
from casework.models import IntakeRecord, Person, RecordStatus
from shared.auth import User


@pytest.fixture
def case_of(session: AsyncSession, new_pnr: Callable[[], str]) -> Callable[..., Awaitable[Case]]:
    """Make a person with an intake record in `user`'s first unit, start its
    investigation and open a case for trygghetslarm; `person` sets the person's columns."""

    async def make(user: User, **person: Any) -> Case:
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
            note="",
            status=RecordStatus.NEW,
            created_by=user.sub,
            created_at=datetime.now(UTC),
        )
        session.add(record)
        await session.flush()
        await cases.start_investigation(session, user, record.id, InvestigationStart())
        opened = await cases.create_case(
            session,
            user,
            record.id,
            CaseCreate.model_validate(
                {
                    "service_code": "trygghetslarm",
                    "service_name": "Trygghetslarm",
                    "legal_basis": "SoL 4 kap. 1 §",
                }
            ),
        )
        case = await cases.get(session, opened.id)
        assert case is not None
        return case

    return make
