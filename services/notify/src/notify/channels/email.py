"""E-mail through an SMTP relay (the municipality's; the development mail server
locally), with aiosmtplib: STARTTLS and login as configured, one plain-text
message per connection.

Relays send no delivery reports: Accepted means the relay took the message
(250 after DATA), which is as far as notify can follow an e-mail.

Answers map to the channel outcomes (notify.channels): connection errors,
timeouts and 4xx replies are temporary; 5xx replies about the recipient or the
message (550 at RCPT, 554 after DATA) are permanent, a hard bounce. A refused
login or sender, or a missing STARTTLS, are temporary on purpose: they say our
configuration is wrong, which an operator fixes, and the alert should still go
out after that rather than be given up for every recipient at once.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from notify.channels import Accepted, PermanentFailure, SendOutcome, TemporaryFailure
from notify.config import Settings

# Relays' replies often name the address ("<a@b.se>: Recipient address rejected"): masked.
_ADDRESS_LIKE = re.compile(r"\S+@\S+")
_QUEUE_ID = re.compile(r"queued as\s+([\w.\-<>@]+)", re.IGNORECASE)
_REASON_LIMIT = 200
_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9.\-]")


def _said(message: str) -> str:
    """A relay's reply text, fit for an operator: one line, no addresses."""
    return _ADDRESS_LIKE.sub("…", " ".join(message.split()))[:_REASON_LIMIT]


def _recipient(to: str) -> str | None:
    """`to` as an ASCII addr-spec the relay can take (an IDN domain in punycode), or None if it is not one."""
    try:
        address = Address(addr_spec=to.strip())
        domain = address.domain.encode("idna").decode("ascii")
    except (ValueError, IndexError, HeaderParseError, UnicodeError):
        return None
    if not address.username or "." not in domain:
        return None
    return f"{address.username}@{domain}"


class EmailClient:
    """The SMTP relay's client: one per process; `aclose()` at shutdown for symmetry with the SMS client
    (each send has its own connection, so nothing stays open between sends)."""

    def __init__(self, settings: Settings) -> None:
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._starttls = settings.smtp_starttls
        self._username = settings.smtp_username
        self._password = settings.smtp_password
        self._timeout = settings.smtp_timeout_seconds
        self._from = settings.smtp_from
        self._sender = parseaddr(settings.smtp_from)[1]
        self._domain = self._sender.rpartition("@")[2] or "omsorg.local"
        self._tls_context = (
            ssl.create_default_context(cafile=str(settings.smtp_ca_file))
            if settings.smtp_ca_file is not None
            else None
        )
        self._local_hostname: str | None = None

    async def aclose(self) -> None:
        """Nothing to close: every send opens and closes its own connection."""

    async def _ehlo_name(self) -> str:
        # socket.getfqdn may wait on DNS; aiosmtplib would ask on every connection.
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn) or "localhost"
        return self._local_hostname

    def _message(self, to: str, subject: str, text: str, reference: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        # The alert's id: a retry of the same alert carries the same Message-ID, so
        # a receiving system can see it is one message.
        message["Message-ID"] = f"<{_UNSAFE_IN_ID.sub('', reference)}@{self._domain}>"
        # RFC 3834: vacation responders must not answer an automatic message.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        return message

    async def send_email(self, to: str, subject: str, text: str, reference: str) -> SendOutcome:
        """Hand one plain-text e-mail to the relay: taken, worth retrying, or refused for good."""
        recipient = _recipient(to)
        if recipient is None:
            return PermanentFailure("the e-mail address is not a valid address")
        message = self._message(recipient, subject, text, reference)
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password.get_secret_value() if self._password is not None else None,
            local_hostname=await self._ehlo_name(),
            timeout=self._timeout,
            start_tls=self._starttls,
            tls_context=self._tls_context,
        )
        try:
            await smtp.connect()
            try:
                _refused, reply = await smtp.send_message(message)
            finally:
                await _quit(smtp)
        except (aiosmtplib.SMTPException, OSError) as error:
            return _failure(error)
        match = _QUEUE_ID.search(reply)
        return Accepted(match.group(1) if match else None)


def _failure(error: aiosmtplib.SMTPException | OSError) -> SendOutcome:
    """What an SMTP error means for the alert (the order matters: the classes overlap)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in error.recipients]
        words = _said("; ".join(r.message for r in error.recipients))
        if codes and all(code >= 500 for code in codes):
            return PermanentFailure(f"the relay refused the recipient ({codes[0]}): {words}")
        return TemporaryFailure(f"the relay deferred the recipient ({', '.join(map(str, codes))}): {words}")
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return TemporaryFailure(f"the relay refused our login ({error.code}): {_said(error.message)}")
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return TemporaryFailure(f"the relay refused our sender ({error.code}): {_said(error.message)}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        words = _said(error.message)
        if error.code >= 500:
            return PermanentFailure(f"the relay refused the message ({error.code}): {words}")
        return TemporaryFailure(f"the relay answered {error.code}: {words}")
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return TemporaryFailure("the relay did not answer in time")
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return TemporaryFailure(f"the relay could not be reached ({type(error).__name__})")
    if isinstance(error, aiosmtplib.SMTPException):
        # SMTPNotSupported and the like: e.g. STARTTLS configured but not offered.
        return TemporaryFailure(f"the relay conversation failed: {_said(error.message)}")
    if isinstance(error, ssl.SSLError):
        return TemporaryFailure(f"TLS with the relay failed ({error.reason or type(error).__name__})")
    return TemporaryFailure(f"the relay could not be reached ({type(error).__name__})")


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """End the conversation politely; a failing QUIT does not undo an accepted message."""
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()
