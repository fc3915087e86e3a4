"""Bearer-token verification against the identity provider's JWKS, and the
typed current-user dependencies endpoints declare."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.personnummer import InvalidPersonnummer, Personnummer
from shared.problems import NotAllowed, NotAuthenticated, Unavailable


class Role(StrEnum):
    CITIZEN = "citizen"  # also a related person: a citizen acting by approval
    CASEWORKER = "caseworker"
    FEE_ADMINISTRATOR = "fee_administrator"
    MESSAGING_ADMIN = "messaging_admin"
    LOG_REVIEWER = "log_reviewer"
    PROVIDER = "provider"
    PROVIDER_MANAGER = "provider_manager"
    ADMIN = "admin"
    # A permission, held beside a staff role: may see the address of persons
    # with protected identity (skyddad folkbokföring, sekretessmarkering).
    PROTECTED_IDENTITY = "protected_identity"


STAFF_ROLES = frozenset({Role.CASEWORKER, Role.FEE_ADMINISTRATOR, Role.MESSAGING_ADMIN,
                         Role.LOG_REVIEWER, Role.ADMIN, Role.PROTECTED_IDENTITY})
PROVIDER_ROLES = frozenset({Role.PROVIDER, Role.PROVIDER_MANAGER})


@dataclass(frozen=True)
class User:
    sub: str
    name: str
    roles: frozenset[str]
    pnr: Personnummer | None = None
    units: tuple[str, ...] = ()
    provider_id: str | None = None

    @property
    def main_role(self) -> str:
        return sorted(self.roles)[0] if self.roles else "none"

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass
class JwksVerifier:
    """Verifies RS256 tokens against the JWKS of the issuer their `iss` names, if
    that issuer is trusted: the staff IdP, and the citizen login for citizens only.
    Refetches an issuer's JWKS on an unknown key id."""

    issuer_url: str
    audience: str
    # Intake's e-ID login (IN-1); None: only the staff IdP is trusted.
    citizen_issuer_url: str | None = None
    refetch_interval: float = 30.0
    _keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # issuer -> kid -> key
    _fetched_at: dict[str, float] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    @property
    def issuers(self) -> frozenset[str]:
        return frozenset(i for i in (self.issuer_url, self.citizen_issuer_url) if i)

    async def _refresh(self, issuer: str) -> None:
        async with self._locks.setdefault(issuer, asyncio.Lock()):
            if (time.monotonic() - self._fetched_at.get(issuer, 0.0) < self.refetch_interval
                    and self._keys.get(issuer)):
                return
            async with httpx.AsyncClient(timeout=5) as client:
                discovery = (await client.get(f"{issuer}/.well-known/openid-configuration")).json()
                jwks = (await client.get(discovery["jwks_uri"])).json()
            self._keys[issuer] = {k["kid"]: jwt.PyJWK(k).key for k in jwks["keys"]}
            self._fetched_at[issuer] = time.monotonic()

    async def _key(self, issuer: str, kid: str) -> Any:
        if kid not in self._keys.get(issuer, {}):
            try:
                await self._refresh(issuer)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                raise Unavailable("The identity provider's keys cannot be fetched.") from exc
        if kid not in self._keys.get(issuer, {}):
            raise NotAuthenticated("The token is signed by an unknown key.")
        return self._keys[issuer][kid]

    async def verify(self, token: str) -> User:
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
            # Only to pick the JWKS: the signature and `iss` are verified below.
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            if not isinstance(issuer, str) or issuer not in self.issuers:
                raise NotAuthenticated("The token's issuer is not trusted.")
            claims = jwt.decode(token, await self._key(issuer, kid), algorithms=["RS256"],
                                audience=self.audience, issuer=issuer,
                                options={"require": ["exp", "sub", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(f"The token is not valid ({type(exc).__name__}).") from exc
        roles = frozenset(claims.get("roles", []))
        if issuer == self.citizen_issuer_url and roles != {Role.CITIZEN}:
            raise NotAuthenticated("The citizen login issuer vouches for citizens only.")
        try:
            pnr = Personnummer(claims["pnr"]) if claims.get("pnr") else None
        except InvalidPersonnummer as exc:
            raise NotAuthenticated("The token's personnummer is not valid.") from exc
        return User(sub=str(claims["sub"]), name=str(claims.get("name", "")), roles=roles, pnr=pnr,
                    units=tuple(claims.get("units", [])), provider_id=claims.get("provider_id"))


_bearer = HTTPBearer(auto_error=False)


async def current_user(request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                       ) -> User:
    if credentials is None:
        raise NotAuthenticated("A bearer token is required.")
    verifier: JwksVerifier = request.app.state.verifier
    return await verifier.verify(credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, User]]:
    """A dependency that lets through a user holding any of `roles`."""

    async def dependency(user: CurrentUser) -> User:
        if not user.roles.intersection(roles):
            raise NotAllowed(f"This needs the role {' or '.join(roles)}.")
        if Role.CITIZEN in roles and user.has(Role.CITIZEN) and user.pnr is None:
            raise NotAuthenticated("A citizen token must carry a personnummer.")
        return user

    return dependency


Citizen = Annotated[User, Depends(require_role(Role.CITIZEN))]
Caseworker = Annotated[User, Depends(require_role(Role.CASEWORKER))]
LogReviewer = Annotated[User, Depends(require_role(Role.LOG_REVIEWER))]
