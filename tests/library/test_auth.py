"""JwksVerifier against a real identity provider over HTTP: a small OIDC
discovery + JWKS server on a free port, whose keys the test rotates, spoils and
takes down. Our verifier runs unmocked; only the IdP is a stand-in."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import JwksVerifier
from shared.problems import NotAuthenticated, Unavailable

AUDIENCE = "omsorg"


class FakeIdp:
    """Discovery and JWKS as an IdP serves them; `keys` and `down` may change at any time."""

    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.down = False
        self.delay = 0.0  # seconds before each answer: a slow IdP
        self.requests: Counter[str] = Counter()
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                idp.requests[self.path] += 1
                time.sleep(idp.delay)
                if idp.down:
                    self._send(503, {"error": "maintenance"})
                elif self.path == "/.well-known/openid-configuration":
                    self._send(200, {"issuer": idp.url, "jwks_uri": f"{idp.url}/jwks.json"})
                elif self.path == "/jwks.json":
                    self._send(200, {"keys": idp.keys})
                else:
                    self._send(404, {})

            def _send(self, status: int, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def outbound(self) -> int:
        return sum(self.requests.values())


@pytest.fixture
def idp() -> Iterator[FakeIdp]:
    server = FakeIdp()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


class Key:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def token(self, issuer: str) -> str:
        now = int(time.time())
        return jwt.encode(
            {
                "iss": issuer,
                "aud": AUDIENCE,
                "sub": "cw-1",
                "name": "Marita Aronsson",
                "roles": ["caseworker"],
                "units": ["testenhet"],
                "iat": now,
                "exp": now + 600,
            },
            self.private,
            algorithm="RS256",
            headers={"kid": self.kid},
        )


@pytest.fixture(scope="module")
def keys() -> tuple[Key, Key]:
    return Key("old-key"), Key("new-key")


async def test_a_key_the_idp_removed_is_refused_after_the_next_refresh(
    idp: FakeIdp, keys: tuple[Key, Key]
) -> None:
    old, new = keys
    idp.keys = [old.jwk(), new.jwk()]
    verifier = JwksVerifier(idp.url, AUDIENCE, refresh_interval=0.3)
    assert (await verifier.verify(old.token(idp.url))).sub == "cw-1"
    assert (await verifier.verify(new.token(idp.url))).sub == "cw-1"

    idp.keys = [new.jwk()]  # rotated: the old key is withdrawn (perhaps leaked)
    await asyncio.sleep(0.4)
    # The first request after the interval is served from the known keys and
    # starts the refetch beside it; once that is done the old key is refused.
    assert (await verifier.verify(new.token(idp.url))).sub == "cw-1"
    await asyncio.sleep(0.2)
    with pytest.raises(NotAuthenticated, match="unknown key"):
        await verifier.verify(old.token(idp.url))
    assert (await verifier.verify(new.token(idp.url))).sub == "cw-1"


async def test_a_slow_idp_delays_no_request_whose_key_is_known(idp: FakeIdp, keys: tuple[Key, Key]) -> None:
    key = keys[1]
    idp.keys = [key.jwk()]
    verifier = JwksVerifier(idp.url, AUDIENCE, refresh_interval=0.1)
    assert (await verifier.verify(key.token(idp.url))).sub == "cw-1"
    await asyncio.sleep(0.2)  # the keys are due for their scheduled refetch
    idp.delay = 2.0
    started = time.monotonic()
    assert (await verifier.verify(key.token(idp.url))).sub == "cw-1"
    assert time.monotonic() - started < 1.0, "the scheduled refetch must not hold the request"


@pytest.mark.parametrize(
    "garbage",
    [
        {"kty": "EC", "kid": "ec-key", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},  # no kid
        {"kty": "RSA", "kid": 7, "n": "AQAB", "e": "AQAB"},
        {"kty": "RSA", "kid": "broken", "n": "!!not base64!!", "e": "AQAB"},
        {"kty": "RSA", "kid": "no-modulus", "e": "AQAB"},
        {"kty": "RSA", "kid": "encryption", "use": "enc", "n": "AQAB", "e": "AQAB"},
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        "not an object",
        None,
    ],
)
async def test_an_unusable_jwks_entry_beside_a_good_one_is_skipped(
    idp: FakeIdp, keys: tuple[Key, Key], garbage: Any
) -> None:
    good = keys[1]
    idp.keys = [garbage, good.jwk()]
    verifier = JwksVerifier(idp.url, AUDIENCE)
    assert (await verifier.verify(good.token(idp.url))).sub == "cw-1"


async def test_while_the_idp_is_down_known_keys_work_without_a_call_per_request(
    idp: FakeIdp, keys: tuple[Key, Key]
) -> None:
    known, _ = keys
    idp.keys = [known.jwk()]
    verifier = JwksVerifier(idp.url, AUDIENCE, refresh_interval=0.1, first_backoff=30)
    await verifier.verify(known.token(idp.url))
    assert idp.outbound == 2  # discovery + JWKS

    idp.down = True
    await asyncio.sleep(0.2)  # the keys are due for their refresh
    for _ in range(50):
        assert (await verifier.verify(known.token(idp.url))).sub == "cw-1"
    with pytest.raises(NotAuthenticated, match="unknown key"):
        await verifier.verify(Key("stranger").token(idp.url))
    assert idp.outbound == 3  # one failed refresh, then backing off


async def test_a_verifier_that_never_reached_the_idp_answers_unavailable_without_hammering_it(
    idp: FakeIdp, keys: tuple[Key, Key]
) -> None:
    idp.down = True
    verifier = JwksVerifier(idp.url, AUDIENCE, first_backoff=30)
    for _ in range(50):
        with pytest.raises(Unavailable):
            await verifier.verify(keys[0].token(idp.url))
    assert idp.outbound == 1

    # When the backoff has passed, the next request tries again and gets the keys.
    idp.down = False
    idp.keys = [keys[0].jwk()]
    quick = JwksVerifier(idp.url, AUDIENCE, first_backoff=0.2)
    idp.down = True
    with pytest.raises(Unavailable):
        await quick.verify(keys[0].token(idp.url))
    idp.down = False
    await asyncio.sleep(0.3)
    assert (await quick.verify(keys[0].token(idp.url))).sub == "cw-1"
