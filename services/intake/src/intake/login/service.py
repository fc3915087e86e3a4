"""Citizen e-ID login (IN-1): start an order at the e-ID backend, show its
animated QR code, collect it until it ends, and on completion give out one
citizen token and write the login to the audit log.

Only the browser that started a login may see its QR code, collect or cancel
it (it holds the secret whose hash the login keeps), and the device that
completes it must be at the address the login started from. Ended logins are
purged after the retention time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.login import repository
from intake.login.backends import CollectStatus, EidBackend
from intake.login.models import LoginTransaction
from intake.login.qr import qr_data
from intake.login.schemas import LoginStarted, LoginStatus, QrCode, Simulation
from intake.login.setup import LoginSetup
from intake.login.simulator import Simulator
from shared import audit
from shared.personnummer import InvalidPersonnummer, Personnummer
from shared.problems import Conflict, InvalidInput, NotAllowed, NotFound

log = logging.getLogger(__name__)

METHOD = "bankid"  # the token's `amr`: the simulator stands in for BankID
DEVICE_MISMATCH = "deviceIpMismatch"  # our hint code: completed from another address


def browser_cookie(login_id: uuid.UUID) -> str:
    """The name of the cookie that ties a login to the browser that started it."""
    return f"omsorg_login_{login_id.hex}"


async def start(
    session: AsyncSession, backend: EidBackend, end_user_ip: str, simulate: Simulation | None
) -> tuple[LoginStarted, str]:
    """Start an e-ID order for the user at `end_user_ip`: the answer, and the
    secret only the starting browser gets (in a cookie)."""
    if simulate is not None:
        if not isinstance(backend, Simulator):
            raise InvalidInput("simulate is only allowed with the development e-ID simulator.")
        device_ip = str(simulate.device_ip) if simulate.device_ip else None
        order = await backend.auth_as(
            end_user_ip, simulate.personnummer, simulate.name, simulate.outcome, device_ip
        )
    else:
        order = await backend.auth(end_user_ip)
    browser_secret = secrets.token_urlsafe(32)
    login = LoginTransaction(
        id=uuid.uuid4(),
        backend=backend.name,
        order_ref=order.order_ref,
        auto_start_token=order.auto_start_token,
        qr_start_token=order.qr_start_token,
        qr_start_secret=order.qr_start_secret,
        status="pending",
        hint_code=None,
        started_at=datetime.now(UTC),
        browser_binding=_hash(browser_secret),
        end_user_ip=end_user_ip,
    )
    repository.add_login(session, login)
    await session.flush()
    log.info("login %s started at %s", login.id, backend.name)
    started = LoginStarted(
        login_id=login.id,
        auto_start_token=login.auto_start_token,
        qr_data=qr_data(order.qr_start_token, order.qr_start_secret, 0),
    )
    return started, browser_secret


async def qr(
    session: AsyncSession, setup: LoginSetup, login_id: uuid.UUID, browser_secret: str | None
) -> QrCode:
    """The QR code's content for this second of the order."""
    login = await _get(session, login_id, browser_secret)
    seconds = _seconds_since_start(login)
    if login.status != "pending" or login.qr_start_secret is None:
        raise Conflict("The login has ended: start a new one.", login_status=login.status)
    if seconds >= setup.qr_seconds:
        raise Conflict("The QR code was not scanned in time: start a new login.")
    return QrCode(qr_data=qr_data(login.qr_start_token, login.qr_start_secret, seconds))


async def collect(
    session: AsyncSession,
    setup: LoginSetup,
    backend: EidBackend,
    login_id: uuid.UUID,
    browser_secret: str | None,
) -> LoginStatus:
    """Ask the backend how the order goes; on completion, the citizen's token (once)."""
    login = await _get(session, login_id, browser_secret, lock=True)
    if login.status == "complete":
        raise Conflict("This login has already given out its token: start a new login.")
    if login.status == "failed":
        return LoginStatus(status="failed", hint_code=login.hint_code)
    if _seconds_since_start(login) >= setup.order_seconds:
        _finish(login, "failed", "expiredTransaction")
        return LoginStatus(status="failed", hint_code=login.hint_code)

    result = await backend.collect(login.order_ref)
    if result.status == "pending":
        login.hint_code = result.hint_code
        return LoginStatus(status="pending", hint_code=result.hint_code)
    if result.status == "failed" or result.user is None:
        _finish(login, "failed", result.hint_code)
        log.info("login %s failed (%s)", login.id, result.hint_code)
        return LoginStatus(status="failed", hint_code=login.hint_code)

    try:
        pnr = Personnummer(result.user.personal_number)
    except InvalidPersonnummer:
        _finish(login, "failed", "invalidPersonalNumber")
        log.warning("login %s refused: the e-ID named an invalid personal number", login.id)
        return LoginStatus(status="failed", hint_code=login.hint_code)
    if setup.require_same_device_ip and not _same_address(login.end_user_ip, result.device_ip):
        # Someone else's device completed an order this browser started (a relayed
        # QR code or autostart link): no token. The addresses stay out of the log.
        _finish(login, "failed", DEVICE_MISMATCH)
        await audit.record(
            session,
            audit.AuditEntry(
                actor=setup.issuer.subject(pnr),
                actor_role="citizen",
                action="login",
                object_type="login",
                object_id=str(login.id),
                subject_pnr=str(pnr),
                outcome="refused",
                reason="the e-ID was completed from another address than the login started from",
            ),
        )
        await session.flush()
        log.warning("login %s refused: completed from another address than it started from", login.id)
        return LoginStatus(status="failed", hint_code=login.hint_code)
    name = result.user.name or f"{result.user.given_name} {result.user.surname}".strip()
    _finish(login, "complete", None)
    login.token_issued_at = login.finished_at
    token = setup.issuer.issue(pnr, name, METHOD, login.id)
    await audit.record(
        session,
        audit.AuditEntry(
            actor=setup.issuer.subject(pnr),
            actor_role="citizen",
            action="login",
            object_type="login",
            object_id=str(login.id),
            subject_pnr=str(pnr),
            reason=f"e-ID {login.backend}",
        ),
    )
    await session.flush()
    log.info("login %s complete", login.id)
    return LoginStatus(status="complete", hint_code=None, access_token=token)


async def cancel(
    session: AsyncSession, backend: EidBackend, login_id: uuid.UUID, browser_secret: str | None
) -> None:
    """Cancel a pending login; cancelling a failed one again changes nothing."""
    login = await _get(session, login_id, browser_secret, lock=True)
    if login.status == "complete":
        raise Conflict("The login is complete; there is nothing to cancel.")
    if login.status == "failed":
        return
    try:
        await backend.cancel(login.order_ref)
    except InvalidInput:
        pass  # the backend no longer knows the order: it has ended anyway
    _finish(login, "failed", "userCancel")
    await session.flush()
    log.info("login %s cancelled", login.id)


async def purge(sessionmaker: async_sessionmaker[AsyncSession], setup: LoginSetup) -> tuple[int, int]:
    """Delete logins (and simulator orders) that ended more than the retention
    time ago; a pending login counts as ended when its order expired."""
    now = datetime.now(UTC)
    retention = timedelta(seconds=setup.retention_seconds)
    expired_and_retained = retention + timedelta(seconds=setup.order_seconds)
    async with sessionmaker() as session, session.begin():
        logins = await repository.purge_logins(session, now - retention, now - expired_and_retained)
        orders = await repository.purge_simulated_orders(session, now - expired_and_retained)
    return logins, orders


async def purge_forever(sessionmaker: async_sessionmaker[AsyncSession], setup: LoginSetup) -> None:
    """Purge every `purge_interval_seconds` while intake runs (every replica does: harmless)."""
    while True:
        try:
            logins, orders = await purge(sessionmaker, setup)
            if logins or orders:
                log.info("purged %d ended logins and %d simulator orders", logins, orders)
        except Exception as exc:  # the database may be away: try again next time
            log.warning("login purge failed (%s)", type(exc).__name__)
        await asyncio.sleep(setup.purge_interval_seconds)


async def _get(
    session: AsyncSession, login_id: uuid.UUID, browser_secret: str | None, *, lock: bool = False
) -> LoginTransaction:
    login = await (repository.get_login_locked if lock else repository.get_login)(session, login_id)
    if login is None:
        raise NotFound("No such login.")
    if (
        login.browser_binding is None
        or browser_secret is None
        or not hmac.compare_digest(login.browser_binding, _hash(browser_secret))
    ):
        log.warning("login %s refused to a browser that did not start it", login.id)
        raise NotAllowed("This login was started in another browser: start a new one here.")
    return login


def _hash(browser_secret: str) -> str:
    return hashlib.sha256(browser_secret.encode()).hexdigest()


def _same_address(started_from: str | None, completed_from: str | None) -> bool:
    """Whether two IP addresses are the same (an IPv4-mapped IPv6 address is its IPv4 address)."""
    try:
        a, b = (ipaddress.ip_address(x or "") for x in (started_from, completed_from))
    except ValueError:
        return False  # missing or unreadable: not shown to be the same device
    a = a.ipv4_mapped or a if isinstance(a, ipaddress.IPv6Address) else a
    b = b.ipv4_mapped or b if isinstance(b, ipaddress.IPv6Address) else b
    return a == b


def _seconds_since_start(login: LoginTransaction) -> int:
    return max(0, int((datetime.now(UTC) - login.started_at).total_seconds()))


def _finish(login: LoginTransaction, status: CollectStatus, hint_code: str | None) -> None:
    login.status = status
    login.hint_code = hint_code
    login.finished_at = datetime.now(UTC)
    login.qr_start_secret = None  # no QR code is shown any more: the secret has done its work
