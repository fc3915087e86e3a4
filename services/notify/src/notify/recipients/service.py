"""Who is alerted where (NT-1..NT-3).

Kept from casework's events: a person's alert settings (EServiceSettingsChanged;
a settings event for a person notify has not seen creates the projection), the
related persons' approvals (a revocation is final) and the units handling the
person (CaseworkerAssigned: whose caseworkers may read the alert history).

The recipient rule: the citizen when `alert_recipients` is citizen or both; each
related person listed with their own number/address when it is related or both,
and only while an approval of theirs for the person is valid today (Swedish
date, not revoked). Each recipient gets one alert per channel that is on: SMS
when a number is set, e-mail when an address is set."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notify.config import TIME_ZONE
from notify.models import AlertSettings, Channel, Recipient
from notify.recipients import repository
from shared import audit
from shared.contracts.casework import (
    CaseworkerAssigned,
    EServiceSettingsChanged,
    RelatedPersonApprovalChanged,
    RelatedPersonApprovalRevoked,
    RelatedPersonApproved,
)
from shared.events import Envelope

CITIZEN_KEY = "citizen"  # the citizen's recipient_key; a related person's is their personnummer


@dataclass(frozen=True)
class Target:
    """One recipient on one channel: what an alert is planned for."""

    recipient: Recipient
    recipient_key: str
    channel: Channel
    address: str  # PD: never logged


def swedish_date(moment: datetime) -> date:
    """The civil date in Sweden at `moment` (approvals are valid by date)."""
    return moment.astimezone(TIME_ZONE).date()


def _channels(sms_number: str | None, email: str | None) -> list[tuple[Channel, str]]:
    channels: list[tuple[Channel, str]] = []
    if sms_number:
        channels.append((Channel.SMS, sms_number))
    if email:
        channels.append((Channel.EMAIL, email))
    return channels


async def targets(session: AsyncSession, settings: AlertSettings, today: date) -> list[Target]:
    """Every recipient and channel the person's current settings alert, on `today`."""
    found: list[Target] = []
    if settings.alert_recipients in ("citizen", "both"):
        found += [
            Target(Recipient.CITIZEN, CITIZEN_KEY, channel, address)
            for channel, address in _channels(settings.sms_number, settings.email)
        ]
    if settings.alert_recipients in ("related", "both") and settings.related_alerts:
        approved = {
            a.related_pnr
            for a in await repository.approvals_of(session, settings.person_id)
            if a.valid_on(today)
        }
        seen: set[str] = set()
        for entry in settings.related_alerts:
            pnr = str(entry.get("related_pnr", ""))
            if pnr not in approved or pnr in seen:
                continue  # no valid approval today (expired, revoked, not yet): never alerted
            seen.add(pnr)
            found += [
                Target(Recipient.RELATED, pnr, channel, address)
                for channel, address in _channels(entry.get("sms_number"), entry.get("email"))
            ]
    return found


async def address_for(
    session: AsyncSession, person_id: uuid.UUID, recipient_key: str, channel: Channel, today: date
) -> str | None:
    """Where the recipient is alerted on `channel` by the person's CURRENT settings
    (None if that channel is off, the recipient no longer alerted, or a related
    person's approval is not valid today). The sender's fallback asks this."""
    settings = await repository.settings_of(session, person_id)
    if settings is None or not settings.messages_enabled:
        return None
    for target in await targets(session, settings, today):
        if target.recipient_key == recipient_key and target.channel == channel:
            return target.address
    return None


async def on_e_service_settings_changed(
    session: AsyncSession, event: EServiceSettingsChanged, envelope: Envelope
) -> None:
    """Keep where the person's alerts go; a newer version replaces an older one, from the next alert on."""
    row = {
        "person_id": event.person_id,
        "pnr": str(event.pnr),
        "messages_enabled": event.messages_enabled,
        "sms_number": event.sms_number,
        "email": event.email,
        "alert_recipients": event.alert_recipients,
        # Names are not kept: no alert ever says one.
        "related_alerts": [
            {"related_pnr": str(a.related_pnr), "sms_number": a.sms_number, "email": a.email}
            for a in event.related_alerts
        ],
        "protected_identity": event.protected_identity,
        "version": event.version,
        "changed_at": event.changed_at,
    }
    if await repository.apply_settings(session, row):
        await audit.record(
            session, audit.from_event(envelope, "update", "alert_settings", event.person_id, event.pnr)
        )


def _approval_row(
    event: RelatedPersonApproved | RelatedPersonApprovalChanged | RelatedPersonApprovalRevoked,
) -> dict[str, object]:
    facts = event.projection_row()
    keep = ("approval_id", "person_id", "related_pnr", "valid_from", "valid_to", "changed_at", "version")
    return {name: facts[name] for name in keep}


async def _audit_approval(
    session: AsyncSession,
    envelope: Envelope,
    event: RelatedPersonApproved | RelatedPersonApprovalChanged | RelatedPersonApprovalRevoked,
) -> None:
    await audit.record(
        session, audit.from_event(envelope, "update", "approval", event.approval_id, event.citizen_pnr)
    )


async def on_approved(
    session: AsyncSession, event: RelatedPersonApproved | RelatedPersonApprovalChanged, envelope: Envelope
) -> None:
    """Record or update an approval, unless a newer version was applied or it was revoked."""
    if await repository.apply_approval(session, _approval_row(event)):
        await _audit_approval(session, envelope, event)


async def on_revoked(session: AsyncSession, event: RelatedPersonApprovalRevoked, envelope: Envelope) -> None:
    """Mark an approval revoked for good: the related person is never alerted through it again."""
    if await repository.apply_revocation(session, _approval_row(event)):
        await _audit_approval(session, envelope, event)


async def on_caseworker_assigned(
    session: AsyncSession, event: CaseworkerAssigned, envelope: Envelope
) -> None:
    """The unit's caseworkers may now read the person's alert history."""
    row = {
        "person_id": event.person_id,
        "unit": event.unit,
        "pnr": str(event.citizen_pnr),
        "assigned_at": event.assigned_at,
    }
    if await repository.apply_person_unit(session, row):
        await audit.record(
            session, audit.from_event(envelope, "update", "person_unit", event.person_id, event.citizen_pnr)
        )


async def pnr_of(session: AsyncSession, person_id: uuid.UUID) -> str | None:
    """The citizen's personnummer (the audit log's subject), from the alert settings."""
    found = await repository.pnrs_of(session, [person_id])
    return found.get(person_id)
