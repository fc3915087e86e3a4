"""EServiceSettingsChanged carries at most MAX_RELATED_ALERTS related persons, so
casework refuses (409) to alert more than that for one person, and writes nothing.
Against casework's real PostgreSQL, in a transaction rolled back after the test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from casework.models import Person
from casework.relations import repository, service
from casework.relations.schemas import RelationCreate, RelationUpdate
from conftest import new_personnummer
from shared.auth import User
from shared.contracts.casework import MAX_RELATED_ALERTS
from shared.personnummer import Personnummer
from shared.problems import Conflict


def relation(sms_alerts: bool) -> RelationCreate:
    return RelationCreate(
        relation_type="Anhörig",
        related_personnummer=Personnummer(new_personnummer()),
        related_name="Isabella Test",
        valid_from=date.today(),
        phone="0701234567",
        sms_alerts=sms_alerts,
    )


async def test_no_more_related_persons_are_alerted_than_the_event_carries(
    session: AsyncSession, caseworker: User, linked_person: Callable[[User], Awaitable[Person]]
) -> None:
    person_id = (await linked_person(caseworker)).id
    for _ in range(MAX_RELATED_ALERTS):
        await service.add_relation(session, caseworker, person_id, relation(sms_alerts=True))
    quiet = await service.add_relation(session, caseworker, person_id, relation(sms_alerts=False))
    with pytest.raises(Conflict, match=f"At most {MAX_RELATED_ALERTS}"):
        async with session.begin_nested():
            await service.add_relation(session, caseworker, person_id, relation(sms_alerts=True))
    with pytest.raises(Conflict):
        async with session.begin_nested():
            await service.update_relation(session, caseworker, quiet.id, RelationUpdate(sms_alerts=True))
    assert await repository.count_with_alerts(session, person_id) == MAX_RELATED_ALERTS
    assert len(await repository.relations_of(session, person_id)) == MAX_RELATED_ALERTS + 1
