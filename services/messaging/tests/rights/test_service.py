"""The right to write to a citizen (MS-3) at the service layer: caseworker
assignments (a late, older one never undoes a newer one), provider-unit
assignments, and related persons' approvals (ordered by version, revocation final)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.config import TIME_ZONE
from messaging.rights import service


async def test_the_records_new_caseworker_may_write_and_the_former_may_not(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    former, current = make_staff(), make_staff(name="Kalle Annan")
    person = await world.citizen(make_citizen)
    t0 = datetime.now(UTC)
    record = await world.assign(person, former, at=t0)
    event_record = await _reassign(world, person, current, record, t0 + timedelta(minutes=5))
    # A replayed dead letter of the first assignment arrives late.
    await _reassign(world, person, former, record, t0)

    assert event_record == record
    assert await service.may_write(session, current, person.person_id)
    assert not await service.may_write(session, former, person.person_id)
    assert [a.caseworker_id for a in await service.caseworkers_of(session, person.person_id)] == [current.sub]


async def _reassign(
    world: Any, person: Any, caseworker: Any, record_id: uuid.UUID, at: datetime
) -> uuid.UUID:
    from shared.contracts.casework import CaseworkerAssigned

    event = CaseworkerAssigned(
        record_id=record_id,
        person_id=person.person_id,
        citizen_pnr=person.user.pnr,
        caseworker_id=caseworker.sub,
        caseworker_name=caseworker.name,
        unit="testenhet",
        assigned_at=at,
    )
    await service.on_caseworker_assigned(world.session, event, world.envelope(event))
    return record_id


async def test_provider_staff_may_write_to_clients_of_their_units_running_assignment(
    session: AsyncSession, make_staff: Any, make_citizen: Any, world: Any
) -> None:
    person = await world.citizen(make_citizen)
    staff = make_staff(name="Utförare", units=("hemtjanst-norr",), roles=("provider",), provider_id="p-1")
    other_unit = make_staff(name="Söder", units=("hemtjanst-soder",), roles=("provider",), provider_id="p-1")
    other_provider = make_staff(
        name="Annan", units=("hemtjanst-norr",), roles=("provider",), provider_id="p-2"
    )
    today = datetime.now(TIME_ZONE).date()
    order = uuid.uuid4()

    assert not await service.may_write(session, staff, person.person_id)  # no assignment yet
    await service.record_provider_assignment(
        session,
        order_id=order,
        person_id=person.person_id,
        provider_id="p-1",
        unit="hemtjanst-norr",
        valid_from=today,
        valid_to=None,
        ended_at=None,
        version=1,
    )
    assert await service.may_write(session, staff, person.person_id)
    assert not await service.may_write(session, other_unit, person.person_id)
    assert not await service.may_write(session, other_provider, person.person_id)

    # Ended yesterday: from today on its staff may no longer write.
    ended = await service.record_provider_assignment(
        session,
        order_id=order,
        person_id=person.person_id,
        provider_id="p-1",
        unit="hemtjanst-norr",
        valid_from=today - timedelta(days=7),
        valid_to=today - timedelta(days=1),
        ended_at=datetime.now(UTC),
        version=2,
    )
    stale = await service.record_provider_assignment(
        session,
        order_id=order,
        person_id=person.person_id,
        provider_id="p-1",
        unit="hemtjanst-norr",
        valid_from=today,
        valid_to=None,
        ended_at=None,
        version=1,
    )
    assert ended and not stale
    assert not await service.may_write(session, staff, person.person_id)


async def test_a_revocation_is_final_even_before_its_approval_arrives(
    session: AsyncSession, make_citizen: Any, world: Any
) -> None:
    person = await world.citizen(make_citizen)
    related = make_citizen(name="Josefine Test")
    approval = uuid.uuid4()
    await world.revoke(person, related, approval)  # overtook its approval

    from shared.contracts.casework import RelatedPersonApproved

    today = datetime.now(TIME_ZONE).date()
    late = RelatedPersonApproved(
        approval_id=approval,
        person_id=person.person_id,
        citizen_pnr=person.user.pnr,
        citizen_name=person.user.name,
        related_pnr=related.pnr,
        related_name=related.name,
        valid_from=today,
        valid_to=today + timedelta(days=30),
        version=1,
        approved_at=datetime.now(UTC),
    )
    await service.on_approved(session, late, world.envelope(late))

    import pytest

    from shared.problems import NotAllowed

    with pytest.raises(NotAllowed, match="revoked"):
        await service.acting_for(session, related, approval, "read")
