"""The person record (CW-4), search (CW-14), e-service activation (CW-5, CW-6),
contact updates from the citizen (journey 12) and the log review (loggkontroll)."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casework.config import SOURCE, TIME_ZONE
from casework.intake_records import service as intake_records
from casework.models import Person, Relation
from casework.persons import access, repository
from casework.persons.schemas import (
    Address,
    EServiceOut,
    EServiceUpdate,
    Markers,
    PersonOut,
    PersonSearch,
    PersonSummary,
    PersonUpdate,
)
from casework.relations import service as relations
from shared import audit, patch
from shared.audit import AccessLogEntry
from shared.auth import User
from shared.contact import normalize_mobile
from shared.contracts.casework import AlertAddress, EServiceSettingsChanged
from shared.contracts.intake import ContactDetailsChanged
from shared.events import Envelope
from shared.outbox import add_event
from shared.personnummer import InvalidPersonnummer, Personnummer
from shared.problems import Conflict, InvalidInput, NotFound

MARKERS = ("protected_identity", "confidentiality_marking", "secret_phone", "interpreter_needed")
ADDRESSES = {"address": "address_", "registered_address": "registered_"}


def _today() -> date:
    return datetime.now(TIME_ZONE).date()


def _address(person: Person, prefix: str) -> Address | None:
    street = getattr(person, f"{prefix}street")
    if street is None:
        return None
    return Address(
        street=street,
        postal_code=getattr(person, f"{prefix}postal_code"),
        city=getattr(person, f"{prefix}city"),
    )


def person_out(person: Person, user: User) -> PersonOut:
    withheld = person.protected and not access.may_see_protected_address(user)
    return PersonOut(
        id=person.id,
        name=person.name,
        personnummer=person.pnr,
        kundnummer=person.kundnummer,
        address=None if withheld else _address(person, "address_"),
        registered_address=None if withheld else _address(person, "registered_"),
        # Municipality and county narrow down where a protected person lives: withheld too.
        address_withheld=withheld,
        municipality=None if withheld else person.municipality,
        county=None if withheld else person.county,
        phone1=person.phone1,
        phone2=person.phone2,
        phone3=person.phone3,
        email=person.email,
        markers=Markers(**{m: getattr(person, m) for m in MARKERS}),
        e_service=EServiceOut(
            messages_enabled=person.messages_enabled,
            sms_alerts=person.sms_alerts,
            sms_phone=person.sms_phone,
            email_alerts=person.email_alerts,
            alert_recipients=person.alert_recipients,
        ),
        updated_at=person.updated_at,
    )


async def get_person(session: AsyncSession, user: User, person_id: uuid.UUID) -> PersonOut:
    """The person record, address withheld for protected identities."""
    return person_out(await access.reach_person(session, user, person_id, "read"), user)


async def by_id(session: AsyncSession, person_id: uuid.UUID) -> Person:
    """The person of an existing intake record, approval or relation (always there)."""
    person = await repository.get(session, person_id)
    assert person is not None, "a row refers to a person that does not exist"
    return person


async def by_ids(session: AsyncSession, person_ids: set[uuid.UUID]) -> dict[uuid.UUID, Person]:
    """The persons with these ids, by id."""
    return {p.id: p for p in await repository.by_ids(session, person_ids)} if person_ids else {}


async def find_or_create(session: AsyncSession, pnr: str, name: str) -> tuple[Person, bool]:
    """The person with this personnummer, locked, and whether they are new: a new
    person starts with the mobile and e-mail the citizen set in Mina sidor."""
    person, created = await repository.find_or_create(session, pnr, name)
    if created:
        await adopt_citizen_contacts(session, person)
    return person, created


async def _alerted_relations(session: AsyncSession, person: Person) -> list[Relation]:
    return await relations.alerted_relations(session, person.id, _today())


def _alert_addresses(person: Person) -> tuple[str | None, str | None]:
    sms = getattr(person, f"phone{person.sms_phone}") if person.sms_alerts and person.sms_phone else None
    return sms, person.email if person.email_alerts else None


async def announce_e_service(session: AsyncSession, person: Person) -> None:
    """Publish the person's e-service settings as they are now, with the next
    settings version (the caller holds the person's row lock)."""
    person.e_service_version += 1
    sms_number, email = _alert_addresses(person)
    related = []
    if person.alert_recipients in ("related", "both"):
        related = [
            AlertAddress(
                related_pnr=Personnummer(r.related_pnr),
                name=r.related_name,
                sms_number=r.phone if r.sms_alerts else None,
                email=r.email if r.email_alerts else None,
            )
            for r in await _alerted_relations(session, person)
        ]
    await add_event(
        session,
        EServiceSettingsChanged(
            person_id=person.id,
            pnr=Personnummer(person.pnr),
            name=person.name,
            messages_enabled=person.messages_enabled,
            sms_number=sms_number,
            email=email,
            alert_recipients=person.alert_recipients,
            related_alerts=related,
            protected_identity=person.protected,
            changed_at=datetime.now(UTC),
            version=person.e_service_version,
        ),
        SOURCE,
    )


async def update_person(
    session: AsyncSession, user: User, person_id: uuid.UUID, update: PersonUpdate
) -> PersonOut:
    """Change the person record; alerts follow a changed alert address at once."""
    person = await access.reach_person(session, user, person_id, "update", for_update=True)
    before = (_alert_addresses(person), person.protected, person.name)
    for field, value in patch.changes(update, not_null=("name", *MARKERS)).items():
        if field in ADDRESSES:
            for part in ("street", "postal_code", "city"):
                setattr(person, ADDRESSES[field] + part, value[part] if value else None)
        else:
            setattr(person, field, value)
    _check_alert_addresses(person)
    person.updated_at = datetime.now(UTC)
    if person.messages_enabled and (_alert_addresses(person), person.protected, person.name) != before:
        await announce_e_service(session, person)
    await session.flush()
    return person_out(person, user)


def _check_alert_addresses(person: Person) -> None:
    """SMS alerts need a mobile number in the chosen phone field, e-mail alerts an address."""
    if person.sms_alerts:
        if person.sms_phone not in (1, 2):
            raise InvalidInput("SMS alerts need the choice of phone 1 or phone 2 (Telefon för SMS).")
        number = getattr(person, f"phone{person.sms_phone}")
        if not number:
            raise InvalidInput(
                f"SMS alerts go to phone {person.sms_phone}, but the person has none.",
                field=f"phone{person.sms_phone}",
            )
        try:
            normalize_mobile(number)
        except ValueError:
            raise InvalidInput(
                f"Phone {person.sms_phone} is not a mobile number and cannot receive SMS.",
                field=f"phone{person.sms_phone}",
            ) from None
    if person.email_alerts and not person.email:
        raise InvalidInput("E-mail alerts need an e-mail address.", field="alert_email")


async def set_e_service(
    session: AsyncSession, user: User, person_id: uuid.UUID, update: EServiceUpdate
) -> PersonOut:
    """Activate or change the e-service; effective at once (EServiceSettingsChanged)."""
    person = await access.reach_person(session, user, person_id, "update", "e_service", for_update=True)
    if not await intake_records.has_record(session, person.id):
        raise Conflict("The e-service can be activated from an intake record onward; the person has none.")
    if (update.sms_alerts or update.email_alerts) and not update.messages_enabled:
        raise InvalidInput("Alerts need the message function (Meddelande) to be on.")
    if not update.sms_alerts and update.sms_phone is not None:
        raise InvalidInput("'sms_phone' is only for SMS alerts.", field="sms_phone")
    person.messages_enabled = update.messages_enabled
    person.sms_alerts, person.sms_phone = update.sms_alerts, update.sms_phone
    person.email_alerts = update.email_alerts
    if update.alert_email is not None:
        person.email = update.alert_email
    person.alert_recipients = update.alert_recipients
    _check_alert_addresses(person)
    if update.alert_recipients != "citizen" and not await _alerted_relations(session, person):
        raise InvalidInput(
            "Related persons are to be alerted, but no relation has an alert flag set.",
            field="alert_recipients",
        )
    person.updated_at = datetime.now(UTC)
    await announce_e_service(session, person)
    await session.flush()
    return person_out(person, user)


_KUNDNUMMER = re.compile(r"^\d{1,9}$")
_PNR_LIKE = re.compile(r"^\d{6,8}[-+]?\d{4}$")


async def search(session: AsyncSession, user: User, form: PersonSearch) -> list[PersonSummary]:
    """Persons of the caseworker's units by personnummer, customer number or name."""
    query = form.query
    among = intake_records.person_ids_in(list(user.units))
    if _PNR_LIKE.match(query):
        try:
            rows = await repository.search(session, among, pnr=str(Personnummer(query)))
        except InvalidPersonnummer as exc:
            raise InvalidInput(f"The personnummer is not valid: {exc}") from None
    elif _KUNDNUMMER.match(query):
        rows = await repository.search(session, among, kundnummer=query)
    else:
        rows = await repository.search(session, among, name=query)
    await audit.record_each(
        session, user.sub, "caseworker", "search", "person", ((p.id, p.pnr) for p in rows)
    )
    return [PersonSummary(id=p.id, name=p.name, personnummer=p.pnr, kundnummer=p.kundnummer) for p in rows]


async def access_log(session: AsyncSession, user: User, person_id: uuid.UUID) -> list[AccessLogEntry]:
    """Loggkontroll: who accessed the person's data in casework, newest first."""
    person = await repository.get(session, person_id)
    if person is None:
        raise NotFound("There is no such person.")
    rows = await audit.access_log(session, person.pnr)
    # The review itself is an access to the person's data.
    await audit.record(
        session,
        audit.AuditEntry(
            actor=user.sub,
            actor_role="log_reviewer",
            action="read",
            object_type="access_log",
            object_id=str(person_id),
            subject_pnr=person.pnr,
        ),
    )
    return rows


def _apply_citizen_contacts(person: Person, changes: dict[str, str | None]) -> bool:
    """Put the citizen's own mobile and e-mail on the record; True if anything changed."""
    changed = False
    if "mobile" in changes:
        slot = person.sms_phone or 1  # the mobile is the phone SMS alerts use
        if getattr(person, f"phone{slot}") != changes["mobile"]:
            setattr(person, f"phone{slot}", changes["mobile"])
            if changes["mobile"] is None and person.sms_alerts:
                person.sms_alerts, person.sms_phone = False, None  # no number left to alert
            changed = True
    if "email" in changes and person.email != changes["email"]:
        person.email = changes["email"]
        if changes["email"] is None:
            person.email_alerts = False
        changed = True
    return changed


async def adopt_citizen_contacts(session: AsyncSession, person: Person) -> None:
    """A new person starts with the mobile and e-mail the citizen set in Mina sidor."""
    stored = await repository.citizen_contacts(session, person.pnr)
    if stored is not None:
        _apply_citizen_contacts(
            person, {k: v for k, v in (("mobile", stored.mobile), ("email", stored.email)) if v}
        )


async def on_contact_details_changed(
    session: AsyncSession, event: ContactDetailsChanged, envelope: Envelope
) -> None:
    """The citizen changed mobile or e-mail in Mina sidor: update the person record,
    and the alerts when they go to those addresses. Only fields this event is the
    newest news of are applied (by the profile version), so a replayed or late
    event never puts back an older number over a newer one or a caseworker's edit."""
    changes = await repository.remember_citizen_contacts(
        session,
        str(event.pnr),
        {field: getattr(event, field) for field in event.changed},
        event.version,
        event.changed_at,
    )
    if not changes:
        return  # older than what casework holds: nothing to do
    person = await repository.by_pnr_locked(session, str(event.pnr))
    if person is None:
        return  # not a person in casework yet: adopted when one is created
    before = _alert_addresses(person)
    if not _apply_citizen_contacts(person, changes):
        return
    person.updated_at = datetime.now(UTC)
    # The actor is intake's event (role system); the reason says the citizen made the change.
    entry = audit.from_event(envelope, "update", "person", person.id, person.pnr)
    await audit.record(session, replace(entry, reason="contact details changed by the citizen"))
    if person.messages_enabled and _alert_addresses(person) != before:
        await announce_e_service(session, person)
