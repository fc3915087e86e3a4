"""DEVELOPMENT token issuer — never for production.

Stands in for the municipality's OpenID Connect provider in local runs and
tests: OIDC discovery, a JWKS, and `POST /token` that signs a token for the
role asked for. It starts only when OMSORG_ENVIRONMENT explicitly says
development or test (unset or production: it refuses), and deploy/omsorg.sh
binds it to 127.0.0.1 only. Its RSA key is kept in a file of the run folder so
tokens survive its restarts.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from pydantic import BaseModel, Field, model_validator

from shared.auth import PROVIDER_ROLES, Role
from shared.personnummer import Personnummer
from shared.problems import install_problem_handlers
from shared.settings import ConfigurationRefused, require_development

try:
    require_development("The development token issuer")
except ConfigurationRefused as refused:
    raise SystemExit(str(refused)) from None

ISSUER = os.environ.get("DEV_ISSUER_URL", "http://127.0.0.1:8100")
AUDIENCE = os.environ.get("DEV_ISSUER_AUDIENCE", "omsorg")
KEY_FILE = Path(os.environ.get("DEV_ISSUER_KEY_FILE", ".run/dev-issuer/key.pem"))
TOKEN_SECONDS = 3600


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return key


PRIVATE_KEY = _load_or_create_key(KEY_FILE)
KID = uuid.uuid5(uuid.NAMESPACE_OID, str(PRIVATE_KEY.public_key().public_numbers().n)).hex[:16]


class TokenRequest(BaseModel):
    """What the role needs: citizens pnr and name; staff units; provider staff
    provider_id and units."""

    role: Role
    extra_roles: list[Role] = Field(default_factory=list, max_length=8)
    sub: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    pnr: Personnummer | None = None
    units: list[str] = Field(default_factory=list, max_length=50)
    provider_id: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _claims_fit_role(self) -> TokenRequest:
        if self.role == Role.CITIZEN:
            if self.pnr is None:
                raise ValueError("a citizen token needs pnr")
            if self.units or self.provider_id:
                raise ValueError("a citizen token has no units or provider_id")
        elif self.role in PROVIDER_ROLES:
            if not self.provider_id or not self.units:
                raise ValueError("a provider token needs provider_id and units")
        elif not self.units:
            raise ValueError("a staff token needs units")
        return self


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = TOKEN_SECONDS


app = FastAPI(
    title="Omsorg DEVELOPMENT token issuer",
    description="Development only. Issues tokens shaped like the municipality IdP's.",
)
install_problem_handlers(app)


@app.get("/.well-known/openid-configuration")
async def discovery() -> dict[str, Any]:
    """OIDC discovery document."""
    return {
        "issuer": ISSUER,
        "jwks_uri": f"{ISSUER}/jwks.json",
        "token_endpoint": f"{ISSUER}/token",
        "id_token_signing_alg_values_supported": ["RS256"],
    }


@app.get("/jwks.json")
async def jwks() -> dict[str, Any]:
    """The public signing key."""
    public = jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE_KEY.public_key(), as_dict=True)
    return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}


@app.post("/token")
async def token(request: TokenRequest) -> TokenResponse:
    """Sign a token for the role and claims asked for."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": request.sub,
        "name": request.name,
        "roles": sorted({request.role, *request.extra_roles}),
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "acr": "loa3" if request.role == Role.CITIZEN else "loa2",
    }
    if request.pnr:
        claims["pnr"] = str(request.pnr)
    if request.units:
        claims["units"] = request.units
    if request.provider_id:
        claims["provider_id"] = request.provider_id
    encoded = jwt.encode(claims, PRIVATE_KEY, algorithm="RS256", headers={"kid": KID})
    return TokenResponse(access_token=encoded)
