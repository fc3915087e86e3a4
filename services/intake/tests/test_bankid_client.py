"""The BankID RP API v6 client against a local fake BankID that speaks the
documented JSON over HTTPS and, like BankID, demands a client certificate.
Also the configuration that chooses between it and the simulator."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.config import Settings
from intake.login import service
from intake.login.bankid import BankIdClient
from intake.login.schemas import Simulation
from shared.problems import Conflict, InvalidInput, ServiceError, Unavailable

# ------------------------------------------------------------- certificates ---


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA BankID does not trust, and that did not sign the server
    other_client_cert: Path
    other_client_key: Path


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(
    ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, common_name: str, *, server: bool
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def _write(
    folder: Path, stem: str, key: rsa.RSAPrivateKey | None, cert: x509.Certificate
) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("bankid-pki")
    ca_key, ca_cert = _ca("Fake BankID Test CA")
    other_key, other_cert = _ca("Somebody Else's CA")
    ca, _ = _write(folder, "ca", None, ca_cert)
    other_ca, _ = _write(folder, "other-ca", None, other_cert)
    server_cert, server_key = _write(folder, "server", *_leaf(ca_key, ca_cert, "appapi.fake", server=True))
    client_cert, client_key = _write(folder, "client", *_leaf(ca_key, ca_cert, "Omsorg RP", server=False))
    other_client_cert, other_client_key = _write(
        folder, "other-client", *_leaf(other_key, other_cert, "Impostor RP", server=False)
    )
    return Pki(
        ca, server_cert, server_key, client_cert, client_key, other_ca, other_client_cert, other_client_key
    )


# ------------------------------------------------------------ fake BankID ---


@dataclass
class FakeBankId:
    """BankID's RP API v6 as documented: auth, collect (pending, then complete), cancel."""

    requests: list[tuple[str, Any]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The next answer of any call, instead of the normal one: (status, body or text).
    failure: tuple[int, Any] | None = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/rp/v6.0/{method}")
        async def call(method: str, request: Request) -> Response:
            body = await request.json()
            self.requests.append((method, body))
            if request.headers.get("content-type") != "application/json":
                return JSONResponse({"errorCode": "unsupportedMediaType"}, status_code=415)
            if self.failure is not None:
                status, answer = self.failure
                self.failure = None
                if isinstance(answer, str):
                    return PlainTextResponse(answer, status_code=status)
                return JSONResponse(answer, status_code=status)
            if method == "auth":
                return JSONResponse(self._auth(body))
            if method in ("collect", "cancel") and body.get("orderRef") not in self.orders:
                return JSONResponse(
                    {"errorCode": "invalidParameters", "details": "No such order"}, status_code=400
                )
            if method == "collect":
                return JSONResponse(self._collect(body["orderRef"]))
            if method == "cancel":
                del self.orders[body["orderRef"]]
                return JSONResponse({})
            return JSONResponse({"errorCode": "notFound", "details": "No such method"}, status_code=404)

        return app

    def _auth(self, body: dict[str, Any]) -> dict[str, Any]:
        order_ref = str(uuid.uuid4())
        self.orders[order_ref] = {"collects": 0, "endUserIp": body["endUserIp"]}
        return {
            "orderRef": order_ref,
            "autoStartToken": str(uuid.uuid4()),
            "qrStartToken": str(uuid.uuid4()),
            "qrStartSecret": str(uuid.uuid4()),
        }

    def _collect(self, order_ref: str) -> dict[str, Any]:
        order = self.orders[order_ref]
        order["collects"] += 1
        if order["collects"] == 1:
            return {"orderRef": order_ref, "status": "pending", "hintCode": "outstandingTransaction"}
        return {
            "orderRef": order_ref,
            "status": "complete",
            "completionData": {
                "user": {
                    "personalNumber": "190000000000",
                    "name": "Karl Karlsson",
                    "givenName": "Karl",
                    "surname": "Karlsson",
                },
                "device": {"ipAddress": order["endUserIp"], "uhi": "OZvYM9VvyiAmG7NA5jU5zqGcVpo="},
                "bankIdIssueDate": "2020-02-01",
                "stepUp": {"mrtd": False},
                "signature": "PD94bWwgdmVyc2lvbj0iMS4wIj8+",
                "ocspResponse": "MIIHfgoBAKCCB3cw",
                "risk": "low",
            },
        }


@dataclass
class RunningFake:
    fake: FakeBankId
    base_url: str
    port: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bankid(pki: Pki) -> Iterator[RunningFake]:
    fake = FakeBankId()
    port = _free_port()
    config = uvicorn.Config(
        fake.app(),
        host="127.0.0.1",
        port=port,
        log_level="critical",
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the fake BankID server did not start")
        time.sleep(0.02)
    yield RunningFake(fake, f"https://127.0.0.1:{port}/rp/v6.0", port)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def fake(bankid: RunningFake) -> FakeBankId:
    bankid.fake.requests.clear()
    bankid.fake.failure = None
    return bankid.fake


def _client(
    bankid: RunningFake,
    pki: Pki,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    ca: Path | None = None,
    base_url: str | None = None,
) -> BankIdClient:
    return BankIdClient(
        base_url or bankid.base_url, cert or pki.client_cert, key or pki.client_key, ca or pki.ca, timeout=5
    )


# ------------------------------------------------------------------ tests ---


async def test_auth_collect_and_cancel_speak_the_rp_v6_json_over_mutual_tls(
    bankid: RunningFake, fake: FakeBankId, pki: Pki
) -> None:
    client = _client(bankid, pki)

    order = await client.auth("192.0.2.10")
    assert fake.requests == [("auth", {"endUserIp": "192.0.2.10"})]
    assert order.order_ref in fake.orders
    assert order.auto_start_token and order.qr_start_token and order.qr_start_secret
    assert order.qr_start_secret not in repr(order)

    pending = await client.collect(order.order_ref)
    assert (pending.status, pending.hint_code, pending.user) == ("pending", "outstandingTransaction", None)

    complete = await client.collect(order.order_ref)
    assert complete.status == "complete"
    assert complete.user is not None
    assert (
        complete.user.personal_number,
        complete.user.name,
        complete.user.given_name,
        complete.user.surname,
    ) == ("190000000000", "Karl Karlsson", "Karl", "Karlsson")
    assert "190000000000" not in repr(complete)
    assert fake.requests[1:] == [("collect", {"orderRef": order.order_ref})] * 2

    second = await client.auth("192.0.2.11")
    await client.cancel(second.order_ref)
    assert fake.requests[-1] == ("cancel", {"orderRef": second.order_ref})
    assert second.order_ref not in fake.orders


@pytest.mark.parametrize(
    ("status", "answer", "problem", "bankid_error"),
    [
        (
            400,
            {"errorCode": "alreadyInProgress", "details": "Order already in progress for pno"},
            Conflict,
            "alreadyInProgress",
        ),
        (
            400,
            {"errorCode": "invalidParameters", "details": "Invalid endUserIp"},
            InvalidInput,
            "invalidParameters",
        ),
        (401, {"errorCode": "unauthorized", "details": "RP not allowed"}, Unavailable, "unauthorized"),
        (408, {"errorCode": "requestTimeout", "details": "Timeout"}, Unavailable, "requestTimeout"),
        (500, {"errorCode": "internalError", "details": "Internal error"}, Unavailable, "internalError"),
        (503, {"errorCode": "maintenance", "details": "Service unavailable"}, Unavailable, "maintenance"),
        (502, "<html>Bad gateway</html>", Unavailable, "http502"),
    ],
)
async def test_bankid_errors_become_problems_never_a_500(
    bankid: RunningFake,
    fake: FakeBankId,
    pki: Pki,
    status: int,
    answer: Any,
    problem: type[ServiceError],
    bankid_error: str,
) -> None:
    fake.failure = (status, answer)
    with pytest.raises(problem) as raised:
        await _client(bankid, pki).auth("192.0.2.10")
    assert raised.value.status == problem.status
    assert raised.value.extra["bankid_error"] == bankid_error
    assert "pno" not in raised.value.detail  # BankID's free-text details are not passed on


async def test_collect_of_an_unknown_order_is_invalid_input(
    bankid: RunningFake, fake: FakeBankId, pki: Pki
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await _client(bankid, pki).collect(str(uuid.uuid4()))
    assert raised.value.status == 422


@pytest.mark.parametrize(
    "answer",
    [
        "not json",
        {"orderRef": "x", "status": "complete"},  # complete without completionData
        {"orderRef": "x", "status": "whatever", "hintCode": "started"},
    ],
)
async def test_an_answer_that_cannot_be_read_is_unavailable(
    bankid: RunningFake, fake: FakeBankId, pki: Pki, answer: Any
) -> None:
    fake.failure = (200, answer)
    with pytest.raises(Unavailable):
        await _client(bankid, pki).collect("x")


async def test_a_client_without_a_certificate_is_refused(
    bankid: RunningFake, fake: FakeBankId, pki: Pki
) -> None:
    trusts_server = ssl.create_default_context(cafile=str(pki.ca))
    async with httpx.AsyncClient(verify=trusts_server, timeout=5) as anonymous:
        with pytest.raises(httpx.TransportError):
            await anonymous.post(f"{bankid.base_url}/auth", json={"endUserIp": "192.0.2.10"})
    assert fake.requests == []


async def test_a_client_certificate_bankid_does_not_trust_is_refused_as_unavailable(
    bankid: RunningFake, fake: FakeBankId, pki: Pki
) -> None:
    impostor = _client(bankid, pki, cert=pki.other_client_cert, key=pki.other_client_key)
    with pytest.raises(Unavailable):
        await impostor.auth("192.0.2.10")
    assert fake.requests == []


async def test_a_server_not_signed_by_the_configured_ca_is_not_trusted(
    bankid: RunningFake, fake: FakeBankId, pki: Pki
) -> None:
    with pytest.raises(Unavailable):
        await _client(bankid, pki, ca=pki.other_ca).auth("192.0.2.10")
    assert fake.requests == []


async def test_bankid_out_of_reach_is_unavailable(bankid: RunningFake, pki: Pki) -> None:
    with pytest.raises(Unavailable):
        await _client(bankid, pki, base_url=f"https://127.0.0.1:{_free_port()}/rp/v6.0").auth("192.0.2.10")


async def test_simulate_is_refused_when_bankid_answers(
    bankid: RunningFake, fake: FakeBankId, pki: Pki
) -> None:
    # Refused before any order starts or anything is stored: the session stays unbound.
    with pytest.raises(InvalidInput, match="simulator") as raised:
        await service.start(AsyncSession(), _client(bankid, pki), "192.0.2.10", Simulation())
    assert raised.value.status == 422
    assert fake.requests == []


# ---------------------------------------------------------- configuration ---

PRODUCTION = {
    "database_url": "postgresql+asyncpg://intake@db/intake",
    "environment": "production",
    "issuer_url": "https://idp.kommun.example",
    "citizen_issuer_url": "https://e.kommun.example/auth",
}


def test_the_simulator_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="simulator must not run in production"):
        Settings(**PRODUCTION, eid_backend="simulator")


def test_the_bankid_backend_needs_its_certificates(pki: Pki) -> None:
    with pytest.raises(ValidationError, match="bankid_cert_file, bankid_key_file, bankid_ca_file"):
        Settings(**PRODUCTION, eid_backend="bankid")
    settings = Settings(
        **PRODUCTION,
        eid_backend="bankid",
        bankid_cert_file=pki.client_cert,
        bankid_key_file=pki.client_key,
        bankid_ca_file=pki.ca,
    )
    assert settings.eid_backend == "bankid"
