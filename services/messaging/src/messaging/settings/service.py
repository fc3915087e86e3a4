"""Settings (Inställningar, MS-8) and absence (Frånvaro, MS-7).

A staff user keeps their signature, their absence message (frånvaromeddelande,
on/off, optional period of civil dates in Europe/Stockholm) and the group mailbox
their messages are forwarded to while away (vidarebefordran), and sees the group
mailboxes they have access to. Planned absence: the user sets it. Unplanned
absence (sick leave): an administrator with the permission (`messaging_admin`
or `admin`) sets it for a colleague. Forwarding goes only to a group mailbox the
absent user is a member of; anything else is refused, audited, nothing written.

While a user is away (absence on, today inside the period) the messages module's
delivery asks `away` who of the recipients is absent: it sends the automatic
reply once per conversation and sender (`claim_auto_reply`) and also delivers
the message to the forwarding group mailbox, noting why (`record_forward`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.config import TIME_ZONE
from messaging.mailboxes import service as mailboxes
from messaging.models import Mailbox, MailboxKind
from messaging.people import staff_role
from messaging.settings import repository
from messaging.settings.models import StaffSettings
from messaging.settings.schemas import (
    AbsenceForm,
    AbsenceOut,
    ForwardedOut,
    GroupMailboxOut,
    SettingsForm,
    SettingsOut,
)
from shared import audit
from shared.auth import Role, User
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

# May set a colleague's absence and forwarding (unplanned absence, the routine's
# "administratör med särskild behörighet", superuser or system administrator).
ABSENCE_ADMIN_ROLES = frozenset({Role.MESSAGING_ADMIN, Role.ADMIN})


def _entry(
    user: User, role: str, action: str, object_type: str, sub: str, reason: str | None = None
) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub, actor_role=role, action=action, object_type=object_type, object_id=sub, reason=reason
    )


def _group_out(mailbox: Mailbox) -> GroupMailboxOut:
    return GroupMailboxOut(id=mailbox.id, name=mailbox.name, unit=mailbox.unit)


def _today() -> datetime:
    return datetime.now(TIME_ZONE)


async def _absence_out(session: AsyncSession, row: StaffSettings | None) -> AbsenceOut:
    forward_to = None
    if row is not None and row.forward_to_mailbox_id is not None:
        box = await mailboxes.get(session, row.forward_to_mailbox_id)
        forward_to = _group_out(box) if box is not None else None
    if row is None:
        return AbsenceOut(
            enabled=False,
            message="",
            valid_from=None,
            valid_to=None,
            forward_to=None,
            active_today=False,
            set_by=None,
            set_by_name=None,
            set_at=None,
        )
    return AbsenceOut(
        enabled=row.absence_enabled,
        message=row.absence_message,
        valid_from=row.absence_from,
        valid_to=row.absence_to,
        forward_to=forward_to,
        active_today=row.away_on(_today().date()),
        set_by=row.absence_set_by,
        set_by_name=row.absence_set_by_name,
        set_at=row.absence_set_at,
    )


async def _forward_target(
    session: AsyncSession,
    form: AbsenceForm,
    member_units: Collection[str],
    refused: audit.AuditEntry,
) -> None:
    """The forwarding mailbox must be a group mailbox of one of the absent user's
    units. A mailbox that does not exist or is no group is a conflict with what is
    stored (409; the form itself is well made), another unit's is refused (audited)."""
    if form.forward_to_mailbox_id is None:
        return
    box = await mailboxes.get(session, form.forward_to_mailbox_id)
    if box is None or box.kind != MailboxKind.GROUP:
        raise Conflict(
            "Forwarding (forward_to_mailbox_id) goes to a group mailbox (gemensam brevlåda).",
            mailbox_id=str(form.forward_to_mailbox_id),
        )
    if box.unit not in member_units:
        raise await audit.refuse(
            session,
            refused,
            NotAllowed("Forwarding goes only to a group mailbox the absent user is a member of."),
        )


def _apply_absence(row: StaffSettings, form: AbsenceForm, by: User, now: datetime) -> bool:
    """Write the absence into the row; whether it changed (then who set it is noted)."""
    new = (form.enabled, form.message, form.valid_from, form.valid_to, form.forward_to_mailbox_id)
    old = (
        row.absence_enabled,
        row.absence_message,
        row.absence_from,
        row.absence_to,
        row.forward_to_mailbox_id,
    )
    if new == old:
        return False
    row.absence_enabled = form.enabled
    row.absence_message = form.message
    row.absence_from = form.valid_from
    row.absence_to = form.valid_to
    row.forward_to_mailbox_id = form.forward_to_mailbox_id
    row.absence_set_by = by.sub
    row.absence_set_by_name = by.name or by.sub
    row.absence_set_at = now
    return True


# ---- one's own settings ------------------------------------------------------


async def mine(session: AsyncSession, user: User) -> SettingsOut:
    """The user's settings and the group mailboxes they have access to."""
    boxes = await mailboxes.usable(session, user)
    row = await repository.get(session, user.sub)
    await audit.record(session, _entry(user, staff_role(user), "read", "staff_settings", user.sub))
    return SettingsOut(
        signature=row.signature if row is not None else "",
        absence=await _absence_out(session, row),
        group_mailboxes=[_group_out(m) for m in boxes if m.kind == MailboxKind.GROUP],
    )


async def update_mine(session: AsyncSession, user: User, form: SettingsForm) -> SettingsOut:
    """Replace one's settings: signature, absence and forwarding (planned absence)."""
    role = staff_role(user)
    await mailboxes.usable(session, user)  # the user is in the directory, with their personal mailbox
    await _forward_target(
        session, form.absence, user.units, _entry(user, role, "update", "staff_settings", user.sub)
    )
    now = datetime.now(UTC)
    row = await repository.locked(session, user.sub)
    row.signature = form.signature
    _apply_absence(row, form.absence, user, now)
    row.updated_at = now
    await session.flush()
    await audit.record(session, _entry(user, role, "update", "staff_settings", user.sub))
    return await mine(session, user)


# ---- a colleague's absence (unplanned) ----------------------------------------


async def _admin(session: AsyncSession, user: User, action: str, sub: str) -> str:
    """The administrator's role, if they hold the permission; else a refusal, audited."""
    held = sorted(r for r in ABSENCE_ADMIN_ROLES if user.has(r))
    if not held:
        raise await audit.refuse(
            session,
            _entry(user, staff_role(user), action, "staff_absence", sub),
            NotAllowed("Setting a colleague's absence needs the messaging administrator permission."),
        )
    return str(held[0])


async def colleague_absence(session: AsyncSession, user: User, sub: str) -> AbsenceOut:
    """A colleague's absence, for an administrator with the permission."""
    role = await _admin(session, user, "read", sub)
    if await mailboxes.staff_member(session, sub) is None:
        raise NotFound("There is no such staff member in messaging's directory.")
    row = await repository.get(session, sub)
    await audit.record(session, _entry(user, role, "read", "staff_absence", sub))
    return await _absence_out(session, row)


async def set_colleague_absence(session: AsyncSession, user: User, sub: str, form: AbsenceForm) -> AbsenceOut:
    """Unplanned absence: an administrator with the permission sets the absence
    message and forwarding for a colleague (to one of the colleague's group
    mailboxes). The act is audited with who did it for whom."""
    role = await _admin(session, user, "update", sub)
    colleague = await mailboxes.staff_member(session, sub)
    if colleague is None:
        raise NotFound("There is no such staff member in messaging's directory (they never used messaging).")
    reason = f"absence set for {sub} by {user.sub}"
    await _forward_target(
        session, form, colleague.units, _entry(user, role, "update", "staff_absence", sub, reason)
    )
    now = datetime.now(UTC)
    row = await repository.locked(session, sub)
    _apply_absence(row, form, user, now)
    row.updated_at = now
    await session.flush()
    await audit.record(session, _entry(user, role, "update", "staff_absence", sub, reason))
    return await _absence_out(session, row)


# ---- delivery (called by the messages module) ---------------------------------


async def away(session: AsyncSession, subs: Collection[str]) -> dict[str, StaffSettings]:
    """Who of these staff users is away today (absence on, today inside the period)."""
    today = _today().date()
    return {row.sub: row for row in await repository.of_subs(session, set(subs)) if row.away_on(today)}


async def claim_auto_reply(
    session: AsyncSession,
    absent_sub: str,
    conversation_id: uuid.UUID,
    sender_mailbox_id: uuid.UUID,
    reply_id: uuid.UUID,
) -> bool:
    """Whether the automatic reply `reply_id` is to be sent: once per conversation and sender."""
    return await repository.claim_auto_reply(
        session,
        {
            "absent_sub": absent_sub,
            "conversation_id": conversation_id,
            "sender_mailbox_id": sender_mailbox_id,
            "reply_id": reply_id,
            "sent_at": datetime.now(UTC),
        },
    )


async def record_forward(
    session: AsyncSession,
    message_id: uuid.UUID,
    group_mailbox_id: uuid.UUID,
    absent_sub: str,
    absent_mailbox_id: uuid.UUID,
) -> None:
    """Note that the message is in the group mailbox because `absent_sub` is away."""
    await repository.add_forward(
        session,
        {
            "message_id": message_id,
            "mailbox_id": group_mailbox_id,
            "absent_sub": absent_sub,
            "absent_mailbox_id": absent_mailbox_id,
            "forwarded_at": datetime.now(UTC),
        },
    )


async def forwarded_for(
    session: AsyncSession, mailbox_id: uuid.UUID, message_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """For the messages module's views: message id -> the absent member it was forwarded for."""
    rows = await repository.forwarded_to(session, mailbox_id, message_ids)
    names = {m.id: m.name for m in await mailboxes.many(session, {r.absent_mailbox_id for r in rows})}
    return {r.message_id: names.get(r.absent_mailbox_id, r.absent_sub) for r in rows}


async def forwarded_in(session: AsyncSession, user: User, mailbox_id: uuid.UUID) -> list[ForwardedOut]:
    """The messages forwarded to one of the user's group mailboxes for absent members, newest first."""
    box = await mailboxes.check_use(session, user, mailbox_id, "list")
    if box.kind != MailboxKind.GROUP:
        raise InvalidInput("Messages are forwarded for absence only to group mailboxes.")
    rows = await repository.forwarded_to(session, box.id)
    names = {m.id: m.name for m in await mailboxes.many(session, {r.absent_mailbox_id for r in rows})}
    await audit.record(session, _entry(user, staff_role(user), "list", "absence_forwards", str(box.id)))
    return [
        ForwardedOut(
            message_id=r.message_id,
            forwarded_for=names.get(r.absent_mailbox_id, r.absent_sub),
            forwarded_for_mailbox_id=r.absent_mailbox_id,
            forwarded_at=r.forwarded_at,
        )
        for r in rows
    ]
