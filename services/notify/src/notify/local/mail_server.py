"""DEVELOPMENT mail server — never for production (docs/notify-local.md).

SMTP on 127.0.0.1:2525 (aiosmtpd; STARTTLS with a certificate it makes itself,
AUTH PLAIN/LOGIN optional) keeps the last 10 000 mails in memory; HTTP on
127.0.0.1:8106 lists them and controls how the server answers:

    GET    /messages?to=<address>      what arrived (from, to, subject, text, message_id, ...)
    DELETE /messages                   forget everything
    POST   /control                    {"mode": "ok" | "temporary" | "permanent" | "down"}
    POST   /control/addresses/{address} {"reply": "ok" | "temporary" | "permanent"}
    GET    /certificate                the CA that signed the STARTTLS certificate (PEM)
    GET    /health

temporary answers 451 and permanent 550 at RCPT; down stops listening for SMTP
(connections are refused) until the mode is set back.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import ssl
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Response
from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from notify.config import DEV_MAIL_HTTP_PORT, DEV_SMTP_PORT
from notify.local import HOST, run
from shared.problems import install_problem_handlers

log = logging.getLogger("notify.local.mail_server")

KEEP = 10_000  # mails kept; the oldest go first
Mode = Literal["ok", "temporary", "permanent", "down"]
Reply = Literal["ok", "temporary", "permanent"]
_ANSWERS: dict[str, str] = {
    "temporary": "451 4.3.0 Temporary failure (development mail server)",
    "permanent": "550 5.1.1 Mailbox unavailable (development mail server)",
}


class MailServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEVMAIL_", extra="ignore")

    smtp_port: int = DEV_SMTP_PORT
    http_port: int = DEV_MAIL_HTTP_PORT
    # AUTH is optional: a client that logs in must use these.
    username: str = "omsorg"
    password: str = "omsorg-dev-mail"
    # The certificate authority and server certificate of STARTTLS, made on first start.
    tls_dir: Path = Path(".run/devmail")


class ReceivedMail(BaseModel):
    id: str
    mail_from: str
    to: list[str]
    from_header: str
    subject: str
    text: str
    message_id: str | None
    auto_submitted: str | None
    tls: bool  # came over STARTTLS
    authenticated_as: str | None
    received_at: datetime


class ControlMode(BaseModel):
    mode: Mode


class ControlAddress(BaseModel):
    reply: Reply


class DevMail:
    """What the server keeps and how it answers; SMTP and HTTP share one event loop, so no locks."""

    def __init__(self, settings: MailServerSettings, tls: ssl.SSLContext) -> None:
        self.settings = settings
        self.tls = tls
        self.mails: deque[ReceivedMail] = deque(maxlen=KEEP)
        self.mode: Mode = "ok"
        self.replies: dict[str, Reply] = {}
        self._server: asyncio.AbstractServer | None = None

    # ---- SMTP listener: open unless the mode is down ----
    async def listen(self) -> None:
        if self._server is None:
            loop = asyncio.get_running_loop()
            self._server = await loop.create_server(self._protocol, HOST, self.settings.smtp_port)

    async def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _protocol(self) -> SMTP:
        return SMTP(
            self,
            hostname="devmail.omsorg.local",  # not socket.getfqdn() on every connection
            ident="Omsorg development mail server",
            tls_context=self.tls,
            authenticator=self._authenticate,
            auth_require_tls=False,  # loopback only: PLAIN without TLS is fine here
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and secrets.compare_digest(auth_data.login, self.settings.username.encode())
            and secrets.compare_digest(auth_data.password, self.settings.password.encode())
        )
        # handled=False: aiosmtpd then answers a failure with 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)

    # ---- aiosmtpd handler hooks ----
    async def handle_RCPT(  # aiosmtpd finds its hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        # A global mode outranks the per-address rules: it is for outage drills.
        answer: str = self.mode if self.mode in _ANSWERS else self.replies.get(address.lower(), "ok")
        if answer in _ANSWERS:
            return _ANSWERS[answer]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
        body = message.get_body(preferencelist=("plain",))
        mail = ReceivedMail(
            id=uuid.uuid4().hex[:12],
            mail_from=envelope.mail_from or "",
            to=list(envelope.rcpt_tos),
            from_header=str(message.get("From", "")),
            subject=str(message.get("Subject", "")),
            # As the sender wrote it: SMTP's CRLF line ends back to newlines.
            text=body.get_content().replace("\r\n", "\n") if isinstance(body, EmailMessage) else "",
            message_id=_header(message, "Message-ID"),
            auto_submitted=_header(message, "Auto-Submitted"),
            tls=session.ssl is not None,
            authenticated_as=session.auth_data if isinstance(session.auth_data, str) else None,
            received_at=datetime.now(UTC),
        )
        self.mails.append(mail)
        log.info("mail %s received", mail.id)  # not whom to: the log is no mailbox
        return f"250 2.0.0 OK: queued as {mail.id}"


def _header(message: EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return str(value) if value is not None else None


def _tls_context(folder: Path) -> tuple[ssl.SSLContext, bytes]:
    """STARTTLS for 127.0.0.1 and localhost: a CA and a server certificate it signed, made once."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    if not (ca_file.exists() and cert_file.exists() and key_file.exists()):
        now = datetime.now(UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Omsorg development mail CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, ca_file.read_bytes()


def build(settings: MailServerSettings | None = None) -> FastAPI:
    """The HTTP side; its lifespan opens and closes the SMTP listener."""
    settings = settings or MailServerSettings()
    tls, ca_pem = _tls_context(settings.tls_dir)
    state = DevMail(settings, tls)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.listen()
        log.info("SMTP on %s:%s (development only)", HOST, settings.smtp_port)
        yield
        await state.stop_listening()

    app = FastAPI(
        title="Omsorg DEVELOPMENT mail server",
        description="Development only: keeps the e-mail notify sends over SMTP.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Answers while the HTTP side runs (SMTP may be down on purpose)."""
        return {"status": "ok", "mode": state.mode}

    @app.get("/messages")
    async def messages(to: str | None = None) -> list[ReceivedMail]:
        """The mails received, oldest first; `to` keeps those to one address."""
        if to is None:
            return list(state.mails)
        wanted = to.lower()
        return [m for m in state.mails if any(r.lower() == wanted for r in m.to)]

    @app.delete("/messages", status_code=204)
    async def forget() -> Response:
        """Forget every mail received."""
        state.mails.clear()
        return Response(status_code=204)

    @app.post("/control")
    async def control(body: ControlMode) -> dict[str, str]:
        """How every RCPT is answered, or stop listening (down)."""
        state.mode = body.mode
        if body.mode == "down":
            await state.stop_listening()
        else:
            await state.listen()
        log.info("mode %s", body.mode)
        return {"mode": state.mode}

    @app.post("/control/addresses/{address}")
    async def control_address(address: str, body: ControlAddress) -> dict[str, str]:
        """How RCPT to one address is answered (ok forgets the rule)."""
        key = address.lower()
        state.replies.pop(key, None)
        if body.reply != "ok":
            state.replies[key] = body.reply
            while len(state.replies) > KEEP:  # bounded, as the mails are
                state.replies.pop(next(iter(state.replies)))
        return {"reply": body.reply}

    @app.get("/certificate")
    async def certificate() -> Response:
        """The CA certificate to trust for STARTTLS (NOTIFY_SMTP_CA_FILE)."""
        return Response(ca_pem, media_type="application/x-pem-file")

    return app


def main() -> None:
    """Start the development mail server (refuses production)."""
    # aiosmtpd logs every command, addresses included, at INFO (and a deprecation
    # notice of its own at WARNING on every login): only its errors.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    settings = MailServerSettings()
    run("The development mail server", lambda: build(settings), settings.http_port)


if __name__ == "__main__":
    main()
