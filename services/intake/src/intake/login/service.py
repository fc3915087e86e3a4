"""Citizen e-ID login (IN-1): start an order at the e-ID backend, show its
animated QR code, collect it until it ends, and on completion give out one
citizen token and write the login to the audit log."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake.login import repository
from intake.login.backends import EidBackend
from intake.login.models import LoginTransaction
from intake.login.qr import qr_data
from intake.login.schemas import LoginStarted, LoginStatus, QrCode, Simulation
from intake.login.setup import LoginSetup
from intake.login.simulator import Simulator
from shared import audit
from shared.personnummer import InvalidPersonnummer, Personnummer
from shared.problems import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

METHOD = "bankid"  # the token's `amr`: the simulator stands in for BankID


async def start(session: AsyncSession, backend: EidBackend, end_user_ip: str, simulate: Simulation | None
                ) -> LoginStarted:
    """Start an e-ID order for the user at `end_user_ip`."""
    if simulate is not None:
        if not isinstance(backend, Simulator):
            raise InvalidInput("simulate is only allowed with the development e-ID simulator.")
        order = await backend.auth_as(end_user_ip, simulate.personnummer, simulate.name, simulate.outcome)
    else:
        order = await backend.auth(end_user_ip)
    login = LoginTransaction(
        id=uuid.uuid4(), backend=backend.name, order_ref=order.order_ref,
        auto_start_token=order.auto_start_token, qr_start_token=order.qr_start_token,
        qr_start_secret=order.qr_start_secret, status="pending", hint_code=None,
        started_at=datetime.now(UTC))
    repository.add_login(session, login)
    await session.flush()
    log.info("login %s started at %s", login.id, backend.name)
    return LoginStarted(login_id=login.id, auto_start_token=login.auto_start_token,
                        qr_data=qr_data(order.qr_start_token, order.qr_start_secret, 0))


async def qr(session: AsyncSession, setup: LoginSetup, login_id: uuid.UUID) -> QrCode:
    """The QR code's content for this second of the order."""
    login = await _get(session, login_id)
    seconds = _seconds_since_start(login)
    if login.status != "pending" or login.qr_start_secret is None:
        raise Conflict("The login has ended: start a new one.", login_status=login.status)
    if seconds >= setup.qr_seconds:
        raise Conflict("The QR code was not scanned in time: start a new login.")
    return QrCode(qr_data=qr_data(login.qr_start_token, login.qr_start_secret, seconds))


async def collect(session: AsyncSession, setup: LoginSetup, backend: EidBackend, login_id: uuid.UUID
                  ) -> LoginStatus:
    """Ask the backend how the order goes; on completion, the citizen's token (once)."""
    login = await _get(session, login_id, lock=True)
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
    name = result.user.name or f"{result.user.given_name} {result.user.surname}".strip()
    _finish(login, "complete", None)
    login.token_issued_at = login.finished_at
    token = setup.issuer.issue(pnr, name, METHOD, login.id)
    await audit.record(session, audit.AuditEntry(
        actor=setup.issuer.subject(pnr), actor_role="citizen", action="login", object_type="login",
        object_id=str(login.id), subject_pnr=str(pnr), reason=f"e-ID {login.backend}"))
    await session.flush()
    log.info("login %s complete", login.id)
    return LoginStatus(status="complete", hint_code=None, access_token=token)


async def cancel(session: AsyncSession, backend: EidBackend, login_id: uuid.UUID) -> None:
    """Cancel a pending login; cancelling a failed one again changes nothing."""
    login = await _get(session, login_id, lock=True)
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


async def _get(session: AsyncSession, login_id: uuid.UUID, *, lock: bool = False) -> LoginTransaction:
    login = await repository.get_login(session, login_id, lock=lock)
    if login is None:
        raise NotFound("No such login.")
    return login


def _seconds_since_start(login: LoginTransaction) -> int:
    return max(0, int((datetime.now(UTC) - login.started_at).total_seconds()))


def _finish(login: LoginTransaction, status: str, hint_code: str | None) -> None:
    login.status = status
    login.hint_code = hint_code
    login.finished_at = datetime.now(UTC)
    login.qr_start_secret = None  # no QR code is shown any more: the secret has done its work
