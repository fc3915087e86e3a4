"""Citizen e-ID login shaped like the BankID RP API v6, and the discovery and
JWKS documents of the citizen tokens it gives out."""

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response, status

from intake.login import service
from intake.login.backends import EidBackend
from intake.login.ratelimit import RateLimiter
from intake.login.schemas import Discovery, Jwks, LoginStart, LoginStarted, LoginStatus, QrCode
from intake.login.setup import LoginSetup
from shared.db import Session
from shared.problems import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    TooManyRequests,
    Unavailable,
    problem_responses,
)

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _purging(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the service's lifespan: the database is there."""
    task = asyncio.create_task(service.purge_forever(app.state.sessionmaker, app.state.login))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = APIRouter(tags=["login"], lifespan=_purging)


# Dependencies are `async def` although they never wait: FastAPI runs a plain
# `def` dependency in the thread pool, a thread hop per request for nothing.
async def _setup(request: Request) -> LoginSetup:
    return _login_setup(request)


def _login_setup(request: Request) -> LoginSetup:
    setup: LoginSetup = request.app.state.login
    return setup


async def _backend(request: Request) -> EidBackend:
    return _login_setup(request).backend(request.app.state.sessionmaker)


def _rate_limited(which: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A dependency that refuses a client address over its `which` limit (429 with Retry-After)."""

    async def dependency(request: Request) -> None:
        limiter: RateLimiter | None = getattr(_login_setup(request), f"{which}_limiter")
        if limiter is None:
            return
        wait = limiter.take(request.client.host if request.client else "unknown")
        if wait > 0:
            log.warning("login %s refused: the client's rate limit is used up", which)
            raise TooManyRequests(
                f"Too many login {which} requests from this address: wait a moment.",
                retry_after_seconds=max(1, math.ceil(wait)),
            )

    return dependency


def _browser_secret(request: Request, login_id: uuid.UUID) -> str | None:
    return request.cookies.get(service.browser_cookie(login_id))


Setup = Annotated[LoginSetup, Depends(_setup)]
Backend = Annotated[EidBackend, Depends(_backend)]


@router.post(
    "/login/bankid",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(_rate_limited("start"))],
    responses=problem_responses(InvalidInput, Conflict, TooManyRequests, Unavailable),
)
async def start_login(
    request: Request,
    response: Response,
    session: Session,
    setup: Setup,
    backend: Backend,
    start: LoginStart | None = None,
) -> LoginStarted:
    """Start a BankID login for the user at this request's address. The answer
    sets an HttpOnly cookie (until the order expires): only this browser can
    see the QR code, collect or cancel."""
    if request.client is None:
        raise InvalidInput("The client's address is unknown; BankID needs it.")
    simulate = start.simulate if start else None
    started, browser_secret = await service.start(session, backend, request.client.host, simulate)
    response.set_cookie(
        service.browser_cookie(started.login_id),
        browser_secret,
        max_age=setup.order_seconds + 60,
        path="/",
        secure=setup.secure_cookie,
        httponly=True,
        samesite="strict",
    )
    return started


@router.get("/login/bankid/{login_id}/qr", responses=problem_responses(NotAllowed, NotFound, Conflict))
async def login_qr(request: Request, login_id: uuid.UUID, session: Session, setup: Setup) -> QrCode:
    """The animated QR code's content for this second."""
    return await service.qr(session, setup, login_id, _browser_secret(request, login_id))


@router.post(
    "/login/bankid/{login_id}/collect",
    dependencies=[Depends(_rate_limited("collect"))],
    responses=problem_responses(NotAllowed, NotFound, Conflict, InvalidInput, TooManyRequests, Unavailable),
)
async def collect_login(
    request: Request, login_id: uuid.UUID, session: Session, setup: Setup, backend: Backend
) -> LoginStatus:
    """How the login goes; the citizen token once, when it completes. Poll every two seconds."""
    return await service.collect(session, setup, backend, login_id, _browser_secret(request, login_id))


@router.post(
    "/login/bankid/{login_id}/cancel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(NotAllowed, NotFound, Conflict, Unavailable),
)
async def cancel_login(request: Request, login_id: uuid.UUID, session: Session, backend: Backend) -> Response:
    """Cancel the login and its BankID order."""
    await service.cancel(session, backend, login_id, _browser_secret(request, login_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/.well-known/openid-configuration")
async def discovery(setup: Setup) -> Discovery:
    """OIDC discovery of the citizen login issuer."""
    issuer = setup.issuer.issuer
    return Discovery(
        issuer=issuer,
        jwks_uri=f"{issuer}/jwks.json",
        id_token_signing_alg_values_supported=["RS256"],
        subject_types_supported=["pairwise"],
    )


@router.get("/auth/jwks.json")
async def jwks(setup: Setup) -> Jwks:
    """The citizen login issuer's public signing key."""
    return Jwks.model_validate(setup.issuer.jwks())
