"""Relations (CW-8) and approved related persons (CW-7).

An approval lets a related person act for the citizen in the e-service inside
its period. It can be given only once an investigation has started on one of
the person's intake records (CW-7, IN-7) and consent is registered; every change goes out as an
event at once, so intake and messaging apply it without restarts or batches."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import TypedDict

from sqlalchemy.ext.asyncio import AsyncSession

from casework.config import SOURCE, TIME_ZONE
from casework.intake_records import service as intake_records
from casework.models import Approval, Person, Relation
from casework.persons import access as person_access
from casework.persons import service as persons
from casework.relations import repository
from casework.relations.schemas import (
    ApprovalCreate,
    ApprovalOut,
    ApprovalUpdate,
    Party,
    RelationCreate,
    RelationOut,
    RelationUpdate,
)
from shared import audit, patch
from shared.auth import User
from shared.contracts.casework import (
    MAX_RELATED_ALERTS,
    RelatedPersonApprovalChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.outbox import add_event
from shared.personnummer import Personnummer
from shared.problems import Conflict, InvalidInput, NotFound


async def alerted_relations(session: AsyncSession, person_id: uuid.UUID, today: date) -> list[Relation]:
    """The person's relations valid `today` with an alert flag set: whom alerts reach."""
    return await repository.alerted(session, person_id, today)


def one_year_after(day: date) -> date:
    """The suggested end of an approval: one year on (28 Feb for a 29 Feb start)."""
    if day.year >= date.max.year:
        raise InvalidInput("valid_from is too far in the future.", field="valid_from")
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _check_period(what: str, valid_from: date, valid_to: date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput(f"The {what} ends (valid_to) before it starts (valid_from).", field="valid_to")


def _relation_out(r: Relation) -> RelationOut:
    return RelationOut(
        id=r.id,
        relation_type=r.relation_type,
        related=Party(personnummer=r.related_pnr, name=r.related_name),
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        phone=r.phone,
        email=r.email,
        sms_alerts=r.sms_alerts,
        email_alerts=r.email_alerts,
    )


def _approval_out(a: Approval, person: Person) -> ApprovalOut:
    today = datetime.now(TIME_ZONE).date()
    return ApprovalOut(
        id=a.id,
        person_id=a.person_id,
        citizen=Party(personnummer=person.pnr, name=person.name),
        related=Party(personnummer=a.related_pnr, name=a.related_name),
        valid_from=a.valid_from,
        valid_to=a.valid_to,
        consent_info=a.consent_info,
        active=a.revoked_at is None and a.valid_from <= today <= a.valid_to,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


async def add_relation(
    session: AsyncSession, user: User, person_id: uuid.UUID, form: RelationCreate
) -> RelationOut:
    """Register a relation; alerts include it at once when the citizen's record says so."""
    person = await person_access.reach_person(session, user, person_id, "create", "relation", for_update=True)
    if str(form.related_personnummer) == person.pnr:
        raise InvalidInput("A person cannot be their own relation.", field="related_personnummer")
    relation = Relation(
        id=uuid.uuid4(),
        person_id=person.id,
        relation_type=form.relation_type,
        related_pnr=str(form.related_personnummer),
        related_name=form.related_name,
        valid_from=form.valid_from,
        valid_to=form.valid_to,
        phone=form.phone,
        email=form.email,
        sms_alerts=form.sms_alerts,
        email_alerts=form.email_alerts,
        created_at=datetime.now(UTC),
    )
    repository.add(session, relation)
    await session.flush()
    await _check_alert_bound(session, relation)
    if form.sms_alerts or form.email_alerts:
        await _announce_if_alerted(session, person)
    return _relation_out(relation)


async def _check_alert_bound(session: AsyncSession, relation: Relation) -> None:
    """EServiceSettingsChanged carries at most MAX_RELATED_ALERTS related persons."""
    if (relation.sms_alerts or relation.email_alerts) and await repository.count_with_alerts(
        session, relation.person_id
    ) > MAX_RELATED_ALERTS:
        raise Conflict(f"At most {MAX_RELATED_ALERTS} related persons can be alerted for one person.")


async def _reach_relation(
    session: AsyncSession, user: User, relation_id: uuid.UUID, action: str
) -> tuple[Relation, Person]:
    relation = await repository.relation(session, relation_id)
    if relation is None:
        raise NotFound("There is no such relation.")
    person = await person_access.reach_person(
        session, user, relation.person_id, action, "relation", str(relation_id), for_update=True
    )
    # Read again under the person's lock, which every relation change takes: an
    # edit that waited for it must see the change it waited for, not a stale copy.
    relation = await repository.relation(session, relation_id, locked=True)
    if relation is None or relation.person_id != person.id:
        raise NotFound("There is no such relation.")
    return relation, person


async def _announce_if_alerted(session: AsyncSession, person: Person) -> None:
    """Publish the alert settings again when related persons are among those alerted;
    refuse a change that would leave alerts meant only for related persons with no one."""
    if person.alert_recipients == "related" and not await alerted_relations(
        session, person.id, datetime.now(TIME_ZONE).date()
    ):
        raise Conflict(
            "Alerts go only to related persons and this would leave none: "
            "change who is alerted (e-service settings) first."
        )
    if person.messages_enabled and person.alert_recipients != "citizen":
        await persons.announce_e_service(session, person)


async def update_relation(
    session: AsyncSession, user: User, relation_id: uuid.UUID, form: RelationUpdate
) -> RelationOut:
    """Edit a relation; alerts follow at once when the related person is alerted."""
    relation, person = await _reach_relation(session, user, relation_id, "update")
    for field, value in patch.changes(form, not_null=("valid_from", "sms_alerts", "email_alerts")).items():
        setattr(relation, field, value)
    _check_period("relation", relation.valid_from, relation.valid_to)
    if relation.sms_alerts and not relation.phone:
        raise InvalidInput("SMS alerts need the related person's mobile number.", field="phone")
    if relation.email_alerts and not relation.email:
        raise InvalidInput("E-mail alerts need the related person's e-mail address.", field="email")
    await session.flush()
    await _check_alert_bound(session, relation)
    await _announce_if_alerted(session, person)
    return _relation_out(relation)


async def remove_relation(session: AsyncSession, user: User, relation_id: uuid.UUID) -> None:
    """Remove a relation registered by mistake; its alerts stop at once."""
    relation, person = await _reach_relation(session, user, relation_id, "delete")
    await repository.delete(session, relation)
    await session.flush()
    await _announce_if_alerted(session, person)


async def list_relations(session: AsyncSession, user: User, person_id: uuid.UUID) -> list[RelationOut]:
    """The person's relations."""
    await person_access.reach_person(session, user, person_id, "list", "relation")
    return [_relation_out(r) for r in await repository.relations_of(session, person_id)]


def _overlaps(a: Approval, start: date, end: date) -> bool:
    return a.valid_from <= end and start <= a.valid_to


async def approve(
    session: AsyncSession, user: User, person_id: uuid.UUID, form: ApprovalCreate
) -> ApprovalOut:
    """Approve a related person to act for the citizen (RelatedPersonApproved)."""
    person = await person_access.reach_person(session, user, person_id, "create", "approval", for_update=True)
    if not form.consent_registered:
        raise InvalidInput(
            "A related person can be approved only once the citizen's consent is registered.",
            field="consent_registered",
        )
    valid_to = form.valid_to or one_year_after(form.valid_from)
    _check_period("approval", form.valid_from, valid_to)
    if str(form.related_personnummer) == person.pnr:
        raise InvalidInput(
            "The related person must be someone else than the citizen.", field="related_personnummer"
        )
    if not await intake_records.has_investigation(session, person.id):
        raise Conflict(
            "Related persons can be approved only once an investigation has started "
            "(POST /intake-records/{id}/investigation)."
        )
    if any(
        a.related_pnr == str(form.related_personnummer) and _overlaps(a, form.valid_from, valid_to)
        for a in await repository.approvals_of(session, person.id)
    ):
        raise Conflict("This related person already has an approval that overlaps the period.")
    now = datetime.now(UTC)
    approval = Approval(
        id=uuid.uuid4(),
        person_id=person.id,
        related_pnr=str(form.related_personnummer),
        related_name=form.related_name,
        valid_from=form.valid_from,
        valid_to=valid_to,
        consent_info=form.consent_info,
        created_by=user.sub,
        created_at=now,
        updated_at=now,
        version=1,
    )
    repository.add(session, approval)
    await session.flush()
    await add_event(
        session, RelatedPersonApproved(**_approval_facts(approval, person), approved_at=now), SOURCE
    )
    return _approval_out(approval, person)


class _ApprovalFacts(TypedDict):
    """What every approval event carries."""

    approval_id: uuid.UUID
    person_id: uuid.UUID
    citizen_pnr: Personnummer
    citizen_name: str
    related_pnr: Personnummer
    related_name: str
    valid_from: date
    valid_to: date
    version: int


def _approval_facts(a: Approval, person: Person) -> _ApprovalFacts:
    return {
        "approval_id": a.id,
        "person_id": person.id,
        "citizen_pnr": Personnummer(person.pnr),
        "citizen_name": person.name,
        "related_pnr": Personnummer(a.related_pnr),
        "related_name": a.related_name,
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "version": a.version,
    }


async def list_approvals(session: AsyncSession, user: User, person_id: uuid.UUID) -> list[ApprovalOut]:
    """The person's approvals that are not revoked."""
    person = await person_access.reach_person(session, user, person_id, "list", "approval")
    return [_approval_out(a, person) for a in await repository.approvals_of(session, person_id)]


async def _reach_approval(
    session: AsyncSession, user: User, approval_id: uuid.UUID, action: str
) -> tuple[Approval, Person]:
    """The approval, locked and read afresh, with its person locked; revoked or not."""
    # Only to learn whose approval it is (never changes): the state is read below, under the lock.
    found = await repository.approval(session, approval_id)
    if found is None:
        raise NotFound("There is no such approval (or it was revoked).")
    # The person's row lock serializes every approval change of one citizen.
    person = await person_access.reach_person(
        session, user, found.person_id, action, "approval", str(approval_id), for_update=True
    )
    approval = await repository.approval_locked(session, approval_id)
    if approval is None:
        raise NotFound("There is no such approval (or it was revoked).")
    return approval, person


async def update_approval(
    session: AsyncSession, user: User, approval_id: uuid.UUID, form: ApprovalUpdate
) -> ApprovalOut:
    """Edit an approval's period, name or consent information (RelatedPersonApprovalChanged).
    A revoked approval stays revoked: editing it is refused, even when the revocation
    was committed while this edit waited for the lock."""
    approval, person = await _reach_approval(session, user, approval_id, "update")
    if approval.revoked_at is not None:
        raise await audit.refuse(
            session,
            audit.AuditEntry(
                actor=user.sub,
                actor_role="caseworker",
                action="update",
                object_type="approval",
                object_id=str(approval_id),
                subject_pnr=person.pnr,
                reason="approval revoked",
            ),
            Conflict("The approval has been revoked and cannot be edited; approve the related person anew."),
        )
    for field, value in patch.changes(form, not_null=("related_name", "valid_from", "valid_to")).items():
        setattr(approval, field, value)
    _check_period("approval", approval.valid_from, approval.valid_to)
    if any(
        other.id != approval.id
        and other.related_pnr == approval.related_pnr
        and _overlaps(other, approval.valid_from, approval.valid_to)
        for other in await repository.approvals_of(session, person.id)
    ):
        raise Conflict("This related person already has an approval that overlaps the period.")
    now = datetime.now(UTC)
    approval.updated_at = now
    approval.version += 1
    await session.flush()
    await add_event(
        session, RelatedPersonApprovalChanged(**_approval_facts(approval, person), changed_at=now), SOURCE
    )
    return _approval_out(approval, person)


async def revoke_approval(session: AsyncSession, user: User, approval_id: uuid.UUID) -> None:
    """Remove an approval; the related person is refused from their next request on.
    Final: a revoked approval is never edited or restored (approve anew instead)."""
    approval, person = await _reach_approval(session, user, approval_id, "delete")
    if approval.revoked_at is not None:
        raise NotFound("There is no such approval (or it was revoked).")
    now = datetime.now(UTC)
    approval.revoked_at = approval.updated_at = now
    approval.version += 1
    await session.flush()
    await add_event(
        session, RelatedPersonApprovalRevoked(**_approval_facts(approval, person), revoked_at=now), SOURCE
    )
