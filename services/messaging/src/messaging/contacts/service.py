"""Contact lists (kontaktlistor, MS-5): a staff member's own named lists of
recipients to pick from when writing: colleagues (their personal mailboxes),
group mailboxes, and clients they may write to.

- Own lists only: another's list is refused (403) and the refusal audited, once
  per client on it (their personal data is what was reached for).
- Entries are checked when saved: a staff or group entry must be such a mailbox;
  a client only while their e-service is on and the owner may write to them
  under the right to send (MS-3, `rights`), a refusal audited as for a message.
- A client is shown "Name (YYYYMMDD-XXXX)" while the owner may still write to
  them; afterwards (another caseworker took over, the e-service was turned off)
  the entry stays, marked unavailable, its name and personnummer withheld.
- Every show, create, change and delete of a list with clients on it is audited,
  one row per client."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.contacts import repository
from messaging.contacts.models import ContactList, ContactListEntry, EntryKind
from messaging.contacts.schemas import ContactEntryIn, ContactEntryOut, ContactListForm, ContactListOut
from messaging.mailboxes import service as mailboxes
from messaging.models import EServicePerson, Mailbox, MailboxKind
from messaging.people import pnr_label, staff_role
from messaging.rights import service as rights
from shared import audit
from shared.auth import User
from shared.problems import Conflict, NotAllowed, NotFound

OBJECT_TYPE = "contact_list"
MAX_LISTS = 100  # per staff member
WITHHELD = "Ej längre tillgänglig"  # a client the owner may no longer write to

_MAILBOX_KINDS = {EntryKind.STAFF: MailboxKind.PERSONAL, EntryKind.GROUP: MailboxKind.GROUP}


def _entry(user: User, action: str, list_id: uuid.UUID, pnr: str | None = None) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role=staff_role(user),
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(list_id),
        subject_pnr=pnr,
    )


async def _audit_clients(
    session: AsyncSession, user: User, action: str, list_id: uuid.UUID, pnrs: Iterable[str]
) -> None:
    await audit.record(session, *(_entry(user, action, list_id, pnr) for pnr in dict.fromkeys(pnrs)))


async def _persons(
    session: AsyncSession, entries: Iterable[ContactListEntry]
) -> dict[uuid.UUID, EServicePerson]:
    found: dict[uuid.UUID, EServicePerson] = {}
    for entry in entries:
        if entry.kind == EntryKind.CITIZEN and entry.target_id not in found:
            person = await mailboxes.e_service_person(session, entry.target_id)
            if person is not None:
                found[person.person_id] = person
    return found


async def _owned(
    session: AsyncSession, user: User, list_id: uuid.UUID, action: str, lock: bool
) -> ContactList:
    """The user's own list; another's is refused, audited once per client on it."""
    contact_list = await (repository.get_locked_list if lock else repository.get)(session, list_id)
    if contact_list is None:
        raise NotFound("There is no such contact list.")
    if contact_list.owner_sub == user.sub:
        return contact_list
    error = NotAllowed("This contact list is not yours.")
    entries = (await repository.entries_of(session, [list_id]))[list_id]
    pnrs: list[str | None] = [p.pnr for p in (await _persons(session, entries)).values()]
    for pnr in pnrs or [None]:
        await audit.refuse(session, _entry(user, action, list_id, pnr), error)
    raise error


async def _checked(
    session: AsyncSession, user: User, list_id: uuid.UUID, wanted: Sequence[ContactEntryIn], action: str
) -> tuple[list[ContactListEntry], list[str]]:
    """The entries to store, each checked; and the personnummer of the clients among them."""
    unique = list(dict.fromkeys((e.kind, e.id) for e in wanted))
    boxes = {m.id: m for m in await mailboxes.many(session, [i for k, i in unique if k != EntryKind.CITIZEN])}
    pnrs: list[str] = []
    for kind, target in unique:
        if kind == EntryKind.CITIZEN:
            person = await mailboxes.e_service_person(session, target)
            # Whether a client's e-service is on is state, not the request's shape: 409.
            if person is None or not person.messages_enabled:
                raise Conflict(
                    "A client on a contact list needs an active e-service: the message function is off.",
                    id=str(target),
                )
            await rights.check_may_write(session, user, person.person_id, person.pnr, action)
            pnrs.append(person.pnr)
        else:
            box = boxes.get(target)
            # Which mailboxes exist, and of what kind, is state too: 409.
            if box is None or box.kind != _MAILBOX_KINDS[kind]:
                raise Conflict(f"The entry is not a {kind} mailbox.", id=str(target))
    entries = [
        ContactListEntry(list_id=list_id, position=position, kind=kind, target_id=target)
        for position, (kind, target) in enumerate(unique)
    ]
    return entries, pnrs


async def _named_free(session: AsyncSession, user: User, name: str, list_id: uuid.UUID | None) -> None:
    same = await repository.named(session, user.sub, name)
    if same is not None and same.id != list_id:
        raise Conflict("You have a contact list with that name already.")


def _shown(
    user_may_write: dict[uuid.UUID, bool],
    boxes: dict[uuid.UUID, Mailbox],
    persons: dict[uuid.UUID, EServicePerson],
    entry: ContactListEntry,
) -> ContactEntryOut:
    if entry.kind == EntryKind.CITIZEN:
        person = persons.get(entry.target_id)
        if person is not None and user_may_write.get(entry.target_id, False):
            label = pnr_label(person.name, person.pnr)
            return ContactEntryOut(kind=entry.kind, id=entry.target_id, label=label, available=True)
        return ContactEntryOut(kind=entry.kind, id=entry.target_id, label=WITHHELD, available=False)
    box = boxes.get(entry.target_id)
    return ContactEntryOut(
        kind=entry.kind,
        id=entry.target_id,
        label=box.name if box is not None else WITHHELD,
        unit=box.unit if box is not None else None,
        available=box is not None,
    )


async def _out(
    session: AsyncSession, user: User, lists: Sequence[ContactList], action: str | None = "read"
) -> list[ContactListOut]:
    """The lists as their owner sees them now; every client shown is audited as
    `action` (None: the caller audited it already, as the write it answers)."""
    entries = await repository.entries_of(session, [c.id for c in lists])
    every = [e for es in entries.values() for e in es]
    boxes = {
        m.id: m
        for m in await mailboxes.many(session, {e.target_id for e in every if e.kind != EntryKind.CITIZEN})
    }
    persons = await _persons(session, every)
    may = {
        p.person_id: p.messages_enabled and await rights.may_write(session, user, p.person_id)
        for p in persons.values()
    }
    shown: list[ContactListOut] = []
    for contact_list in lists:
        out = [_shown(may, boxes, persons, e) for e in entries[contact_list.id]]
        if action is not None:
            await _audit_clients(
                session,
                user,
                action,
                contact_list.id,
                (persons[e.id].pnr for e in out if e.kind == EntryKind.CITIZEN and e.available),
            )
        shown.append(
            ContactListOut(
                id=contact_list.id,
                name=contact_list.name,
                entries=out,
                created_at=contact_list.created_at,
                updated_at=contact_list.updated_at,
            )
        )
    return shown


async def list_mine(session: AsyncSession, user: User) -> list[ContactListOut]:
    """The user's own contact lists, by name."""
    return await _out(session, user, await repository.of_owner(session, user.sub))


async def get(session: AsyncSession, user: User, list_id: uuid.UUID) -> ContactListOut:
    contact_list = await _owned(session, user, list_id, "read", lock=False)
    [out] = await _out(session, user, [contact_list])
    return out


async def create(session: AsyncSession, user: User, form: ContactListForm) -> ContactListOut:
    """A new list of the user's; every entry checked (see the module)."""
    if await repository.count_of_owner(session, user.sub) >= MAX_LISTS:
        # How many lists one has is state: 409, as for a name taken.
        raise Conflict(f"A staff member has at most {MAX_LISTS} contact lists.")
    await _named_free(session, user, form.name, None)
    now = datetime.now(UTC)
    contact_list = ContactList(
        id=uuid.uuid4(), owner_sub=user.sub, name=form.name, created_at=now, updated_at=now
    )
    entries, pnrs = await _checked(session, user, contact_list.id, form.entries, "create")
    await repository.add(session, contact_list)
    await repository.replace_entries(session, contact_list.id, entries)
    await _audit_clients(session, user, "create", contact_list.id, pnrs)
    [out] = await _out(session, user, [contact_list], None)
    return out


async def update(
    session: AsyncSession, user: User, list_id: uuid.UUID, form: ContactListForm
) -> ContactListOut:
    """Rename the user's list and replace its entries (each checked again)."""
    contact_list = await _owned(session, user, list_id, "update", lock=True)
    await _named_free(session, user, form.name, list_id)
    before = (await repository.entries_of(session, [list_id]))[list_id]
    gone = [p.pnr for p in (await _persons(session, before)).values()]
    entries, pnrs = await _checked(session, user, list_id, form.entries, "update")
    contact_list.name = form.name
    contact_list.updated_at = datetime.now(UTC)
    await repository.replace_entries(session, list_id, entries)
    await _audit_clients(session, user, "update", list_id, [*gone, *pnrs])
    [out] = await _out(session, user, [contact_list], None)
    return out


async def delete(session: AsyncSession, user: User, list_id: uuid.UUID) -> None:
    contact_list = await _owned(session, user, list_id, "delete", lock=True)
    before = (await repository.entries_of(session, [list_id]))[list_id]
    pnrs = [p.pnr for p in (await _persons(session, before)).values()]
    await repository.remove(session, contact_list)
    await _audit_clients(session, user, "delete", list_id, pnrs)
