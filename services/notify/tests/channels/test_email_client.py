"""Notify's e-mail client against the running development mail server over SMTP."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from notify.channels import Accepted, PermanentFailure, TemporaryFailure
from notify.channels.email import EmailClient

pytestmark = pytest.mark.usefixtures("counterparts")

MAIL_HTTP = "http://127.0.0.1:8106"
SUBJECT = "Nytt i Omsorgs e-tjänst"
TEXT = "Du har fått ett nytt meddelande från Omsorg. Logga in i e-tjänsten för att läsa det."


async def _received(http: httpx.AsyncClient, address: str) -> list[dict[str, Any]]:
    response = await http.get(f"{MAIL_HTTP}/messages", params={"to": address})
    assert response.status_code == 200, response.text
    return list(response.json())


async def _reply(http: httpx.AsyncClient, address: str, reply: str) -> None:
    response = await http.post(f"{MAIL_HTTP}/control/addresses/{address}", json={"reply": reply})
    assert response.status_code == 200, response.text


async def _send(settings: Any, address: str, reference: str | None = None) -> Any:
    client = EmailClient(settings)
    try:
        return await client.send_email(address, SUBJECT, TEXT, reference or str(uuid.uuid4()))
    finally:
        await client.aclose()


async def test_an_accepted_e_mail_arrives_and_is_listed(
    http: httpx.AsyncClient, make_settings: Any, address: str
) -> None:
    alert_id = str(uuid.uuid4())

    outcome = await _send(make_settings(), address, reference=alert_id)

    assert isinstance(outcome, Accepted) and outcome.provider_id
    [mail] = await _received(http, address)
    assert mail["id"] == outcome.provider_id  # the relay's queue id
    assert (mail["to"], mail["subject"], mail["text"].strip()) == ([address], SUBJECT, TEXT)
    assert mail["from_header"] == "Omsorg <no-reply@omsorg.local>"
    assert mail["mail_from"] == "no-reply@omsorg.local"
    assert mail["message_id"] == f"<{alert_id}@omsorg.local>"
    assert mail["auto_submitted"] == "auto-generated"
    assert (mail["tls"], mail["authenticated_as"]) == (False, None)


async def test_starttls_and_login_as_configured(
    http: httpx.AsyncClient, make_settings: Any, address: str, mail_ca: Path
) -> None:
    settings = make_settings(
        smtp_starttls=True, smtp_ca_file=mail_ca, smtp_username="omsorg", smtp_password="omsorg-dev-mail"
    )

    outcome = await _send(settings, address)

    assert isinstance(outcome, Accepted)
    [mail] = await _received(http, address)
    assert (mail["tls"], mail["authenticated_as"]) == (True, "omsorg")


async def test_a_relay_certificate_nobody_vouches_for_is_a_temporary_failure(
    http: httpx.AsyncClient, make_settings: Any, address: str
) -> None:
    # Without the development CA the system's CAs decide, and they do not know it.
    outcome = await _send(make_settings(smtp_starttls=True), address)

    assert isinstance(outcome, TemporaryFailure)
    assert await _received(http, address) == []


async def test_a_refused_login_is_a_temporary_failure(
    http: httpx.AsyncClient, make_settings: Any, address: str
) -> None:
    # Our credentials, not the address: after an operator fixes them the alert should still go.
    outcome = await _send(make_settings(smtp_username="omsorg", smtp_password="fel"), address)

    assert isinstance(outcome, TemporaryFailure)
    assert outcome.reason.startswith("the relay refused our login (535)")
    assert await _received(http, address) == []


async def test_a_hard_bounce_is_a_permanent_failure_that_does_not_name_the_address(
    http: httpx.AsyncClient, make_settings: Any, address: str
) -> None:
    await _reply(http, address, "permanent")

    outcome = await _send(make_settings(), address)

    assert isinstance(outcome, PermanentFailure)
    assert outcome.reason.startswith("the relay refused the recipient (550)")
    assert address not in outcome.reason
    assert await _received(http, address) == []


async def test_a_deferred_recipient_is_a_temporary_failure(
    http: httpx.AsyncClient, make_settings: Any, address: str
) -> None:
    await _reply(http, address, "temporary")

    outcome = await _send(make_settings(), address)

    assert isinstance(outcome, TemporaryFailure)
    assert outcome.reason.startswith("the relay deferred the recipient (451)")

    await _reply(http, address, "ok")
    assert isinstance(await _send(make_settings(), address), Accepted)
    assert len(await _received(http, address)) == 1


async def test_an_address_that_is_no_address_is_a_permanent_failure(make_settings: Any) -> None:
    for wrong in ("ingen-snabel-a", "a@", "två ord@example.se", "x@example.se\r\nBcc: y@example.se"):
        outcome = await _send(make_settings(), wrong)
        assert outcome == PermanentFailure("the e-mail address is not a valid address"), wrong


async def test_a_relay_that_is_down_is_a_temporary_failure_until_it_is_back(
    http: httpx.AsyncClient, make_settings: Any, address: str
) -> None:
    try:
        assert (await http.post(f"{MAIL_HTTP}/control", json={"mode": "down"})).status_code == 200
        outcome = await _send(make_settings(), address)
    finally:
        await http.post(f"{MAIL_HTTP}/control", json={"mode": "ok"})

    assert outcome == TemporaryFailure("the relay could not be reached (SMTPConnectError)")
    assert isinstance(await _send(make_settings(), address), Accepted)


async def test_an_unreachable_relay_is_a_temporary_failure(
    make_settings: Any, address: str, unused_port: int
) -> None:
    outcome = await _send(make_settings(smtp_port=unused_port), address)

    assert outcome == TemporaryFailure("the relay could not be reached (SMTPConnectError)")
