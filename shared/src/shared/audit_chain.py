"""The audit log's hash chain: a background sealer that appends each audit row
to `audit_seal`, and the check that recomputes the chain.

    hash(n) = sha256(hash(n-1) || canonical(audit row sealed at seq n)), hash(0) = 32 zero bytes

Requests never wait for the chain: they insert audit rows as before, and the
sealer, one per service, seals them a moment later in batches. It seals a row
only when its transaction (`audit_log.tx`) is older than every transaction
still running (the snapshot's xmin): then no row can still appear before it,
so every committed row is sealed exactly once, in (tx, id) order. A long
transaction anywhere in the cluster delays sealing, never breaks it.

Changing or deleting a sealed row, or a seal, breaks the chain at that row;
`python -m shared.audit_verify <service>` finds it. An owner who rewrites the
whole chain is caught by comparing with a head hash kept elsewhere: the sealer
logs its head (seq and hash, no personal data) now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

GENESIS = bytes(32)
_LOCK = 0x4F4D534F_41554454  # 'OMSOAUDT': one sealer at a time, however many replicas

_AUDIT_COLUMNS = (
    "a.id, a.at, a.actor, a.actor_role, a.action, a.subject_pnr, a.object_type, "
    "a.object_id, a.outcome, a.reason, a.tx"
)


def canonical(row: Any) -> bytes:
    """The bytes of one audit row that the chain covers: every column, in a
    fixed order, as compact JSON (timestamps in UTC with microseconds)."""
    return json.dumps(
        [
            row.id,
            row.at.astimezone(UTC).isoformat(timespec="microseconds"),
            row.actor,
            row.actor_role,
            row.action,
            row.subject_pnr,
            row.object_type,
            row.object_id,
            row.outcome,
            row.reason,
            str(row.tx),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def link(previous: bytes, row: Any) -> bytes:
    return hashlib.sha256(previous + canonical(row)).digest()


async def seal_pending(connection: AsyncConnection, batch: int = 2000) -> int:
    """Seal the next settled audit rows (at most `batch`) in the caller's
    transaction; the number sealed. Another sealer busy: 0."""
    if not await connection.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK}):
        return 0
    head = (
        await connection.execute(
            text("SELECT seq, audit_id, tx, hash FROM audit_seal ORDER BY seq DESC LIMIT 1")
        )
    ).first()
    seq, previous = (head.seq, bytes(head.hash)) if head else (0, GENESIS)
    after_tx, after_id = (head.tx, head.audit_id) if head else (0, 0)
    # One statement, one snapshot: the rows it sees below its own xmin are all
    # the rows those (finished) transactions will ever have.
    rows = (
        await connection.execute(
            text(f"""
        SELECT {_AUDIT_COLUMNS} FROM audit_log a
        WHERE (a.tx, a.id) > (CAST(:after_tx AS xid8), :after_id)
          AND a.tx < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY a.tx, a.id LIMIT :batch"""),
            {"after_tx": after_tx, "after_id": after_id, "batch": batch},
        )
    ).all()
    seals = []
    for row in rows:
        seq += 1
        previous = link(previous, row)
        seals.append({"seq": seq, "audit_id": row.id, "hash": previous})
    if seals:
        # Through the owner's function: it checks order, row and settlement itself.
        await connection.execute(text("SELECT audit_seal_append(:seq, :audit_id, :hash)"), seals)
    return len(seals)


class AuditSealer:
    """Seals the service's audit rows in the background, about once a second."""

    def __init__(
        self, engine: AsyncEngine, interval_seconds: float = 1.0, head_log_seconds: float = 600.0
    ) -> None:
        self.engine = engine
        self.interval = interval_seconds
        self.head_log_seconds = head_log_seconds
        self._task: asyncio.Task[None] | None = None
        self._last_head_log = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-sealer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def seal_all(self) -> int:
        """Seal every settled row now; the number sealed."""
        total = 0
        while True:
            async with self.engine.begin() as connection:
                sealed = await seal_pending(connection)
            total += sealed
            if sealed == 0:
                return total

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                if await self.seal_all():
                    await self._log_head()
                failing = False
            except Exception as exc:  # the database away: try again, say so once
                if not failing:
                    log.warning("audit sealer: %s; retrying", type(exc).__name__)
                failing = True
            await asyncio.sleep(self.interval)

    async def _log_head(self) -> None:
        if time.monotonic() - self._last_head_log < self.head_log_seconds:
            return
        self._last_head_log = time.monotonic()
        async with self.engine.connect() as connection:
            head = (
                await connection.execute(text("SELECT seq, hash FROM audit_seal ORDER BY seq DESC LIMIT 1"))
            ).first()
        if head:
            log.info("audit chain head seq %d hash %s", head.seq, bytes(head.hash).hex())


@dataclass
class Finding:
    kind: str  # deleted | changed | seal missing | unsealed
    audit_id: int | None
    seq: int | None
    detail: str


@dataclass
class Report:
    sealed: int = 0
    head_seq: int = 0
    head_hash: bytes = GENESIS
    unsealed_recent: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


async def verify(
    connection: AsyncConnection, unsealed_after: timedelta = timedelta(minutes=5), max_findings: int = 100
) -> Report:
    """Recompute the chain from the start. Each seal must follow the previous
    (seq without gaps), its audit row must exist, and the hash must match;
    after a break the stored hash carries on, so each tampered row is named
    once. Rows still unsealed after `unsealed_after` are findings too."""
    report = Report()

    def add(finding: Finding) -> None:
        if len(report.findings) < max_findings:
            report.findings.append(finding)

    previous, expected_seq = GENESIS, 1
    result = await connection.stream(
        text(f"""
        SELECT s.seq, s.audit_id AS sealed_id, s.hash, {_AUDIT_COLUMNS}
        FROM audit_seal s LEFT JOIN audit_log a ON a.id = s.audit_id ORDER BY s.seq""")
    )
    async for row in result:
        if row.seq != expected_seq:
            add(
                Finding(
                    "seal missing", None, expected_seq, f"seals {expected_seq}..{row.seq - 1} are missing"
                )
            )
        stored = bytes(row.hash)
        if row.id is None:
            add(
                Finding(
                    "deleted",
                    row.sealed_id,
                    row.seq,
                    f"audit row {row.sealed_id} (seal {row.seq}) was deleted",
                )
            )
        elif link(previous, row) != stored:
            add(
                Finding(
                    "changed",
                    row.id,
                    row.seq,
                    f"audit row {row.id} (seal {row.seq}) was changed, or its seal was",
                )
            )
        previous, expected_seq = stored, row.seq + 1
        report.sealed += 1
        report.head_seq, report.head_hash = row.seq, stored
    unsealed = (
        await connection.execute(
            text("""
        SELECT count(*) FILTER (WHERE a.at < now() - CAST(:age AS interval)) AS old, count(*) AS recent,
               min(a.id) FILTER (WHERE a.at < now() - CAST(:age AS interval)) AS first
        FROM audit_log a WHERE NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.audit_id = a.id)"""),
            {"age": unsealed_after},
        )
    ).one()
    report.unsealed_recent = unsealed.recent - unsealed.old
    if unsealed.old:
        add(
            Finding(
                "unsealed",
                unsealed.first,
                None,
                f"{unsealed.old} audit rows unsealed for over {unsealed_after}, the first is "
                f"row {unsealed.first}",
            )
        )
    return report
