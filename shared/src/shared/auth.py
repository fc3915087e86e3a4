"""Bearer-token verification against the identity provider's JWKS, and the
typed current-user dependencies endpoints declare."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
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

log = logging.getLogger(__name__)


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


STAFF_ROLES = frozenset(
    {
        Role.CASEWORKER,
        Role.FEE_ADMINISTRATOR,
        Role.MESSAGING_ADMIN,
        Role.LOG_REVIEWER,
        Role.ADMIN,
        Role.PROTECTED_IDENTITY,
    }
)
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
class _IssuerKeys:
    """What a verifier knows of one issuer's JWKS, and when to ask again."""

    keys: dict[str, Any] = field(default_factory=dict)  # kid -> public key
    fetched_at: float | None = None  # last successful fetch (monotonic)
    attempted_at: float = float("-inf")  # last fetch attempt, successful or not
    failures: int = 0  # failed fetches in a row
    retry_at: float = float("-inf")  # no outbound call before this while the IdP is failing
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    background: asyncio.Task[None] | None = None  # a scheduled refresh under way


def usable_keys(jwks: Any) -> tuple[dict[str, Any], list[str]]:
    """The RS256 signing keys of a JWKS document by kid, and why any other entry
    was skipped. One bad entry must not stop the good keys beside it."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, Any] = {}
    skipped: list[str] = []
    for index, entry in enumerate(jwks["keys"]):
        kid = entry.get("kid") if isinstance(entry, dict) else None
        where = f"#{index} kid={kid!r}"[:80]
        if not isinstance(entry, dict) or not isinstance(kid, str) or not kid:
            skipped.append(f"#{index}: no kid")
        elif entry.get("kty") != "RSA":
            skipped.append(f"{where}: kty is not RSA")
        elif entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            skipped.append(f"{where}: not an RS256 signing key")
        else:
            try:
                keys[kid] = jwt.PyJWK(entry, algorithm="RS256").key
            except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
                skipped.append(f"{where}: {type(exc).__name__}")
    return keys, skipped


@dataclass(frozen=True)
class _Verified:
    """A token that passed verification: whom it vouches for, whose key signed it, until when."""

    user: User
    issuer: str
    kid: str
    expires_at: float  # the token's exp (seconds since the epoch)
    cached_until: float  # time.monotonic()


@dataclass
class JwksVerifier:
    """Verifies RS256 tokens against the JWKS of the issuer their `iss` names, if
    that issuer is trusted: the staff IdP, and the citizen login for citizens only.

    An issuer's JWKS is refetched every `refresh_interval` seconds (so keys it
    removed stop working; the request that finds the keys due is served from
    the known keys while the refetch runs beside it), and on an unknown key id at most every
    `unknown_kid_interval` seconds. While its IdP fails, fetches back off
    exponentially up to `max_backoff`, with no outbound call in between: keys
    already known keep working, anything else is refused at once."""

    issuer_url: str
    audience: str
    # Intake's e-ID login (IN-1); None: only the staff IdP is trusted.
    citizen_issuer_url: str | None = None
    refresh_interval: float = 300.0
    unknown_kid_interval: float = 30.0
    first_backoff: float = 1.0
    max_backoff: float = 60.0
    fetch_timeout: float = 5.0
    # Verified tokens, kept briefly: a client sends the same token with every
    # request, and checking its RS256 signature (and parsing it three times)
    # is most of what authenticating a request costs. See `verify`.
    verified_cache_size: int = 1024
    verified_cache_seconds: float = 60.0
    _issuers: dict[str, _IssuerKeys] = field(default_factory=dict)
    _verified: OrderedDict[str, _Verified] = field(default_factory=OrderedDict)

    @property
    def issuers(self) -> frozenset[str]:
        return frozenset(i for i in (self.issuer_url, self.citizen_issuer_url) if i)

    def _wants_fetch(self, state: _IssuerKeys, kid: str, now: float) -> bool:
        if now < state.retry_at:
            return False  # the IdP is failing: wait out the backoff
        if state.fetched_at is None or now - state.fetched_at >= self.refresh_interval:
            return True
        return kid not in state.keys and now - state.attempted_at >= self.unknown_kid_interval

    async def _refresh(self, issuer: str, state: _IssuerKeys, kid: str) -> None:
        async with state.lock:
            # Another request may have fetched (or failed) while this one waited.
            if not self._wants_fetch(state, kid, time.monotonic()):
                return
            state.attempted_at = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=self.fetch_timeout) as client:
                    discovery = (await client.get(f"{issuer}/.well-known/openid-configuration")).json()
                    jwks = (await client.get(discovery["jwks_uri"])).json()
                keys, skipped = usable_keys(jwks)
            except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
                state.failures += 1
                backoff = min(self.max_backoff, self.first_backoff * 2 ** (state.failures - 1))
                state.retry_at = time.monotonic() + backoff
                log.warning(
                    "JWKS of %s cannot be fetched (%s); %d keys kept, next try in %.0f s",
                    issuer,
                    type(exc).__name__,
                    len(state.keys),
                    backoff,
                )
                return
            for reason in skipped:
                log.warning("JWKS of %s: entry skipped, %s", issuer, reason)
            state.keys, state.fetched_at, state.failures = keys, time.monotonic(), 0
            state.retry_at = float("-inf")

    async def _key(self, issuer: str, kid: str) -> Any:
        state = self._issuers.setdefault(issuer, _IssuerKeys())
        if self._wants_fetch(state, kid, time.monotonic()):
            if kid in state.keys:
                # Only the schedule asks for a fetch: serve the known key now and
                # refresh beside the request, so a slow IdP delays nobody.
                if state.background is None or state.background.done():
                    state.background = asyncio.create_task(self._refresh(issuer, state, kid))
            else:
                await self._refresh(issuer, state, kid)
        if kid in state.keys:
            return state.keys[kid]
        if state.fetched_at is None:
            raise Unavailable("The identity provider's keys cannot be fetched.")
        raise NotAuthenticated("The token is signed by an unknown key.")

    async def verify(self, token: str) -> User:
        """The user a valid token vouches for; NotAuthenticated (or Unavailable) otherwise.

        A token verified within `verified_cache_seconds` is answered from a
        bounded LRU without checking its signature again, but never past its
        `exp`, and only while its issuer still publishes its key (so a key the
        IdP withdrew stops its tokens at the next refresh, as before). The
        cache is keyed by the whole token, not its signature alone: a cached
        signature under another header or payload is a different key."""
        hit = self._verified.get(token)
        if hit is not None:
            if time.time() < hit.expires_at and time.monotonic() < hit.cached_until:
                await self._key(hit.issuer, hit.kid)  # raises if the key is gone
                if token in self._verified:  # another request may have evicted it meanwhile
                    self._verified.move_to_end(token)
                return hit.user
            self._verified.pop(token, None)
        user, verified = await self._verify(token)
        self._verified[token] = verified
        if len(self._verified) > self.verified_cache_size:
            self._verified.popitem(last=False)
        return user

    async def _verify(self, token: str) -> tuple[User, _Verified]:
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
            # Only to pick the JWKS: the signature and `iss` are verified below.
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            if not isinstance(issuer, str) or issuer not in self.issuers:
                raise NotAuthenticated("The token's issuer is not trusted.")
            if not isinstance(kid, str) or not kid:
                raise NotAuthenticated("The token names no key (kid).")
            claims = jwt.decode(
                token,
                await self._key(issuer, kid),
                algorithms=["RS256"],
                audience=self.audience,
                issuer=issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(f"The token is not valid ({type(exc).__name__}).") from exc
        roles = frozenset(claims.get("roles", []))
        if issuer == self.citizen_issuer_url and roles != {Role.CITIZEN}:
            raise NotAuthenticated("The citizen login issuer vouches for citizens only.")
        try:
            pnr = Personnummer(claims["pnr"]) if claims.get("pnr") else None
        except InvalidPersonnummer as exc:
            raise NotAuthenticated("The token's personnummer is not valid.") from exc
        user = User(
            sub=str(claims["sub"]),
            name=str(claims.get("name", "")),
            roles=roles,
            pnr=pnr,
            units=tuple(claims.get("units", [])),
            provider_id=claims.get("provider_id"),
        )
        cached_until = time.monotonic() + self.verified_cache_seconds
        return user, _Verified(user, issuer, kid, float(claims["exp"]), cached_until)


_bearer = HTTPBearer(auto_error=False)


async def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
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
