"""Acting for someone at the service layer, against intake's real PostgreSQL:
the projection of casework's approvals, with events arriving in the orders a
redelivery, a dead-letter replay or clock skew between hosts produce (ordered
by the approval's version, never by timestamps; a revocation is final), and
the approval period checked on every request."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import service as applications
from intake.applications.schemas import ApplicationCreate
from intake.models import Representation
from intake.representations import service
from shared.auth import User
from shared.contracts.casework import (
    RelatedPersonApprovalChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.events import Envelope, Event
from shared.problems import NotAllowed

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
START = date(2026, 3, 1)
ApprovalEvent = RelatedPersonApproved | RelatedPersonApprovalChanged | RelatedPersonApprovalRevoked


class Approval:
    """One approval's events as casework would publish them, each built on demand."""

    def __init__(self, citizen: User, related: User, valid_from: date = START, days: int = 365) -> None:
        assert citizen.pnr is not None and related.pnr is not None
        self.approval_id = uuid.uuid4()
        self.facts: dict[str, Any] = {
            "approval_id": self.approval_id,
            "person_id": uuid.uuid4(),
            "citizen_pnr": citizen.pnr,
            "citizen_name": citizen.name,
            "related_pnr": related.pnr,
            "related_name": related.name,
            "valid_from": valid_from,
            "valid_to": valid_from + timedelta(days=days),
        }

    def approved(self, version: int = 1, at: datetime = T0) -> RelatedPersonApproved:
        return RelatedPersonApproved(**self.facts, version=version, approved_at=at)

    def changed(self, version: int, valid_to: date, at: datetime) -> RelatedPersonApprovalChanged:
        return RelatedPersonApprovalChanged(
            **{**self.facts, "valid_to": valid_to}, version=version, changed_at=at
        )

    def revoked(self, version: int, at: datetime) -> RelatedPersonApprovalRevoked:
        return RelatedPersonApprovalRevoked(**self.facts, version=version, revoked_at=at)


Deliver = Callable[[ApprovalEvent], Awaitable[None]]


@pytest.fixture
def deliver(session: AsyncSession, make_envelope: Callable[[Event], Envelope]) -> Deliver:
    """Hand an event to intake's handler as its consumer does, with a fresh ce_id."""

    async def handle(event: ApprovalEvent) -> None:
        if isinstance(event, RelatedPersonApprovalRevoked):
            await service.on_revoked(session, event, make_envelope(event))
        else:
            await service.on_approved(session, event, make_envelope(event))

    return handle


@pytest.fixture
def approval(make_citizen: Callable[..., User]) -> Approval:
    return Approval(make_citizen(name="Annika Test"), make_citizen(name="Josefine Test"))


async def projected(session: AsyncSession, approval: Approval) -> Representation:
    row = await session.get(Representation, approval.approval_id, populate_existing=True)
    assert row is not None
    return row


async def test_a_revocation_stays_whatever_arrives_after_it(
    session: AsyncSession, deliver: Deliver, approval: Approval
) -> None:
    await deliver(approval.approved())
    await deliver(approval.revoked(version=3, at=T0 + timedelta(minutes=2)))
    # An edit the revocation raced (or a host whose clock runs ahead), even with a newer version.
    edit = approval.changed(version=4, valid_to=START + timedelta(days=30), at=T0 + timedelta(minutes=5))
    await deliver(edit)
    await deliver(approval.approved(version=5, at=T0 + timedelta(minutes=6)))
    row = await projected(session, approval)
    assert row.revoked_at == T0 + timedelta(minutes=2)
    assert row.valid_to == START + timedelta(days=365) and row.version == 3
    assert not row.active_on(START + timedelta(days=1))


async def test_a_revocation_that_overtook_its_approval_is_not_undone(
    session: AsyncSession, deliver: Deliver, approval: Approval
) -> None:
    await deliver(approval.revoked(version=2, at=T0 + timedelta(minutes=1)))
    await deliver(approval.approved(version=1))
    assert (await projected(session, approval)).revoked_at is not None


async def test_an_older_revocation_revokes_but_keeps_the_newer_facts(
    session: AsyncSession, deliver: Deliver, approval: Approval
) -> None:
    longer = START + timedelta(days=400)
    await deliver(approval.changed(version=3, valid_to=longer, at=T0 + timedelta(minutes=5)))
    await deliver(approval.revoked(version=2, at=T0 + timedelta(minutes=9)))
    row = await projected(session, approval)
    assert (row.valid_to, row.version, row.revoked_at) == (longer, 3, T0 + timedelta(minutes=9))


async def test_changes_apply_in_version_order_not_by_the_clocks_of_the_hosts(
    session: AsyncSession, deliver: Deliver, approval: Approval
) -> None:
    shorter, longer = START + timedelta(days=30), START + timedelta(days=90)
    await deliver(approval.approved())
    # Version 2 stamped by a host whose clock runs five minutes ahead of version 3's.
    await deliver(approval.changed(version=2, valid_to=shorter, at=T0 + timedelta(minutes=10)))
    await deliver(approval.changed(version=3, valid_to=longer, at=T0 + timedelta(minutes=5)))
    assert (await projected(session, approval)).valid_to == longer
    # A replay of the older change, from the dead letters, changes nothing.
    await deliver(approval.changed(version=2, valid_to=shorter, at=T0 + timedelta(minutes=10)))
    await deliver(approval.approved(version=1))
    row = await projected(session, approval)
    assert (row.valid_to, row.version, row.revoked_at) == (longer, 3, None)


async def test_an_event_without_a_version_never_overrides_a_versioned_state(
    session: AsyncSession, deliver: Deliver, make_citizen: Callable[..., User]
) -> None:
    approval = Approval(make_citizen(), make_citizen())
    await deliver(approval.approved(version=1))
    legacy = approval.changed(version=0, valid_to=START + timedelta(days=5), at=T0 + timedelta(days=1))
    await deliver(legacy)
    assert (await projected(session, approval)).valid_to == START + timedelta(days=365)
    # Before versions existed, the old order by timestamp still holds between unversioned events.
    old = Approval(make_citizen(), make_citizen())
    await deliver(old.approved(version=0))
    await deliver(old.changed(version=0, valid_to=START + timedelta(days=5), at=T0 + timedelta(days=1)))
    await deliver(old.changed(version=0, valid_to=START + timedelta(days=9), at=T0))
    assert (await projected(session, old)).valid_to == START + timedelta(days=5)
    await deliver(old.changed(version=1, valid_to=START + timedelta(days=7), at=T0))
    assert (await projected(session, old)).valid_to == START + timedelta(days=7)


async def test_a_replayed_older_approval_changes_nothing_and_is_not_audited(
    session: AsyncSession,
    deliver: Deliver,
    approval: Approval,
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    citizen_pnr = str(approval.facts["citizen_pnr"])
    await deliver(approval.approved(version=1))
    await deliver(approval.changed(version=2, valid_to=START + timedelta(days=60), at=T0))
    applied = await audit_log(citizen_pnr)
    assert [(e["actor"], e["actor_role"], e["object_id"]) for e in applied] == [
        ("event:/omsorg/casework", "system", str(approval.approval_id))
    ] * 2
    await deliver(approval.approved(version=1))  # the replay
    row = await projected(session, approval)
    assert (row.version, row.valid_to) == (2, START + timedelta(days=60))
    assert await audit_log(citizen_pnr) == applied


def _today() -> date:
    return datetime.now(UTC).date()


async def test_a_related_person_sees_the_citizens_applications_inside_the_period(
    session: AsyncSession, deliver: Deliver, make_citizen: Callable[..., User]
) -> None:
    citizen, related = make_citizen(), make_citizen(name="Josefine Test")
    await applications.submit(
        session,
        citizen,
        ApplicationCreate(entry="sol", services=["trygghetslarm"], description="Jag trillar ibland"),
    )
    approval = Approval(citizen, related, valid_from=_today() - timedelta(days=1), days=30)
    await deliver(approval.approved())
    [mine] = await service.list_mine(session, related)
    assert (mine.approval_id, mine.active) == (approval.approval_id, True)
    seen = await service.applications_of_represented(session, related, approval.approval_id)
    assert [a.description for a in seen] == ["Jag trillar ibland"]


@pytest.mark.parametrize("starts_in_days", [2, -40], ids=["not yet", "expired"])
async def test_acting_outside_the_approval_period_is_refused_and_audited(
    session: AsyncSession,
    deliver: Deliver,
    make_citizen: Callable[..., User],
    audit_log: Callable[[str], Awaitable[list[dict[str, Any]]]],
    starts_in_days: int,
) -> None:
    citizen, related = make_citizen(), make_citizen()
    approval = Approval(citizen, related, valid_from=_today() + timedelta(days=starts_in_days), days=30)
    await deliver(approval.approved())
    with pytest.raises(NotAllowed, match="not today"):
        await service.applications_of_represented(session, related, approval.approval_id)
    [refusal] = [e for e in await audit_log(str(citizen.pnr)) if e["outcome"] == "refused"]
    assert (refusal["actor"], refusal["actor_role"], refusal["object_id"]) == (
        related.sub,
        "related_person",
        str(approval.approval_id),
    )


async def test_acting_on_someone_elses_approval_or_a_revoked_one_is_refused(
    session: AsyncSession, deliver: Deliver, make_citizen: Callable[..., User]
) -> None:
    citizen, related, stranger = make_citizen(), make_citizen(), make_citizen()
    approval = Approval(citizen, related, valid_from=_today() - timedelta(days=1))
    await deliver(approval.approved())
    with pytest.raises(NotAllowed, match="not yours"):
        await service.applications_of_represented(session, stranger, approval.approval_id)
    await deliver(approval.revoked(version=2, at=datetime.now(UTC)))
    with pytest.raises(NotAllowed, match="revoked"):
        await service.applications_of_represented(session, related, approval.approval_id)
    assert await service.list_mine(session, related) == []
