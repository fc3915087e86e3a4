"""Citizen e-ID login shaped like the BankID RP API v6, and the discovery and
JWKS documents of the citizen tokens it gives out."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from intake.login import service
from intake.login.backends import EidBackend
from intake.login.schemas import Discovery, Jwks, LoginStart, LoginStarted, LoginStatus, QrCode
from intake.login.setup import LoginSetup
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotFound, Unavailable, problem_responses

router = APIRouter(tags=["login"])


def _setup(request: Request) -> LoginSetup:
    setup: LoginSetup = request.app.state.login
    return setup


def _backend(request: Request) -> EidBackend:
    return _setup(request).backend(request.app.state.sessionmaker)


Setup = Annotated[LoginSetup, Depends(_setup)]
Backend = Annotated[EidBackend, Depends(_backend)]


@router.post("/login/bankid", status_code=status.HTTP_201_CREATED,
             responses=problem_responses(InvalidInput, Conflict, Unavailable))
async def start_login(request: Request, session: Session, backend: Backend, start: LoginStart | None = None
                      ) -> LoginStarted:
    """Start a BankID login for the user at this request's address."""
    if request.client is None:
        raise InvalidInput("The client's address is unknown; BankID needs it.")
    simulate = start.simulate if start else None
    return await service.start(session, backend, request.client.host, simulate)


@router.get("/login/bankid/{login_id}/qr", responses=problem_responses(NotFound, Conflict))
async def login_qr(login_id: uuid.UUID, session: Session, setup: Setup) -> QrCode:
    """The animated QR code's content for this second."""
    return await service.qr(session, setup, login_id)


@router.post("/login/bankid/{login_id}/collect",
             responses=problem_responses(NotFound, Conflict, InvalidInput, Unavailable))
async def collect_login(login_id: uuid.UUID, session: Session, setup: Setup, backend: Backend
                        ) -> LoginStatus:
    """How the login goes; the citizen token once, when it completes. Poll every two seconds."""
    return await service.collect(session, setup, backend, login_id)


@router.post("/login/bankid/{login_id}/cancel", status_code=status.HTTP_204_NO_CONTENT,
             responses=problem_responses(NotFound, Conflict, Unavailable))
async def cancel_login(login_id: uuid.UUID, session: Session, backend: Backend) -> Response:
    """Cancel the login and its BankID order."""
    await service.cancel(session, backend, login_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/.well-known/openid-configuration")
async def discovery(setup: Setup) -> Discovery:
    """OIDC discovery of the citizen login issuer."""
    issuer = setup.issuer.issuer
    return Discovery(issuer=issuer, jwks_uri=f"{issuer}/jwks.json",
                     id_token_signing_alg_values_supported=["RS256"],
                     subject_types_supported=["pairwise"])


@router.get("/auth/jwks.json")
async def jwks(setup: Setup) -> Jwks:
    """The citizen login issuer's public signing key."""
    return Jwks.model_validate(setup.issuer.jwks())
