"""JwksVerifier's cache of verified tokens (issue 11): a token is checked once
and then answered from memory, but never past its expiry, and the cache stays
bounded. Against a real IdP over HTTP (a small discovery + JWKS server on a
free port); the verifier runs unmocked. That a withdrawn key stops its cached
tokens is tested in test_auth.py (a key the IdP removed)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import JwksVerifier
from shared.problems import NotAuthenticated

AUDIENCE = "omsorg"
KID = "cache-test-key"
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    """An IdP publishing one signing key."""
    jwk = {
        **jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE_KEY.public_key(), as_dict=True),
        "kid": KID,
        "use": "sig",
        "alg": "RS256",
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = {"jwks_uri": f"{url}/jwks.json"} if "openid" in self.path else {"keys": [jwk]}
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def token(issuer: str, sub: str = "cw-1", lifetime: float = 600) -> str:
    now = time.time()
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": sub,
        "name": "Marita Aronsson",
        "roles": ["caseworker"],
        "iat": int(now),
        "exp": int(now + lifetime),
    }
    return jwt.encode(claims, PRIVATE_KEY, algorithm="RS256", headers={"kid": KID})


async def test_a_cached_token_is_refused_once_it_expires(issuer: str) -> None:
    verifier = JwksVerifier(issuer, AUDIENCE, verified_cache_seconds=600)
    short = token(issuer, lifetime=2)
    assert (await verifier.verify(short)).sub == "cw-1"
    assert (await verifier.verify(short)).sub == "cw-1"  # from the cache

    deadline = jwt.decode(short, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, deadline - time.time()) + 0.1)
    with pytest.raises(NotAuthenticated):
        await verifier.verify(short)


async def test_a_cached_token_answers_as_verified_and_the_cache_stays_bounded(issuer: str) -> None:
    verifier = JwksVerifier(issuer, AUDIENCE, verified_cache_size=3)
    tokens = [token(issuer, sub=f"cw-{i}") for i in range(10)]
    for _ in range(2):
        assert [(await verifier.verify(t)).sub for t in tokens] == [f"cw-{i}" for i in range(10)]
    assert len(verifier._verified) == 3  # the least recently used went first


async def test_a_tampered_copy_of_a_cached_token_is_refused(issuer: str) -> None:
    verifier = JwksVerifier(issuer, AUDIENCE)
    good = token(issuer)
    await verifier.verify(good)
    header, _payload, signature = good.split(".")
    forged_payload = jwt.utils.base64url_encode(
        json.dumps({"iss": issuer, "aud": AUDIENCE, "sub": "admin", "exp": 2**31}).encode()
    ).decode()
    with pytest.raises(NotAuthenticated):  # the cached signature under another payload
        await verifier.verify(f"{header}.{forged_payload}.{signature}")
