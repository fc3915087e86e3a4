"""Mailboxes and who may use them (MS-1, MS-2, MS-6):

- a staff member's personal mailbox, created on first use from their token;
- a unit's group mailbox (gemensam brevlåda), used by every staff member whose
  token lists the unit;
- a citizen's e-service mailbox, which exists and acts only while casework says
  the message function is on (EServiceSettingsChanged, effective at once): the
  citizen uses it, and a related person inside an approval period.

The staff directory (staff as their tokens last showed them) and the
e-service projection feed the recipient search."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.mailboxes import repository
from messaging.mailboxes.schemas import RecipientOut, RecipientSearch
from messaging.models import AuthorRole, EServicePerson, Mailbox, MailboxKind, StaffMember
from messaging.people import pnr_label, staff_role
from messaging.rights import service as rights
from shared import audit
from shared.auth import User
from shared.contracts.casework import EServiceSettingsChanged
from shared.events import Envelope
from shared.personnummer import InvalidPersonnummer, Personnummer
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

_PNR_LIKE = re.compile(r"^\d{6,8}[-+]?\d{4}$")
SEARCH_LIMIT = 20


async def remember(session: AsyncSession, user: User) -> Mailbox:
    """Note the staff member in the directory; their personal mailbox."""
    await repository.remember_staff(
        session,
        {
            "sub": user.sub,
            "name": user.name,
            "units": list(user.units),
            "provider_id": user.provider_id,
            "last_seen_at": datetime.now(UTC),
        },
    )
    return await repository.ensure_personal(session, user.sub, user.name or user.sub)


async def usable(session: AsyncSession, user: User) -> list[Mailbox]:
    """The staff member's mailboxes: their own, then their units' group mailboxes."""
    personal = await remember(session, user)
    return [personal, *await repository.groups_of(session, user.units)]


def may_use(user: User, mailbox: Mailbox) -> bool:
    """Whether a staff member may use the mailbox (a citizen's is never a staff mailbox)."""
    if mailbox.kind == MailboxKind.PERSONAL:
        return mailbox.owner_sub == user.sub
    if mailbox.kind == MailboxKind.GROUP:
        return mailbox.unit in user.units
    return False


async def check_use(
    session: AsyncSession, user: User, mailbox_id: uuid.UUID, action: str, subject_pnr: str | None = None
) -> Mailbox:
    """The staff mailbox, if the user may use it; else a refusal, audited."""
    mailbox = await repository.get(session, mailbox_id)
    if mailbox is None:
        raise NotFound("There is no such mailbox.")
    if not may_use(user, mailbox):
        entry = audit.AuditEntry(
            actor=user.sub,
            actor_role=staff_role(user),
            action=action,
            object_type="mailbox",
            object_id=str(mailbox_id),
            subject_pnr=subject_pnr,
        )
        raise await audit.refuse(session, entry, NotAllowed("This mailbox is not yours to use."))
    if mailbox.kind == MailboxKind.PERSONAL:
        await remember(session, user)
    return mailbox


async def staff_recipients(session: AsyncSession, ids: Collection[uuid.UUID]) -> list[Mailbox]:
    """The personal and group mailboxes a message is addressed to (Till)."""
    found = {m.id: m for m in await repository.many(session, set(ids))}
    for mailbox_id in ids:
        mailbox = found.get(mailbox_id)
        if mailbox is None or mailbox.kind == MailboxKind.CITIZEN:
            raise InvalidInput(
                "A recipient (Till) is not a staff or group mailbox; a citizen is addressed as "
                "to_client (Till klient).",
                mailbox_id=str(mailbox_id),
            )
    return [found[i] for i in dict.fromkeys(ids)]


async def personal_of(session: AsyncSession, sub: str, name: str) -> Mailbox:
    """A staff member's personal mailbox, created if they never used it."""
    return await repository.ensure_personal(session, sub, name)


async def get(session: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox | None:
    return await repository.get(session, mailbox_id)


async def many(session: AsyncSession, ids: Collection[uuid.UUID]) -> list[Mailbox]:
    return await repository.many(session, set(ids))


async def active_citizen(session: AsyncSession, person_id: uuid.UUID) -> tuple[Mailbox, EServicePerson]:
    """The person's e-service mailbox, if their message function is on now."""
    person = await repository.e_service_person(session, person_id)
    mailbox = await repository.of_person(session, person_id)
    if person is None or not person.messages_enabled or mailbox is None:
        raise Conflict("The person has no active e-service: the message function is off.")
    return mailbox, person


async def e_service_person(session: AsyncSession, person_id: uuid.UUID) -> EServicePerson | None:
    return await repository.e_service_person(session, person_id)


@dataclass(frozen=True)
class CitizenSide:
    """A citizen's e-service mailbox as the caller uses it: the citizen themselves,
    or a related person acting for them (whose approval is `approval_id`)."""

    mailbox: Mailbox
    person: EServicePerson
    role: AuthorRole
    approval_id: uuid.UUID | None = None

    def entry(self, user: User, action: str, object_type: str, object_id: object) -> audit.AuditEntry:
        return audit.AuditEntry(
            actor=user.sub,
            actor_role=self.role,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            subject_pnr=self.person.pnr,
        )


async def citizen_side(
    session: AsyncSession, user: User, acting_for: uuid.UUID | None, action: str
) -> CitizenSide:
    """The e-service mailbox the citizen (or, with `acting_for`, the related person
    inside the approval period) may use now."""
    if acting_for is not None:
        representation = await rights.acting_for(session, user, acting_for, action)
        person = await repository.e_service_person(session, representation.person_id)
        role, detail = AuthorRole.RELATED_PERSON, "The citizen's message function is not active."
    else:
        person = await repository.enabled_by_pnr(session, str(user.pnr))
        role, detail = AuthorRole.CITIZEN, "Your message function is not active."
    mailbox = None if person is None else await repository.of_person(session, person.person_id)
    if person is None or not person.messages_enabled or mailbox is None:
        raise NotFound(detail)
    return CitizenSide(mailbox, person, role, acting_for)


async def labels(session: AsyncSession, mailboxes: Iterable[Mailbox]) -> dict[uuid.UUID, str]:
    """How each mailbox is shown: a citizen's with the personnummer after the name."""
    boxes = list(mailboxes)
    persons = {
        p.person_id: p
        for p in await repository.e_service_persons(
            session, [m.person_id for m in boxes if m.person_id is not None]
        )
    }
    shown: dict[uuid.UUID, str] = {}
    for mailbox in boxes:
        person = persons.get(mailbox.person_id) if mailbox.person_id else None
        shown[mailbox.id] = pnr_label(person.name, person.pnr) if person else mailbox.name
    return shown


async def search_recipients(session: AsyncSession, user: User, form: RecipientSearch) -> list[RecipientOut]:
    """Citizens with the message function on (always with the personnummer after
    the name), staff and group mailboxes (MS-2); every citizen shown is audited."""
    await remember(session, user)
    found: list[RecipientOut] = []
    query = form.query
    if form.kind in (None, "citizen"):
        if _PNR_LIKE.match(query):
            try:
                pnr = str(Personnummer(query))
            except InvalidPersonnummer as exc:
                raise InvalidInput(f"The personnummer is not valid: {exc}") from None
            citizens = await repository.search_citizens(session, pnr=pnr, limit=SEARCH_LIMIT)
        else:
            citizens = await repository.search_citizens(session, name=query, limit=SEARCH_LIMIT)
        await audit.record_each(
            session,
            user.sub,
            staff_role(user),
            "search",
            "e_service_person",
            ((c.person_id, c.pnr) for c in citizens),
        )
        found += [
            RecipientOut(kind="citizen", id=c.person_id, label=pnr_label(c.name, c.pnr)) for c in citizens
        ]
    if form.kind in (None, "staff") and not _PNR_LIKE.match(query):
        staff = await repository.search_staff(session, query, SEARCH_LIMIT)
        found += [RecipientOut(kind="staff", id=m.id, label=m.name) for m in staff]
    if form.kind in (None, "group") and not _PNR_LIKE.match(query):
        groups = await repository.search_groups(session, query, SEARCH_LIMIT)
        found += [RecipientOut(kind="group", id=m.id, label=m.name, unit=m.unit) for m in groups]
    return found


async def on_e_service_settings_changed(
    session: AsyncSession, event: EServiceSettingsChanged, envelope: Envelope
) -> None:
    """Keep who has the message function on; the mailbox of a person who gets it is
    created at once (and kept, unusable, while it is off)."""
    changed = await repository.apply_e_service(
        session,
        {
            "person_id": event.person_id,
            "pnr": str(event.pnr),
            "name": event.name,
            "messages_enabled": event.messages_enabled,
            "changed_at": event.changed_at,
            "version": event.version,
        },
    )
    if not changed:
        return  # an older or replayed fact
    if event.messages_enabled:
        await repository.ensure_citizen(session, event.person_id, event.name)
    await audit.record(
        session, audit.from_event(envelope, "update", "e_service_person", event.person_id, event.pnr)
    )


async def staff_member(session: AsyncSession, sub: str) -> StaffMember | None:
    """A colleague as their token last showed them (name, units: so which group
    mailboxes), or None if they never used messaging."""
    return await repository.staff_member(session, sub)
