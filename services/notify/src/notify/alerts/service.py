"""Planning: a delivery into a citizen's e-service mailbox (the trigger) becomes
alerts, in the consumer's transaction.

- The person's alert settings row is locked, so two triggers of one person plan
  one after the other. No settings, or the message function off: no alert.
- One alert per recipient and channel that is on (notify.recipients).
- Coalescing per (person, recipient, channel) within the window W: a trigger
  joins the recipient's alert on that channel no sender has claimed yet; else,
  if an alert of theirs went (or goes) within W, a coalesced follow-up is created
  due W after it; else a new alert is due now. So at most one alert per
  recipient and channel per window, and no trigger is left without an alert.
- A replay (the same message for the same recipient and channel) adds nothing.
- A trigger that arrives before the person's alert settings (notify reads
  casework's and messaging's topics independently) waits, and is planned when
  the settings arrive.
- SMS are held past the quiet hours; the deadline counts from the due time.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from notify.alerts import repository, wakeup
from notify.alerts.masking import mask
from notify.alerts.quiet_hours import deadline, due_time
from notify.alerts.schemas import AlertOut, AlertPage, AlertWithHistoryOut, HistoryEntryOut, PersonAlertsOut
from notify.alerts.templates import AlertText, render
from notify.clock import Clock, system_clock
from notify.config import Settings
from notify.models import Alert, AlertKind, AlertStatus, Channel
from notify.recipients import repository as recipients_repository
from notify.recipients import service as recipients
from notify.recipients.service import Target, swedish_date, targets
from shared import audit
from shared.auth import Role, User
from shared.contracts.casework import EServiceSettingsChanged
from shared.contracts.messaging import MessageDeliveredToEService
from shared.events import Envelope
from shared.inbox import Handler
from shared.problems import InvalidInput, NotAllowed

log = logging.getLogger(__name__)

PLANNED = Counter(
    "omsorg_notify_triggers_total",
    "Deliveries into the e-service mailbox by what planning made of them",
    ["outcome"],  # alerted | waiting (no settings yet) | messages_off | no_recipient
)
ALERTS_PLANNED = Counter(
    "omsorg_notify_alerts_planned_total",
    "Triggers planned per channel: as a new alert, a coalesced follow-up, or joining one",
    ["channel", "how"],  # new | follow_up | joined | replay
)


def _new_alert(
    event: MessageDeliveredToEService,
    target: Target,
    due: datetime,
    now: datetime,
    settings: Settings,
    *,
    coalesced: bool,
) -> Alert:
    due_at = due_time(target.channel, due, settings)
    return Alert(
        id=uuid.uuid4(),
        person_id=event.person_id,
        recipient=target.recipient,
        recipient_key=target.recipient_key,
        channel=target.channel,
        address=target.address,
        kind=AlertKind(event.kind),
        status=AlertStatus.QUEUED,
        due_at=due_at,
        deadline_at=deadline(due_at, settings),
        attempts=0,
        coalesced=coalesced,
        first_trigger_at=event.delivered_at,
        created_at=now,
    )


async def _plan_one(
    session: AsyncSession,
    event: MessageDeliveredToEService,
    target: Target,
    settings: Settings,
    now: datetime,
) -> str:
    """Plan the trigger for one recipient and channel; returns how (for the metric)."""
    if await repository.trigger_planned(
        session, event.person_id, target.recipient_key, target.channel, event.message_id
    ):
        return "replay"
    waiting = await repository.unclaimed_alert(session, event.person_id, target.recipient_key, target.channel)
    if waiting is not None:
        await repository.add_trigger(session, waiting.id, event.message_id, event.kind, event.delivered_at)
        await repository.join(session, waiting, target.address, event.delivered_at)
        return "joined"
    window = timedelta(seconds=settings.coalesce_window_seconds)
    latest = await repository.latest_alert(session, event.person_id, target.recipient_key, target.channel)
    if latest is not None and window and latest.due_at > now - window:
        wanted = latest.due_at + window
        alert = _new_alert(event, target, wanted, now, settings, coalesced=True)
        how, detail = "follow_up", "planned: a follow-up gathering the triggers of the coalescing window"
    else:
        wanted = now
        alert = _new_alert(event, target, wanted, now, settings, coalesced=False)
        how, detail = "new", "planned"
    if alert.due_at > wanted:
        detail += "; held until the end of the SMS quiet hours"
    await repository.add_alert(session, alert, detail)
    await repository.add_trigger(session, alert.id, event.message_id, event.kind, event.delivered_at)
    return how


async def plan(
    session: AsyncSession, event: MessageDeliveredToEService, settings: Settings, clock: Clock = system_clock
) -> int:
    """Plan the alerts of one delivery into the e-service mailbox; returns how many
    alerts got the trigger (new, follow-up or joined). Wakes the sender after commit."""
    now = clock()
    alert_settings = await recipients_repository.locked_settings(session, event.person_id)
    if alert_settings is None:
        await repository.add_waiting(
            session,
            {
                "message_id": event.message_id,
                "person_id": event.person_id,
                "mailbox_id": event.mailbox_id,
                "kind": event.kind,
                "delivered_at": event.delivered_at,
                "received_at": now,
            },
        )
        PLANNED.labels("waiting").inc()
        log.info("message %s of person %s waits for their alert settings", event.message_id, event.person_id)
        return 0
    if not alert_settings.messages_enabled:
        PLANNED.labels("messages_off").inc()
        log.info("no alert for message %s of person %s: messages off", event.message_id, event.person_id)
        return 0
    found = await targets(session, alert_settings, swedish_date(now))
    if not found:
        PLANNED.labels("no_recipient").inc()
        log.info("no alert for message %s of person %s: no recipient", event.message_id, event.person_id)
        return 0
    planned = 0
    for target in found:
        how = await _plan_one(session, event, target, settings, now)
        ALERTS_PLANNED.labels(target.channel, how).inc()
        if how != "replay":
            planned += 1
    PLANNED.labels("alerted").inc()
    if planned:
        wakeup.wake_after_commit(session)
    return planned


async def plan_waiting(
    session: AsyncSession, person_id: uuid.UUID, settings: Settings, clock: Clock = system_clock
) -> int:
    """Plan the triggers that waited for this person's settings; how many alerts got one."""
    planned = 0
    for row in await repository.take_waiting(session, person_id):
        event = MessageDeliveredToEService.model_validate(
            {
                "message_id": row.message_id,
                "mailbox_id": row.mailbox_id,
                "person_id": row.person_id,
                "kind": str(row.kind),
                "delivered_at": row.delivered_at,
            }
        )
        planned += await plan(session, event, settings, clock)
    return planned


def settings_handler(settings: Settings, clock: Clock = system_clock) -> Handler:
    """The consumer's handler of EServiceSettingsChanged: keep the settings, then
    plan what waited for them."""

    async def on_settings(session: AsyncSession, event: EServiceSettingsChanged, envelope: Envelope) -> None:
        """Keep where the person's alerts go, and alert what arrived before."""
        await recipients.on_e_service_settings_changed(session, event, envelope)
        await plan_waiting(session, event.person_id, settings, clock)

    return on_settings


def delivered_handler(settings: Settings, clock: Clock = system_clock) -> Handler:
    """The consumer's handler of MessageDeliveredToEService, with the settings and clock bound."""

    async def on_delivered(
        session: AsyncSession, event: MessageDeliveredToEService, envelope: Envelope
    ) -> None:
        """Alert the recipients of a delivery into the e-service mailbox."""
        await plan(session, event, settings, clock)

    return on_delivered


async def text_of(session: AsyncSession, alert: Alert) -> AlertText:
    """What the alert says (SMS text, e-mail subject and body), from its triggers."""
    kinds = [t.kind for t in await repository.triggers_of(session, alert.id)] or [alert.kind]
    return render(alert.recipient, kinds, several=alert.coalesced)


def schedule(channel: Channel, at: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """(due_at, deadline_at) of an alert on `channel` wanting to go at `at`: quiet
    hours for SMS, the retry deadline counted from the due time. For fallbacks."""
    due_at = due_time(channel, at, settings)
    return due_at, deadline(due_at, settings)


# ---- operations ---------------------------------------------------------------

PERSON_HISTORY_LIMIT = 200  # newest alerts shown in one person's history


def encode_cursor(created_at: datetime, alert_id: uuid.UUID) -> str:
    """The `next` cursor of a page ending with this alert."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{alert_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) a cursor stands for; problem details if it is not ours."""
    try:
        when, alert_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError("cursor time without zone")
        return at.astimezone(UTC), uuid.UUID(alert_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("The 'after' cursor is not one this API gave out.") from None


def _out(alert: Alert, message_ids: list[uuid.UUID]) -> AlertOut:
    return AlertOut(
        id=alert.id,
        person_id=alert.person_id,
        recipient=alert.recipient,
        channel=alert.channel,
        address=mask(alert.channel, alert.address),
        kind=alert.kind,
        status=alert.status,
        attempts=alert.attempts,
        due_at=alert.due_at,
        deadline_at=alert.deadline_at,
        created_at=alert.created_at,
        accepted_at=alert.accepted_at,
        finished_at=alert.finished_at,
        last_error=alert.last_error,
        coalesced=alert.coalesced,
        fallback_of=alert.fallback_of,
        message_ids=message_ids,
    )


async def list_alerts(
    session: AsyncSession,
    user: User,
    *,
    statuses: Sequence[AlertStatus],
    channel: Channel | None,
    older_than_minutes: int | None,
    after: str | None,
    limit: int,
    clock: Clock = system_clock,
) -> AlertPage:
    """A page of alerts for operations, newest first; each shown alert is audit-logged."""
    created_before = None if older_than_minutes is None else clock() - timedelta(minutes=older_than_minutes)
    rows = await repository.list_alerts(
        session,
        statuses=[str(s) for s in statuses],
        channel=channel,
        created_before=created_before,
        after=decode_cursor(after) if after else None,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    pnrs = await recipients_repository.pnrs_of(session, {r.person_id for r in rows})
    await audit.record_many(
        session,
        (
            audit.AuditEntry(user.sub, Role.ADMIN, "list", "alert", str(r.id), pnrs.get(r.person_id))
            for r in rows
        ),
    )
    message_ids = await repository.message_ids_of(session, [r.id for r in rows])
    items = [_out(r, message_ids.get(r.id, [])) for r in rows]
    return AlertPage(
        items=items, next=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    )


async def person_alerts(session: AsyncSession, user: User, person_id: uuid.UUID) -> PersonAlertsOut:
    """A person's alerts with their histories, for caseworkers of a unit handling the
    person; anyone else is refused, audited. The read is audit-logged."""
    units = await recipients_repository.units_of(session, person_id)
    pnr = units[0].pnr if units else None
    entry = audit.AuditEntry(user.sub, Role.CASEWORKER, "read", "alert_history", str(person_id), pnr)
    if not {u.unit for u in units} & set(user.units):
        raise await audit.refuse(
            session,
            entry,
            NotAllowed("Only caseworkers of a unit handling the person may read their alerts."),
        )
    alerts = await repository.alerts_of_person(session, person_id, PERSON_HISTORY_LIMIT)
    await audit.record(session, entry)
    ids = [a.id for a in alerts]
    message_ids = await repository.message_ids_of(session, ids)
    history: dict[uuid.UUID, list[HistoryEntryOut]] = {}
    for row in await repository.history_of(session, ids):
        history.setdefault(row.alert_id, []).append(
            HistoryEntryOut(status=row.status, at=row.at, detail=row.detail)
        )
    items = [
        AlertWithHistoryOut(**_out(a, message_ids.get(a.id, [])).model_dump(), history=history.get(a.id, []))
        for a in alerts
    ]
    return PersonAlertsOut(person_id=person_id, items=items)
