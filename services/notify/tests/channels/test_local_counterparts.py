"""The development counterparts themselves (they speak 46elks' API and SMTP, they
refuse production) and notify's channel settings (production refuses the
development endpoints and passwords)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from notify.config import Settings

SMS_GATEWAY = "http://127.0.0.1:8107"
MAIL_HTTP = "http://127.0.0.1:8106"
DEV_AUTH = ("omsorg", "omsorg-dev-sms")

PRODUCTION: dict[str, Any] = {
    "database_url": "postgresql+asyncpg://notify@db/notify",
    "environment": "production",
    "issuer_url": "https://idp.kommun.example",
    "citizen_issuer_url": "https://e.kommun.example/auth",
    "smtp_host": "smtp.kommun.example",
    "smtp_port": 587,
    "smtp_starttls": True,
    "smtp_username": "omsorg",
    "smtp_password": "relay-secret",
    "sms_api_url": "https://api.46elks.com/a1/sms",
    "sms_password": "api-secret",
    "sms_callback_url": "https://notify.kommun.example/sms/delivery-reports",
    "callback_password": "callback-secret",
}


# ---------------------------------------------------------- production ---


@pytest.mark.parametrize("module", ["notify.local.mail_server", "notify.local.sms_gateway"])
@pytest.mark.parametrize("environment", ["production", None])
def test_the_counterparts_refuse_to_start_outside_development(module: str, environment: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMSORG_ENVIRONMENT"}
    if environment:
        env["OMSORG_ENVIRONMENT"] = environment
    # Ports nobody uses: were it to start, it would not disturb the running counterparts.
    env.update(DEVMAIL_SMTP_PORT="1", DEVMAIL_HTTP_PORT="1", DEVSMS_PORT="1")

    done = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode != 0
    assert "OMSORG_ENVIRONMENT" in done.stderr


def test_a_production_configuration_with_real_endpoints_is_accepted() -> None:
    settings = Settings(**PRODUCTION)

    assert settings.environment == "production"


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"sms_password": None}, "own sms_password"),
        ({"callback_password": None}, "own callback_password"),
        ({"sms_api_url": "http://api.46elks.com/a1/sms"}, "https sms_api_url"),
        ({"sms_api_url": "https://127.0.0.1:8107/a1/sms"}, "development gateway"),
        ({"sms_callback_url": "http://notify.kommun.example/sms/delivery-reports"}, "https sms_callback_url"),
        ({"smtp_host": "127.0.0.1", "smtp_port": 2525, "smtp_starttls": False}, "development mail server"),
        ({"smtp_host": "localhost", "smtp_port": 2525}, "development mail server"),
        ({"smtp_starttls": False}, "only after STARTTLS"),
    ],
)
def test_production_refuses_the_development_endpoints_and_passwords(
    change: dict[str, Any], refusal: str
) -> None:
    values = {**PRODUCTION, **change}
    for name, value in change.items():
        if value is None:
            del values[name]  # the development default

    with pytest.raises(ValidationError, match=refusal) as refused:
        Settings(**values)

    # The refusal never prints the secrets it was given.
    assert "secret" not in str(refused.value)


def test_the_callback_credentials_may_come_in_the_url(make_settings: Any) -> None:
    settings = make_settings(sms_callback_url="http://gw:p%40ss@127.0.0.1:8105/sms/delivery-reports")

    assert (settings.callback_username, settings.callback_password.get_secret_value()) == ("gw", "p@ss")
    # Kept without them, so no log or repr of the settings shows the password.
    assert settings.sms_callback_url == "http://127.0.0.1:8105/sms/delivery-reports"
    assert (
        settings.sms_callback_url_with_credentials() == "http://gw:p%40ss@127.0.0.1:8105/sms/delivery-reports"
    )
    with pytest.raises(ValidationError, match="differs from callback_password"):
        make_settings(
            sms_callback_url="http://gw:one@127.0.0.1:8105/sms/delivery-reports", callback_password="two"
        )


def test_quiet_hours_must_be_times_of_day(make_settings: Any) -> None:
    assert make_settings(quiet_hours_start="22:30").quiet_start.isoformat() == "22:30:00"
    with pytest.raises(ValidationError, match="quiet_hours_end must be a time of day"):
        make_settings(quiet_hours_end="8 på morgonen")


# ------------------------------------------------------------ SMS gateway ---


@pytest.mark.usefixtures("counterparts")
async def test_the_gateway_answers_as_46elks_does(http: httpx.AsyncClient, number: str) -> None:
    response = await http.post(
        f"{SMS_GATEWAY}/a1/sms", data={"from": "Omsorg", "to": number, "message": "Hej"}, auth=DEV_AUTH
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "created" and body["id"].startswith("s")
    assert (body["from"], body["to"], body["message"], body["parts"]) == ("Omsorg", number, "Hej", 1)
    assert {"created", "cost", "direction"} <= body.keys()


@pytest.mark.usefixtures("counterparts")
async def test_the_gateway_counts_parts_as_an_sms_is_split(http: httpx.AsyncClient, number: str) -> None:
    async def parts(message: str) -> int:
        response = await http.post(
            f"{SMS_GATEWAY}/a1/sms", data={"from": "Omsorg", "to": number, "message": message}, auth=DEV_AUTH
        )
        return int(response.json()["parts"])

    assert await parts("å" * 160) == 1  # Swedish letters are in the GSM alphabet
    assert await parts("a" * 161) == 2
    assert await parts("ж" * 70) == 1  # outside it (Cyrillic): 70 a part
    assert await parts("ж" * 71) == 2


@pytest.mark.usefixtures("counterparts")
async def test_the_gateway_refuses_bad_requests_in_46elks_words(http: httpx.AsyncClient, number: str) -> None:
    async def answer(form: dict[str, str], auth: tuple[str, str] | None = DEV_AUTH) -> tuple[int, str]:
        response = await http.post(f"{SMS_GATEWAY}/a1/sms", data=form, auth=auth)
        return response.status_code, response.text

    assert await answer({"from": "Omsorg", "to": number}) == (400, "Missing key message")
    assert await answer({"from": "Omsorg", "to": "070123", "message": "x"}) == (400, "Invalid to number")
    assert await answer({"from": "Omsorg och mer", "to": number, "message": "x"}) == (
        400,
        "Invalid from field",
    )
    assert (await answer({"from": "Omsorg", "to": number, "message": "x"}, auth=None))[0] == 401


@pytest.mark.usefixtures("counterparts")
async def test_the_gateway_refuses_an_unknown_mode_with_problem_details(http: httpx.AsyncClient) -> None:
    response = await http.post(f"{SMS_GATEWAY}/control", json={"mode": "sometimes"})

    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await http.get(f"{SMS_GATEWAY}/health")).json()["mode"] == "ok"


# ------------------------------------------------------------ mail server ---


@pytest.mark.usefixtures("counterparts")
async def test_the_mail_server_lists_mails_per_address_whatever_the_case(
    http: httpx.AsyncClient, make_settings: Any, address: str
) -> None:
    from notify.channels.email import EmailClient

    client = EmailClient(make_settings())
    await client.send_email(address, "Ämne", "Text", "ref-1")
    await client.send_email(f"other-{address}", "Ämne", "Text", "ref-2")

    listed = (await http.get(f"{MAIL_HTTP}/messages", params={"to": address.upper()})).json()

    assert [m["message_id"] for m in listed] == ["<ref-1@omsorg.local>"]


@pytest.mark.usefixtures("counterparts")
async def test_the_mail_server_refuses_an_unknown_reply_with_problem_details(
    http: httpx.AsyncClient, address: str
) -> None:
    response = await http.post(f"{MAIL_HTTP}/control/addresses/{address}", json={"reply": "maybe"})

    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
