"""Append-only audit log of every read and write of personal data: who, in
which role, did what to which person's data, when, with what outcome, why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope
from shared.problems import ServiceError

Outcome = Literal["allowed", "refused"]

_INSERT = text("""
    INSERT INTO audit_log (actor, actor_role, action, subject_pnr, object_type, object_id, outcome, reason)
    VALUES (:actor, :actor_role, :action, :subject_pnr, :object_type, :object_id, :outcome, :reason)
""")


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    actor_role: str
    action: str  # read | create | update | delete | list | ...
    object_type: str
    object_id: str | None = None
    subject_pnr: str | None = None
    outcome: Outcome = "allowed"
    reason: str | None = None


def from_event(
    envelope: Envelope, action: str, object_type: str, object_id: object, subject_pnr: object | None
) -> AuditEntry:
    """The audit entry of a consumer applying another service's event to personal
    data: the actor is the producing service, in the role `system`."""
    return AuditEntry(
        actor=f"event:{envelope.source}",
        actor_role="system",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        subject_pnr=None if subject_pnr is None else str(subject_pnr),
    )


async def record(session: AsyncSession, *entries: AuditEntry) -> None:
    """Add audit rows in the caller's transaction."""
    await record_many(session, entries)


async def record_each(
    session: AsyncSession,
    actor: str,
    actor_role: str,
    action: str,
    object_type: str,
    objects: Iterable[tuple[object, object]],
) -> None:
    """One row per object a list or search showed: `objects` are (object id,
    subject personnummer) pairs, all seen by one actor in one action."""
    await record_many(
        session,
        (
            AuditEntry(actor, actor_role, action, object_type, str(object_id), str(pnr))
            for object_id, pnr in objects
        ),
    )


async def record_many(session: AsyncSession, entries: Iterable[AuditEntry]) -> None:
    rows = [e.__dict__ for e in entries]
    if rows:
        await session.execute(_INSERT, rows)


_REFUSALS = "audit_refusals"


def collect_refusals(session: AsyncSession) -> None:
    """Mark `session` as one whose owner writes the refusals `refuse` collects
    (shared.db's request session): with its commit, or after its rollback."""
    session.info[_REFUSALS] = []


async def write_refusals(session: AsyncSession) -> None:
    """Insert the refusals collected on `session` in its current transaction."""
    await record_many(session, session.info.get(_REFUSALS, ()))


def has_refusals(session: AsyncSession) -> bool:
    return bool(session.info.get(_REFUSALS))


async def refuse(session: AsyncSession, entry: AuditEntry, error: ServiceError) -> ServiceError:
    """Audit a refused access and return the error to raise.

    Raising the error rolls back the request's transaction, so the refusal's
    row is not written there now: the request session (shared.db) writes it
    at the end, in a fresh transaction after the rollback. A request never
    holds two connections, so a burst of refusals cannot exhaust the pool.
    A session nobody collects refusals for (not a request's) gets the row in
    a transaction of its own."""
    refusal = AuditEntry(
        **{**entry.__dict__, "outcome": "refused", "reason": entry.reason or error.detail[:200]}
    )
    if _REFUSALS in session.info:
        session.info[_REFUSALS].append(refusal)
    else:
        async with AsyncSession(session.bind) as own, own.begin():
            await record(own, refusal)
    return error


class AccessLogEntry(BaseModel):
    """One access to a person's data, as loggkontroll shows it."""

    at: str
    actor: str
    actor_role: str
    action: str
    object_type: str
    object_id: str | None
    outcome: str
    reason: str | None


async def access_log(session: AsyncSession, subject_pnr: str, limit: int = 500) -> list[AccessLogEntry]:
    """Loggkontroll: every access to one person's data, newest first."""
    result = await session.execute(
        text("""
        SELECT at, actor, actor_role, action, object_type, object_id, outcome, reason FROM audit_log
        WHERE subject_pnr = :pnr ORDER BY at DESC, id DESC LIMIT :limit
    """),
        {"pnr": subject_pnr, "limit": limit},
    )
    return [
        AccessLogEntry(
            at=r.at.isoformat(),
            actor=r.actor,
            actor_role=r.actor_role,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            outcome=r.outcome,
            reason=r.reason,
        )
        for r in result
    ]
