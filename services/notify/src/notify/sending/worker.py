"""The sender worker: runs in every notify process and drives sending from the
database, so a restart, a gateway outage or several replicas lose and double
nothing.

One loop per process: claim due alerts (FOR UPDATE SKIP LOCKED, so replicas
never claim the same row) as far as there is room for concurrent sends, commit
the claim (status sending, a lease), send each, and record each outcome in a
short transaction of its own as soon as it is known. It wakes at once when
planning committed a new alert (notify.alerts.wakeup) or a send finished while
more were waiting, and otherwise polls every `sender_poll_seconds`.

A sender that dies between claiming and recording leaves its rows `sending`:
once their lease passes, any sender claims them again. Stopping gracefully
claims nothing more and waits for the sends in flight and their records, so a
deploy hands nothing over to the lease. Only a crash in the milliseconds
between the gateway's acceptance and its record sends an alert twice (the
gateway has no idempotency key); nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify.alerts import wakeup
from notify.channels import Accepted, EmailSender, SendOutcome, SmsSender, TemporaryFailure
from notify.channels.email import EmailClient
from notify.channels.sms import SmsClient
from notify.clock import Clock, system_clock
from notify.config import Settings
from notify.models import Channel
from notify.sending import service
from notify.sending.metrics import DELIVERY_LATENCY, SENDS
from notify.sending.service import Outgoing
from shared.inbox import describe_error

log = logging.getLogger(__name__)

# Recording an outcome is retried this many times (PostgreSQL away for a
# moment): a record given up on leaves the alert to its lease, and sent twice.
_RECORD_ATTEMPTS = 6


class SenderWorker:
    """Claims due alerts, sends them concurrently (bounded), records each outcome."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        sms: SmsSender,
        email: EmailSender,
        *,
        clock: Clock = system_clock,
        rand: Callable[[], float] = random.random,
        closers: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._sms = sms
        self._email = email
        self._clock = clock
        self._rand = rand
        self._closers = closers
        self._nudge = asyncio.Event()
        self._wake = self._nudge.set  # one bound method: the listener added and removed
        self._in_flight: set[asyncio.Task[None]] = set()
        self._backlog = False  # the last claim was full: more may be due
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # A send is cut off before the lease could pass and another sender send it too.
        self._send_timeout = settings.sender_lease_seconds / 2

    @property
    def running(self) -> bool:
        """True while the loop runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop (in the app's lifespan, after the outbox relay)."""
        self._stopping = False
        wakeup.add_listener(self._wake)
        self._task = asyncio.create_task(self._run(), name="notify-sender")

    async def stop(self) -> None:
        """Claim nothing more, finish the sends in flight and record them, close the clients."""
        self._stopping = True
        self._nudge.set()
        wakeup.remove_listener(self._wake)
        if self._task is not None:
            await self._task
        await self._drain()
        for close in self._closers:
            with contextlib.suppress(Exception):
                await close()

    async def run_once(self) -> int:
        """Claim one batch, send it and record every outcome; returns how many were
        claimed. The loop's step, for tests and drills that drive time themselves."""
        claimed = await self._claim_and_send()
        await self._drain()
        return claimed

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._nudge.clear()
            try:
                await self._claim_and_send()
                failures = 0
            except Exception as exc:  # PostgreSQL away: keep going, slower
                failures += 1
                log.warning("sender: claiming failed (%s); trying again", describe_error(exc))
                await self._pause(min(0.2 * 2**failures, 5.0))
                continue
            if self._backlog and len(self._in_flight) < self._settings.sender_concurrency:
                continue  # a full batch, with room for more: claim again at once
            await self._pause(self._settings.sender_poll_seconds)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._nudge.wait(), seconds)

    async def _claim_and_send(self) -> int:
        room = self._settings.sender_concurrency - len(self._in_flight)
        if room <= 0:
            return 0
        limit = min(self._settings.sender_batch_size, room)
        async with self._sessionmaker() as session, session.begin():
            claimed = await service.claim(session, self._settings, self._clock(), limit)
        self._backlog = len(claimed) == limit
        for outgoing in claimed:
            task = asyncio.create_task(self._deliver(outgoing), name=f"notify-send-{outgoing.alert_id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(claimed)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if self._backlog:
            self._nudge.set()  # room for one more, and more are waiting

    async def _drain(self) -> None:
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def _deliver(self, outgoing: Outgoing) -> None:
        outcome = await self._send(outgoing)
        SENDS.labels(outgoing.channel, service.outcome_name(outcome)).inc()
        if isinstance(outcome, Accepted):
            latency = (self._clock() - outgoing.first_trigger_at).total_seconds()
            DELIVERY_LATENCY.labels(outgoing.channel).observe(max(latency, 0.0))
        await self._record(outgoing, outcome)

    async def _send(self, outgoing: Outgoing) -> SendOutcome:
        reference = str(outgoing.alert_id)
        try:
            if outgoing.channel == Channel.SMS:
                send = self._sms.send_sms(outgoing.address, outgoing.text.text, reference)
            else:
                send = self._email.send_email(
                    outgoing.address, outgoing.text.subject, outgoing.text.text, reference
                )
            return await asyncio.wait_for(send, self._send_timeout)
        except TimeoutError:
            return TemporaryFailure("the send did not finish in time")
        except Exception as exc:  # a client's bug must not leave the alert to its lease
            log.error("alert %s: sending failed unexpectedly (%s)", reference, describe_error(exc))
            return TemporaryFailure(f"the sender failed unexpectedly ({type(exc).__name__})")

    async def _record(self, outgoing: Outgoing, outcome: SendOutcome) -> None:
        for attempt in range(1, _RECORD_ATTEMPTS + 1):
            try:
                async with self._sessionmaker() as session, session.begin():
                    await service.record(
                        session, outgoing, outcome, self._settings, self._clock(), self._rand
                    )
                return
            except Exception as exc:
                if attempt == _RECORD_ATTEMPTS:
                    log.error(
                        "alert %s: its outcome could not be recorded (%s); its lease will pass "
                        "and it is sent again",
                        outgoing.alert_id,
                        describe_error(exc),
                    )
                    return
                await asyncio.sleep(0.2 * 2**attempt)


def sender_worker(app: FastAPI) -> SenderWorker:
    """The sender of a notify process (ServiceSpec.workers): the real SMS gateway and
    SMTP relay clients, closed when it stops."""
    settings = app.state.settings
    if not isinstance(settings, Settings):
        raise TypeError("the notify sender needs notify's Settings on app.state.settings")
    sms = SmsClient(settings)
    email = EmailClient(settings)
    return SenderWorker(app.state.sessionmaker, settings, sms, email, closers=(sms.aclose, email.aclose))
