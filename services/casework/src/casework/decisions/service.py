"""Decisions (beslut, CW-9; journey 8) on cases.

A caseworker drafts a decision on a case under investigation: granted, partly
granted or refused, with its text and legal basis (the case's unless chosen),
and for a grant its period and extent. Signing makes the signer the
decision-maker and the decision write-protected for good; in the same
transaction it files the decision letter (a PDF under the municipality's
letterhead, with how to appeal) as a write-protected document of the case,
marks the case "Beslut fattat", announces DecisionMade (ids, outcome and
service code: never the text) and, when the person's e-service is active, asks
messaging to deliver the letter into their e-service mailbox; otherwise the
answer says it goes by post.

A case has one decision in force. Once one is signed, the case's investigation
is concluded: a further decision is a correction, which names the decision in
force (`corrects`) and replaces it when signed.

Access is the case's (its record's unit), every read and write audited with
refusals. The signing locks the record, the case and the decision in that
order, so two signings of one case never both become its first decision.

Protected identity: the filed letter (what goes to the e-service, to the person
themselves, and what any caseworker of the unit can open) never shows the
address of a person with protected identity; the printable letter shows it
only to a reader with the `protected_identity` permission."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.cases import service as cases
from casework.cases.models import Case
from casework.config import SOURCE, TIME_ZONE
from casework.decisions import repository
from casework.decisions.letter import Corrected, LetterFacts, Letterhead, appeal_by, decision_letter
from casework.decisions.models import Decision, DecisionStatus
from casework.decisions.schemas import (
    MAX_DECISIONS,
    DecisionCreate,
    DecisionMaker,
    DecisionOut,
    DecisionUpdate,
)
from casework.documents import delivery as deliveries
from casework.documents import service as documents
from casework.documents.settings import DocumentsConfig
from casework.models import IntakeRecord, Person
from casework.persons import access as person_access
from shared import audit, patch, pdf
from shared.auth import User
from shared.contracts.casework import DecisionMade
from shared.outbox import add_event
from shared.pdf import PdfDocument
from shared.problems import Conflict, InvalidInput, NotFound


def _today() -> date:
    return datetime.now(TIME_ZONE).date()


def _document_entry(user: User, document_id: uuid.UUID, pnr: str) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role="caseworker",
        action="create",
        object_type="document",
        object_id=str(document_id),
        subject_pnr=pnr,
    )


def _check_content(
    outcome: str, period_from: date | None, period_to: date | None, extent: str | None
) -> None:
    """A grant has its period and extent, a period ends after it starts, a refusal has neither."""
    if outcome == "Avslag":
        given = [
            n for n, v in (("period_from", period_from), ("period_to", period_to), ("extent", extent)) if v
        ]
        if given:
            raise InvalidInput("A refusal (Avslag) has no period or extent.", field=given[0])
        return
    for name, value in (("period_from", period_from), ("period_to", period_to), ("extent", extent)):
        if value is None:
            raise InvalidInput(
                f"A grant ({outcome}) needs its period and extent: {name} is missing.", field=name
            )
    assert period_from is not None and period_to is not None  # checked just above
    if period_to < period_from:
        raise InvalidInput("The period ends (period_to) before it starts (period_from).", field="period_to")


def _check_investigation(record: IntakeRecord) -> None:
    if not cases.under_investigation(record):
        raise Conflict(
            "Decisions are made only on cases under investigation: "
            "this record's investigation is not running."
        )


def _in_force(signed: list[Decision]) -> Decision | None:
    """The signed decision no other signed decision corrects: the newest of the chain."""
    corrected = {d.corrects for d in signed}
    return next((d for d in reversed(signed) if d.id not in corrected), None)


async def by_id(session: AsyncSession, decision_id: uuid.UUID) -> Decision | None:
    """A decision by id (no access check: for a module that then reaches its case)."""
    return await repository.get(session, decision_id)


async def in_force(session: AsyncSession, case_id: uuid.UUID) -> Decision | None:
    """The case's signed decision in force, if any (no access check: as `by_id`)."""
    return _in_force(await repository.signed_of_case(session, case_id))


async def _check_correction(session: AsyncSession, case: Case, corrects: uuid.UUID | None) -> Decision | None:
    """The decision `corrects` names, which must be the case's decision in force;
    with none in force yet there is nothing to correct. Returns the corrected one."""
    signed = await repository.signed_of_case(session, case.id)
    in_force = _in_force(signed)
    if corrects is None:
        if in_force is not None:
            raise Conflict(
                "This case is decided: its investigation is concluded. A further decision corrects "
                "the one in force: name it in `corrects`.",
                field="corrects",
                in_force=str(in_force.id),
            )
        return None
    target = next((d for d in signed if d.id == corrects), None)
    if target is None:
        raise InvalidInput("`corrects` names no signed decision of this case.", field="corrects")
    if target is not in_force:
        assert in_force is not None  # a signed decision is in force or corrected by one that is
        raise Conflict(
            "That decision was corrected already: a correction corrects the decision in force.",
            field="corrects",
            in_force=str(in_force.id),
        )
    return target


def _out(decision: Decision, case: Case, corrected_by: uuid.UUID | None) -> DecisionOut:
    signed = decision.signed_at is not None
    return DecisionOut(
        id=decision.id,
        case_id=case.id,
        record_id=case.record_id,
        person_id=case.person_id,
        service_code=case.service_code,
        service_name=case.service_name,
        status=decision.status,
        outcome=decision.outcome,
        text=decision.text,
        legal_basis=decision.legal_basis,
        decided_on=decision.decided_on,
        period_from=decision.period_from,
        period_to=decision.period_to,
        extent=decision.extent,
        corrects=decision.corrects,
        corrected_by=corrected_by,
        created_by=decision.created_by,
        created_at=decision.created_at,
        updated_at=decision.updated_at,
        decided_by=(
            DecisionMaker(id=decision.signed_by, name=decision.signed_by_name)
            if decision.signed_by is not None and decision.signed_by_name is not None
            else None
        ),
        signed_at=decision.signed_at,
        document_id=decision.document_id,
        delivery=decision.delivery,
        appeal_by=appeal_by(decision.decided_on) if signed and decision.decided_on else None,
    )


async def _outs(session: AsyncSession, decisions: list[Decision], case: Case) -> list[DecisionOut]:
    corrected_by = {d.corrects: d.id for d in await repository.signed_of_case(session, case.id) if d.corrects}
    return [_out(d, case, corrected_by.get(d.id)) for d in decisions]


async def _reach_decision(
    session: AsyncSession,
    user: User,
    decision_id: uuid.UUID,
    action: str,
    object_type: str = "decision",
    *,
    for_update: bool = False,
) -> tuple[Decision, Case, IntakeRecord, Person]:
    """The decision with its case, record and person, through the case's access
    rule (audited). `for_update` locks the record, the case, then the decision."""
    decision = await repository.get(session, decision_id)
    if decision is None:
        raise NotFound("There is no such decision.")
    case, record, person = await cases.reach_case(
        session, user, decision.case_id, action, object_type, decision.id, for_update=for_update
    )
    if for_update:
        locked = await repository.get_locked(session, decision_id)
        assert locked is not None  # decisions are never deleted
        decision = locked
    return decision, case, record, person


async def create_decision(
    session: AsyncSession, user: User, case_id: uuid.UUID, form: DecisionCreate
) -> DecisionOut:
    """Draft a decision on a case under investigation (or a correction of its decision in force)."""
    decision_id = uuid.uuid4()
    case, record, _ = await cases.reach_case(session, user, case_id, "create", "decision", decision_id)
    _check_investigation(record)
    _check_content(form.outcome, form.period_from, form.period_to, form.extent)
    await _check_correction(session, case, form.corrects)
    now = datetime.now(UTC)
    decision = Decision(
        id=decision_id,
        case_id=case.id,
        outcome=form.outcome,
        text=form.text,
        legal_basis=form.legal_basis or case.legal_basis,
        decided_on=form.decided_on,
        period_from=form.period_from,
        period_to=form.period_to,
        extent=form.extent,
        corrects=form.corrects,
        status=DecisionStatus.DRAFT,
        created_by=user.sub,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, decision)
    await session.flush()
    return _out(decision, case, None)


async def update_decision(
    session: AsyncSession, user: User, decision_id: uuid.UUID, form: DecisionUpdate
) -> DecisionOut:
    """Edit a draft; a signed decision is write-protected (409): correct it with a new one."""
    decision, case, record, _ = await _reach_decision(session, user, decision_id, "update", for_update=True)
    if decision.signed_at is not None:
        raise Conflict(
            "A signed decision is write-protected: correct it with a new decision naming it in `corrects`.",
            corrects=str(decision.id),
        )
    values = patch.changes(form, not_null=("outcome", "text"))
    if "legal_basis" in values and values["legal_basis"] is None:
        values["legal_basis"] = case.legal_basis  # null: back to the case's
    merged = {
        name: values.get(name, getattr(decision, name))
        for name in ("outcome", "period_from", "period_to", "extent", "corrects")
    }
    _check_investigation(record)
    _check_content(merged["outcome"], merged["period_from"], merged["period_to"], merged["extent"])
    await _check_correction(session, case, merged["corrects"])
    for name, value in values.items():
        setattr(decision, name, value)
    decision.updated_at = datetime.now(UTC)
    await session.flush()
    return _out(decision, case, None)  # a draft: nothing corrects it


async def replace_decision(
    session: AsyncSession, user: User, decision_id: uuid.UUID, form: DecisionCreate
) -> DecisionOut:
    """Replace a draft's content (PUT): what the form leaves out is cleared, as in a new draft."""
    return await update_decision(session, user, decision_id, DecisionUpdate.model_validate(form.model_dump()))


def _postal_address(person: Person) -> tuple[str, ...] | None:
    """The person's own address, else the population register's, as letter lines."""
    if person.address_street:
        street, postal_code, city = person.address_street, person.address_postal_code, person.address_city
    elif person.registered_street:
        street, postal_code, city = (
            person.registered_street,
            person.registered_postal_code,
            person.registered_city,
        )
    else:
        return None
    return street, " ".join(p for p in (postal_code, city) if p)


def _facts(
    letterhead: Letterhead,
    decision: Decision,
    case: Case,
    record: IntakeRecord,
    person: Person,
    *,
    decided_on: date,
    decided_by: str | None,
    corrected: Decision | None,
    show_address: bool,
) -> LetterFacts:
    return LetterFacts(
        decision_id=decision.id,
        letterhead=letterhead,
        person_name=person.name,
        pnr=person.pnr,
        address=_postal_address(person) if show_address else None,
        service_name=case.service_name,
        outcome=decision.outcome,
        text=decision.text,
        legal_basis=decision.legal_basis,
        decided_on=decided_on,
        period_from=decision.period_from,
        period_to=decision.period_to,
        extent=decision.extent,
        decided_by=decided_by,
        unit=record.unit,
        corrects=(
            Corrected(corrected.id, corrected.decided_on)
            if corrected is not None and corrected.decided_on is not None
            else None
        ),
    )


def _message(case: Case, user: User, letterhead: Letterhead) -> tuple[str, str]:
    """The e-service message's subject and text that carry the letter."""
    service = case.service_name.lower()
    return f"Beslut om {service}"[:200], (
        f"Hej!\n\nNu är beslutet om {service} klart. Du hittar det i den bifogade filen. "
        "Där står också hur du gör om du vill överklaga beslutet.\n\n"
        f"Med vänlig hälsning\n{user.name}\n{letterhead.name}"
    )


async def sign_decision(
    session: AsyncSession,
    user: User,
    decision_id: uuid.UUID,
    letterhead: Letterhead,
    delivery_settings: DocumentsConfig | None = None,
) -> DecisionOut:
    """Sign a draft: the signer is the decision-maker, the letter is filed, the case
    decided (DecisionMade), and the letter goes to the e-service, or `delivery: "post"`.
    `delivery_settings`: the documents module's (its configured ones when None)."""
    decision, case, record, person = await _reach_decision(
        session, user, decision_id, "sign", for_update=True
    )
    if decision.signed_at is not None:
        raise Conflict(
            "This decision is signed already: correct it with a new decision.", corrects=str(decision.id)
        )
    _check_investigation(record)
    _check_content(decision.outcome, decision.period_from, decision.period_to, decision.extent)
    corrected = await _check_correction(session, case, decision.corrects)
    today = _today()
    decided_on = decision.decided_on or today
    if decided_on > today:
        raise InvalidInput("A decision cannot be dated after the day it is signed.", field="decided_on")

    # Rendered under the locks: a signing is rare, and the letter must say what is signed.
    facts = _facts(
        letterhead,
        decision,
        case,
        record,
        person,
        decided_on=decided_on,
        decided_by=user.name,
        corrected=corrected,
        show_address=not person.protected,  # the filed copy: any caseworker of the unit opens it
    )
    content = await pdf.render_off_loop(decision_letter(facts))
    document = await documents.file_document(
        session,
        person_id=person.id,
        record_id=record.id,
        case_id=case.id,
        doc_type="Beslut",
        title=f"Beslut om {case.service_name.lower()}"[:200],
        content=content,
        content_type="application/pdf",
        text=decision.text,
        document_date=decided_on,
        source="decision",
        created_by=user.sub,
        write_protected=True,
    )
    await audit.record(session, _document_entry(user, document.id, person.pnr))
    subject, text = _message(case, user, letterhead)
    delivery = await deliveries.request_e_service_delivery(
        session, user, document, kind="decision", subject=subject, text=text, settings=delivery_settings
    )
    now = datetime.now(UTC)
    # All of the signing in one UPDATE: once signed_at is stored, the row never changes again.
    decision.status = DecisionStatus.SIGNED
    decision.decided_on = decided_on
    decision.signed_by = user.sub
    decision.signed_by_name = user.name
    decision.signed_at = now
    decision.document_id = document.id
    decision.delivery = delivery
    decision.updated_at = now
    await session.flush()
    await cases.mark_decided(session, case, now, user.sub)
    await add_event(
        session,
        DecisionMade(
            decision_id=decision.id,
            case_id=case.id,
            record_id=record.id,
            person_id=person.id,
            application_id=record.application_id,
            service_code=case.service_code,
            outcome=decision.outcome,
            corrects=decision.corrects,
            period_from=decision.period_from,
            period_to=decision.period_to,
            status=cases.DECIDED_STATUS_FOR_CITIZEN,
            decided_at=now,
        ),
        SOURCE,
    )
    return _out(decision, case, None)


async def get_decision(session: AsyncSession, user: User, decision_id: uuid.UUID) -> DecisionOut:
    """One decision."""
    decision, case, _, _ = await _reach_decision(session, user, decision_id, "read")
    return (await _outs(session, [decision], case))[0]


async def decisions_of_case(session: AsyncSession, user: User, case_id: uuid.UUID) -> list[DecisionOut]:
    """The case's decisions, drafts included, oldest first."""
    case, _, _ = await cases.reach_case(session, user, case_id, "list", "decision")
    return await _outs(session, await repository.of_case(session, case.id, MAX_DECISIONS), case)


async def decision_letter_layout(
    session: AsyncSession, user: User, decision_id: uuid.UUID, letterhead: Letterhead
) -> PdfDocument:
    """The printable letter (a draft's preview, or the signed letter to send by post):
    a protected person's address only for a reader with the permission."""
    decision, case, record, person = await _reach_decision(
        session, user, decision_id, "read", "decision_letter"
    )
    corrected = await repository.get(session, decision.corrects) if decision.corrects else None
    return decision_letter(
        _facts(
            letterhead,
            decision,
            case,
            record,
            person,
            decided_on=decision.decided_on or _today(),
            decided_by=decision.signed_by_name,
            corrected=corrected,
            show_address=not person.protected or person_access.may_see_protected_address(user),
        )
    )
