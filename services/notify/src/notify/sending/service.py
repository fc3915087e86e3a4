"""The sender's rules: claiming due alerts, what each answer of the gateway or
relay does to an alert, giving up, falling back to the other channel, and the
SMS gateway's delivery reports.

- Accepted: SMS → `accepted`, waiting for the delivery report; e-mail →
  `delivered` at once (relays send no reports: the relay's acceptance is as far
  as notify can follow an e-mail) and the outcome event.
- Temporary failure: `failed`, due again after an exponential backoff with full
  jitter (never past the deadline; an SMS retry is held past the quiet hours,
  which moves the deadline by as much), unless the deadline passed or the
  attempts are used up: then given up.
- Permanent failure (an invalid number, a hard bounce), or a delivery report
  saying the SMS was not delivered: given up at once.
- Given up: the outcome event, and a fallback alert on the other channel when
  the recipient's CURRENT settings have that channel on and no alert on it that
  is not given up already tells about the same triggers. A fallback is never
  itself fallen back from.

Every function here runs in its caller's transaction (the worker's short ones,
or the delivery-report request's); it flushes, never commits.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from notify.alerts import repository, wakeup
from notify.alerts import service as alerts
from notify.alerts.quiet_hours import due_time
from notify.alerts.templates import AlertText
from notify.channels import Accepted, PermanentFailure, SendOutcome, TemporaryFailure
from notify.config import SOURCE, Settings
from notify.models import FINAL_STATUSES, Alert, AlertStatus, Channel, Recipient
from notify.recipients import service as recipients
from notify.sending.backoff import retry_delay
from notify.sending.metrics import DELIVERY_REPORTS, FALLBACKS, OUTCOMES
from notify.sending.schemas import DeliveryReport
from shared import audit
from shared.contracts.notify import AlertOutcome
from shared.outbox import add_event

log = logging.getLogger(__name__)

# The audit log's actors: notify's sender handing an address to the gateway or
# relay, and the SMS gateway reporting on an alert.
SENDER = "notify-sender"
GATEWAY = "sms-gateway"

_CHANNEL_NAME = {Channel.SMS: "SMS", Channel.EMAIL: "e-mail"}


@dataclass(frozen=True)
class Outgoing:
    """A claimed alert and what to send: read in the claim's transaction, sent after it."""

    alert_id: uuid.UUID
    person_id: uuid.UUID
    recipient: Recipient
    recipient_key: str
    channel: Channel
    address: str  # PD: never logged
    attempt: int  # the alert's attempts after this claim: whose outcome a record is
    first_trigger_at: datetime
    subject_pnr: str | None  # the audit log's subject
    text: AlertText


async def claim(session: AsyncSession, settings: Settings, now: datetime, limit: int) -> list[Outgoing]:
    """Claim up to `limit` due alerts (and those of a sender whose lease passed) for
    this sender; the caller commits at once, then sends them."""
    lease_until = now + timedelta(seconds=settings.sender_lease_seconds)
    claimed = await repository.claim_due(session, now, limit, lease_until)
    pnrs: dict[uuid.UUID, str | None] = {}
    outgoing = []
    for alert in claimed:
        subject = await _subject(session, alert, pnrs)
        outgoing.append(
            Outgoing(
                alert_id=alert.id,
                person_id=alert.person_id,
                recipient=Recipient(alert.recipient),
                recipient_key=alert.recipient_key,
                channel=Channel(alert.channel),
                address=alert.address,
                attempt=alert.attempts,
                first_trigger_at=alert.first_trigger_at,
                subject_pnr=subject,
                text=await alerts.text_of(session, alert),
            )
        )
    return outgoing


async def _subject(
    session: AsyncSession, alert: Alert, known: dict[uuid.UUID, str | None] | None = None
) -> str | None:
    """Whose personal data the alert's address is (the audit log's subject): the
    related person's own, or the citizen's."""
    if alert.recipient == Recipient.RELATED:
        return alert.recipient_key
    known = {} if known is None else known
    if alert.person_id not in known:
        known[alert.person_id] = await recipients.pnr_of(session, alert.person_id)
    return known[alert.person_id]


def outcome_name(outcome: SendOutcome) -> str:
    """The outcome as the metrics and the audit log name it."""
    match outcome:
        case Accepted():
            return "accepted"
        case TemporaryFailure():
            return "temporary_failure"
        case PermanentFailure():
            return "permanent_failure"


async def record(
    session: AsyncSession,
    sent: Outgoing,
    outcome: SendOutcome,
    settings: Settings,
    now: datetime,
    rand: Callable[[], float] = random.random,
) -> None:
    """Record what the gateway or relay answered to one claimed alert."""
    await audit.record(
        session,
        audit.AuditEntry(
            actor=SENDER,
            actor_role="system",
            action="send",
            object_type="alert",
            object_id=str(sent.alert_id),
            subject_pnr=sent.subject_pnr,
            reason=f"{sent.channel}: {outcome_name(outcome)}",
        ),
    )
    alert = await repository.locked_alert(session, sent.alert_id)
    if alert is None:
        return
    if alert.status != AlertStatus.SENDING or alert.attempts != sent.attempt:
        # Not ours any more: the delivery report came first (the gateway reports
        # at once), or our lease passed and another sender claimed the alert.
        if (
            isinstance(outcome, Accepted)
            and alert.accepted_at is None
            and alert.provider_id == outcome.provider_id
        ):
            alert.accepted_at = now
        log.info(
            "alert %s: attempt %d's outcome (%s) found the alert %s at attempt %d; left as it is",
            sent.alert_id,
            sent.attempt,
            outcome_name(outcome),
            alert.status,
            alert.attempts,
        )
        return
    match outcome:
        case Accepted(provider_id=provider_id):
            await _accepted(session, alert, provider_id, now)
        case TemporaryFailure(reason=reason):
            await _temporary_failure(session, alert, reason, settings, now, rand)
        case PermanentFailure(reason=reason):
            await give_up(session, alert, reason, settings, now)


async def _accepted(session: AsyncSession, alert: Alert, provider_id: str | None, now: datetime) -> None:
    if alert.channel == Channel.SMS:
        await repository.change_status(
            session,
            alert,
            AlertStatus.ACCEPTED,
            now,
            f"accepted by the SMS gateway as {provider_id}; waiting for its delivery report",
            provider_id=provider_id,
            accepted_at=now,
            lease_until=None,
            last_error=None,
        )
        return
    queued_as = f" (queued as {provider_id})" if provider_id else ""
    await repository.change_status(
        session,
        alert,
        AlertStatus.ACCEPTED,
        now,
        f"accepted by the mail relay{queued_as}",
        provider_id=provider_id,
        accepted_at=now,
        lease_until=None,
        last_error=None,
    )
    await _delivered(
        session, alert, now, "e-mail has no delivery reports: the relay's acceptance counts as delivered"
    )


async def _temporary_failure(
    session: AsyncSession,
    alert: Alert,
    reason: str,
    settings: Settings,
    now: datetime,
    rand: Callable[[], float],
) -> None:
    if alert.attempts >= settings.max_attempts:
        await give_up(session, alert, f"{reason}; no attempts left ({alert.attempts} made)", settings, now)
        return
    if now >= alert.deadline_at:
        await give_up(session, alert, f"{reason}; the retry deadline passed", settings, now)
        return
    wanted = min(
        now + retry_delay(alert.attempts, settings.retry_base_seconds, settings.retry_max_seconds, rand),
        alert.deadline_at,  # the last try falls on the deadline, not after it
    )
    due_at = due_time(alert.channel, wanted, settings)
    changes: dict[str, object] = {"due_at": due_at, "lease_until": None, "last_error": reason}
    detail = f"{reason}; next attempt at {due_at.isoformat(timespec='seconds')}"
    if due_at > wanted:
        # Held past the SMS quiet hours: the deadline moves with it, so the hours
        # the alert may not go count against nothing.
        changes["deadline_at"] = alert.deadline_at + (due_at - wanted)
        detail += " (after the SMS quiet hours)"
    await repository.change_status(session, alert, AlertStatus.FAILED, now, detail, **changes)


async def _delivered(
    session: AsyncSession, alert: Alert, now: datetime, detail: str, **changes: object
) -> None:
    await repository.change_status(
        session, alert, AlertStatus.DELIVERED, now, detail, finished_at=now, lease_until=None, **changes
    )
    await _emit_outcome(session, alert, "delivered", now)


async def give_up(
    session: AsyncSession, alert: Alert, reason: str, settings: Settings, now: datetime
) -> None:
    """Stop trying the alert (its outcome event goes out) and fall back to the other channel if that fits."""
    await repository.change_status(
        session,
        alert,
        AlertStatus.GIVEN_UP,
        now,
        reason,
        finished_at=now,
        lease_until=None,
        last_error=reason,
    )
    log.info("alert %s (%s) given up", alert.id, alert.channel)
    await _emit_outcome(session, alert, "given_up", now)
    await _fall_back(session, alert, settings, now)


async def _emit_outcome(
    session: AsyncSession, alert: Alert, outcome: Literal["delivered", "given_up"], now: datetime
) -> None:
    OUTCOMES.labels(alert.channel, outcome).inc()
    triggers = await repository.triggers_of(session, alert.id)
    await add_event(
        session,
        AlertOutcome(
            alert_id=alert.id,
            person_id=alert.person_id,
            recipient=Recipient(alert.recipient).value,
            channel=Channel(alert.channel).value,
            outcome=outcome,
            fallback_of=alert.fallback_of,
            message_ids=[t.message_id for t in triggers],
            decided_at=now,
        ),
        SOURCE,
    )


async def _fall_back(session: AsyncSession, alert: Alert, settings: Settings, now: datetime) -> Alert | None:
    """The given-up alert's fallback on the other channel, when one fits (else None)."""
    if alert.fallback_of is not None:
        return None  # a fallback is never itself fallen back from
    other = Channel.EMAIL if alert.channel == Channel.SMS else Channel.SMS
    address = await recipients.address_for(
        session, alert.person_id, alert.recipient_key, other, recipients.swedish_date(now)
    )
    if address is None or await repository.covered_on(session, alert, other):
        return None
    due_at, deadline_at = alerts.schedule(other, now, settings)
    fallback = Alert(
        id=uuid.uuid4(),
        person_id=alert.person_id,
        recipient=alert.recipient,
        recipient_key=alert.recipient_key,
        channel=other,
        address=address,
        kind=alert.kind,
        status=AlertStatus.QUEUED,
        due_at=due_at,
        deadline_at=deadline_at,
        attempts=0,
        fallback_of=alert.id,
        coalesced=alert.coalesced,
        first_trigger_at=alert.first_trigger_at,
        created_at=now,
    )
    held = "; held until the end of the SMS quiet hours" if due_at > now else ""
    await repository.add_alert(
        session, fallback, f"fallback of {_CHANNEL_NAME[Channel(alert.channel)]} alert {alert.id}{held}"
    )
    await repository.copy_triggers(session, alert.id, fallback.id)
    await repository.add_history(
        session,
        alert.id,
        AlertStatus.GIVEN_UP,
        now,
        f"falls back to {_CHANNEL_NAME[other]}: alert {fallback.id}",
    )
    await audit.record(
        session,
        audit.AuditEntry(
            actor=SENDER,
            actor_role="system",
            action="create",
            object_type="alert",
            object_id=str(fallback.id),
            subject_pnr=await _subject(session, alert),
            reason=f"fallback of alert {alert.id}",
        ),
    )
    FALLBACKS.labels(other).inc()
    log.info("alert %s falls back to %s as alert %s", alert.id, other, fallback.id)
    wakeup.wake_after_commit(session)
    return fallback


async def apply_delivery_report(
    session: AsyncSession, report: DeliveryReport, settings: Settings, now: datetime
) -> Literal["recorded", "ignored"]:
    """Apply the SMS gateway's delivery report: delivered → the alert is delivered;
    failed → given up (and the fallback); sent → a history row. A report for an
    unknown gateway id or an alert already final is ignored."""
    alert = await _reported_alert(session, report)
    if alert is None or alert.status in FINAL_STATUSES:
        why = "unknown gateway id" if alert is None else "alert already final"
        log.info("delivery report %s for gateway id %s ignored: %s", report.status, report.id, why)
        DELIVERY_REPORTS.labels("ignored").inc()
        return "ignored"
    if report.status == "sent":
        await repository.add_history(
            session, alert.id, alert.status, now, "the gateway reported the SMS sent on to the operator"
        )
    elif report.status == "delivered":
        when = f" at {report.delivered.isoformat(timespec='seconds')}" if report.delivered else ""
        changes: dict[str, object] = {"provider_id": report.id}
        if alert.accepted_at is None:
            changes["accepted_at"] = now  # the report overtook the sender's record of acceptance
        await _delivered(session, alert, now, f"the gateway reported the SMS delivered{when}", **changes)
    else:
        alert.provider_id = report.id
        await give_up(session, alert, "the gateway reported the SMS undelivered", settings, now)
    await audit.record(
        session,
        audit.AuditEntry(
            actor=GATEWAY,
            actor_role="system",
            action="update",
            object_type="alert",
            object_id=str(alert.id),
            subject_pnr=await _subject(session, alert),
            reason=f"delivery report: {report.status}",
        ),
    )
    DELIVERY_REPORTS.labels("recorded").inc()
    return "recorded"


async def _reported_alert(session: AsyncSession, report: DeliveryReport) -> Alert | None:
    """The SMS alert a report is about, locked: by the gateway's id, or, while the
    sender has not yet recorded that id (the gateway reports at once), by the
    alert id the callback URL carries."""
    alert = await repository.locked_alert_by_provider_id(session, report.id)
    if alert is not None or report.alert_id is None:
        return alert if alert is not None and alert.channel == Channel.SMS else None
    candidate = await repository.locked_alert(session, report.alert_id)
    if (
        candidate is not None
        and candidate.channel == Channel.SMS
        and candidate.status == AlertStatus.SENDING
        and candidate.provider_id is None
    ):
        return candidate
    return None
