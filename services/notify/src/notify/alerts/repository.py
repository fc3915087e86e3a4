"""Queries of the alert tables: alerts (the sender's due-time queue), their
triggers and their status history. Planning writes alerts here; the sender
claims and finishes them through the functions below the line.

Every status change goes through `change_status`, which appends the history
row: the history is complete by construction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notify.models import (
    PENDING_STATUSES,
    Alert,
    AlertHistory,
    AlertKind,
    AlertStatus,
    AlertTrigger,
    Channel,
    WaitingTrigger,
)
from shared.db import get_locked, locked

# ---- planning ---------------------------------------------------------------


async def add_alert(session: AsyncSession, alert: Alert, detail: str | None = None) -> Alert:
    """Insert a new alert (status queued) with its first history row."""
    session.add(alert)
    await session.flush()
    await add_history(session, alert.id, alert.status, alert.created_at, detail)
    return alert


async def add_trigger(
    session: AsyncSession,
    alert_id: uuid.UUID,
    message_id: uuid.UUID,
    kind: AlertKind | str,
    delivered_at: datetime,
) -> bool:
    """Record that the alert tells about the delivery; False if it already did."""
    stmt = (
        insert(AlertTrigger)
        .values(alert_id=alert_id, message_id=message_id, kind=kind, delivered_at=delivered_at)
        .on_conflict_do_nothing()
        .returning(AlertTrigger.alert_id)
    )
    return (await session.execute(stmt)).first() is not None


async def trigger_planned(
    session: AsyncSession, person_id: uuid.UUID, recipient_key: str, channel: Channel, message_id: uuid.UUID
) -> bool:
    """True when an alert to this recipient on this channel already tells about the delivery (a replay)."""
    query = (
        select(AlertTrigger.alert_id)
        .join(Alert, Alert.id == AlertTrigger.alert_id)
        .where(
            AlertTrigger.message_id == message_id,
            Alert.person_id == person_id,
            Alert.recipient_key == recipient_key,
            Alert.channel == channel,
        )
        .limit(1)
    )
    return await session.scalar(query) is not None


async def latest_alert(
    session: AsyncSession, person_id: uuid.UUID, recipient_key: str, channel: Channel
) -> Alert | None:
    """The recipient's alert on this channel that goes (or went) last: coalescing's anchor."""
    query = (
        select(Alert)
        .where(Alert.person_id == person_id, Alert.recipient_key == recipient_key, Alert.channel == channel)
        .order_by(Alert.due_at.desc(), Alert.created_at.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def unclaimed_alert(
    session: AsyncSession, person_id: uuid.UUID, recipient_key: str, channel: Channel
) -> Alert | None:
    """The recipient's alert on this channel that no sender has claimed yet (status
    queued, never attempted), locked: a trigger may join it. A row a sender holds
    is skipped; once the claim commits it is no longer queued."""
    query = (
        select(Alert)
        .where(
            Alert.person_id == person_id,
            Alert.recipient_key == recipient_key,
            Alert.channel == channel,
            Alert.status == AlertStatus.QUEUED,
            Alert.attempts == 0,
        )
        .order_by(Alert.due_at.desc())
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


async def join(session: AsyncSession, alert: Alert, address: str, delivered_at: datetime) -> None:
    """The alert now gathers one more trigger: plural text, earliest trigger kept,
    and the recipient's current address (a change since it was planned counts)."""
    alert.coalesced = True
    alert.address = address
    alert.first_trigger_at = min(alert.first_trigger_at, delivered_at)
    await session.flush()


# ---- history ------------------------------------------------------------------


async def add_history(
    session: AsyncSession,
    alert_id: uuid.UUID,
    status: AlertStatus | str,
    at: datetime,
    detail: str | None = None,
) -> None:
    """Append a history row: a status (or an event in it, like a `sent` report) and
    its reason. Never an address or the alert's text."""
    session.add(AlertHistory(alert_id=alert_id, status=status, at=at, detail=detail))
    await session.flush()


async def change_status(
    session: AsyncSession,
    alert: Alert,
    status: AlertStatus,
    at: datetime,
    detail: str | None = None,
    **changes: Any,
) -> None:
    """Set the alert's status (and any other columns in `changes`) and append the history row."""
    alert.status = status
    for name, value in changes.items():
        setattr(alert, name, value)
    await session.flush()
    await add_history(session, alert.id, status, at, detail)


async def history_of(session: AsyncSession, alert_ids: Sequence[uuid.UUID]) -> list[AlertHistory]:
    """The history rows of the alerts, oldest first."""
    if not alert_ids:
        return []
    query = (
        select(AlertHistory)
        .where(AlertHistory.alert_id.in_(list(alert_ids)))
        .order_by(AlertHistory.alert_id, AlertHistory.at, AlertHistory.id)
    )
    return list(await session.scalars(query))


# ---- the sender ---------------------------------------------------------------


async def claim_due(session: AsyncSession, now: datetime, limit: int, lease_until: datetime) -> list[Alert]:
    """Claim up to `limit` alerts to send now: due ones (queued or failed, due_at <=
    now) and a crashed sender's (sending, lease passed). FOR UPDATE SKIP LOCKED, so
    replicas never claim the same row. Each becomes `sending` with attempts + 1 and
    the lease, with a history row. The caller commits at once, then sends."""
    due = and_(Alert.status.in_(PENDING_STATUSES), Alert.due_at <= now)
    abandoned = and_(Alert.status == AlertStatus.SENDING, Alert.lease_until < now)
    query = (
        select(Alert)
        .where(or_(due, abandoned))
        .order_by(Alert.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    claimed = list(await session.scalars(query))
    for alert in claimed:
        detail = f"attempt {alert.attempts + 1}"
        if alert.status == AlertStatus.SENDING:
            detail += " (the previous sender's lease passed)"
        await change_status(
            session,
            alert,
            AlertStatus.SENDING,
            now,
            detail,
            attempts=alert.attempts + 1,
            lease_until=lease_until,
        )
    return claimed


async def locked_alert(session: AsyncSession, alert_id: uuid.UUID) -> Alert | None:
    """The alert, locked and freshly read (to record an outcome)."""
    return await get_locked(session, Alert, alert_id)


async def locked_alert_by_provider_id(session: AsyncSession, provider_id: str) -> Alert | None:
    """The alert the gateway knows by `provider_id`, locked (a delivery report)."""
    return await session.scalar(locked(select(Alert).where(Alert.provider_id == provider_id).limit(1)))


async def triggers_of(session: AsyncSession, alert_id: uuid.UUID) -> list[AlertTrigger]:
    """The deliveries the alert tells about, oldest first."""
    query = (
        select(AlertTrigger)
        .where(AlertTrigger.alert_id == alert_id)
        .order_by(AlertTrigger.delivered_at, AlertTrigger.message_id)
    )
    return list(await session.scalars(query))


async def copy_triggers(session: AsyncSession, from_alert_id: uuid.UUID, to_alert_id: uuid.UUID) -> None:
    """Give `to_alert_id` (a fallback) the same triggers as `from_alert_id`."""
    for trigger in await triggers_of(session, from_alert_id):
        await add_trigger(session, to_alert_id, trigger.message_id, trigger.kind, trigger.delivered_at)


_COVERING = (
    AlertStatus.QUEUED,
    AlertStatus.SENDING,
    AlertStatus.FAILED,
    AlertStatus.ACCEPTED,
    AlertStatus.DELIVERED,
)


async def covered_on(session: AsyncSession, alert: Alert, channel: Channel) -> bool:
    """True when an alert to the same recipient on `channel` that is not given up
    tells about every trigger of `alert`: a fallback would repeat it."""
    mine = select(AlertTrigger.message_id).where(AlertTrigger.alert_id == alert.id)
    others = (
        select(AlertTrigger.message_id)
        .join(Alert, Alert.id == AlertTrigger.alert_id)
        .where(
            Alert.person_id == alert.person_id,
            Alert.recipient_key == alert.recipient_key,
            Alert.channel == channel,
            Alert.status.in_(_COVERING),
        )
    )
    uncovered = await session.scalar(select(func.count()).select_from(mine.except_(others).subquery()))
    return uncovered == 0


# ---- operations -----------------------------------------------------------------


@dataclass(frozen=True)
class QueueDepth:
    """The due-time queue as the metrics show it."""

    pending: int  # queued or failed (awaiting a retry), or being sent
    oldest_pending_seconds: float  # how long the longest-waiting due alert has been due


async def queue_depth(session: AsyncSession | AsyncConnection, now: datetime) -> QueueDepth:
    """How many alerts wait, and how long the oldest due one has been due."""
    waiting = (AlertStatus.QUEUED, AlertStatus.FAILED, AlertStatus.SENDING)
    row = (
        await session.execute(
            select(
                func.count(),
                func.min(Alert.due_at).filter(Alert.status.in_(PENDING_STATUSES), Alert.due_at <= now),
            ).where(Alert.status.in_(waiting))
        )
    ).one()
    oldest = row[1]
    return QueueDepth(int(row[0]), max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)


async def list_alerts(
    session: AsyncSession,
    *,
    statuses: Sequence[str],
    channel: str | None,
    created_before: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Alert]:
    """Alerts newest first, filtered; keyset pagination on (created_at, id)."""
    query = select(Alert)
    if statuses:
        query = query.where(Alert.status.in_(list(statuses)))
    if channel:
        query = query.where(Alert.channel == channel)
    if created_before is not None:
        query = query.where(Alert.created_at <= created_before)
    if after is not None:
        query = query.where(
            or_(Alert.created_at < after[0], and_(Alert.created_at == after[0], Alert.id < after[1]))
        )
    query = query.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def alerts_of_person(session: AsyncSession, person_id: uuid.UUID, limit: int) -> list[Alert]:
    """The person's alerts, newest first."""
    query = (
        select(Alert)
        .where(Alert.person_id == person_id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def message_ids_of(
    session: AsyncSession, alert_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The trigger message ids of each alert."""
    if not alert_ids:
        return {}
    query = (
        select(AlertTrigger.alert_id, AlertTrigger.message_id)
        .where(AlertTrigger.alert_id.in_(list(alert_ids)))
        .order_by(AlertTrigger.delivered_at)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for alert_id, message_id in await session.execute(query):
        found.setdefault(alert_id, []).append(message_id)
    return found


async def add_waiting(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep a trigger until the person's settings arrive (a replay adds nothing)."""
    await session.execute(insert(WaitingTrigger).values(**row).on_conflict_do_nothing())


async def take_waiting(session: AsyncSession, person_id: uuid.UUID) -> list[WaitingTrigger]:
    """The person's waiting triggers, oldest first, deleted in this transaction."""
    stmt = (
        delete(WaitingTrigger)
        .where(WaitingTrigger.person_id == person_id)
        .returning(WaitingTrigger)
        .execution_options(synchronize_session=False)
    )
    rows = list(await session.scalars(stmt))
    return sorted(rows, key=lambda r: r.delivered_at)
