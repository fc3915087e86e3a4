"""Intake as the issuer of citizen tokens (IN-1): its RSA login key, the token
it signs after an e-ID login, and the discovery and JWKS documents every
service verifies that token with."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import Role
from shared.personnummer import Personnummer


def load_or_create_key(path: Path, environment: str) -> rsa.RSAPrivateKey:
    """The login signing key from `path`; in development a new one is written there if missing."""
    if not path.exists():
        if environment == "production":
            raise RuntimeError(
                f"The citizen login signing key {path} does not exist "
                "(INTAKE_LOGIN_KEY_FILE); production never generates one."
            )
        _create_key(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError(f"The citizen login signing key {path} is not an RSA key.")
    return key


def _create_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    try:
        # link, not rename: when replicas start together, the first key wins
        # and every one of them loads that same key.
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        partial.unlink()


@dataclass(frozen=True)
class CitizenTokenIssuer:
    """Signs citizen tokens shaped like the IdP's (and the dev issuer's)."""

    issuer: str
    audience: str
    key: rsa.RSAPrivateKey = field(repr=False)
    lifetime_seconds: int = 3600
    kid: str = field(init=False)
    _subject_secret: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        numbers = self.key.public_key().public_numbers()
        object.__setattr__(self, "kid", uuid.uuid5(uuid.NAMESPACE_OID, f"{numbers.n}").hex[:16])
        der = self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        object.__setattr__(
            self, "_subject_secret", hmac.new(der, b"omsorg citizen subject v1", hashlib.sha256).digest()
        )

    def subject(self, pnr: Personnummer) -> str:
        """A stable pseudonymous `sub` for the person: not the personnummer, not derivable without the key."""
        return hmac.new(self._subject_secret, str(pnr).encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, pnr: Personnummer, name: str, method: str, token_id: uuid.UUID) -> str:
        """A signed citizen token for the person the e-ID login named."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": self.subject(pnr),
            "name": name,
            "pnr": str(pnr),
            "roles": [Role.CITIZEN.value],
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "acr": "loa3",
            "amr": [method],
            "jti": str(token_id),
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWK set."""
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
