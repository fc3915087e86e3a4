"""The delivery-report endpoint (46elks' shape) over HTTP: only the gateway's
credentials get in; unknown and already final alerts are answered 200 and
ignored; a report that overtakes the sender's own record still counts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import eventually
from notify.channels import Accepted
from notify.config import Settings
from notify.models import AlertStatus
from notify.sending import service

World = Any
SenderFactory = Any
FakeClock = Any


def form(**fields: str) -> dict[str, str]:
    return {
        "id": f"s{uuid.uuid4().hex}",
        "status": "delivered",
        "delivered": "2025-03-12T11:00:01.5",
        **fields,
    }


def gateway_auth(settings: Settings) -> httpx.BasicAuth:
    return httpx.BasicAuth(settings.callback_username, settings.callback_password.get_secret_value())


async def test_wrong_or_missing_credentials_are_refused_with_a_problem(
    callback_url: str, notify_settings: Settings, http: httpx.AsyncClient
) -> None:
    for auth in (
        httpx.BasicAuth(notify_settings.callback_username, "wrong"),
        httpx.BasicAuth("someone", notify_settings.callback_password.get_secret_value()),
        None,
    ):
        response = await http.post(callback_url, data=form(), auth=auth or httpx.USE_CLIENT_DEFAULT)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Basic ")
    bearer = await http.post(callback_url, data=form(), headers={"authorization": "Bearer abc"})
    assert bearer.status_code == 401


async def test_credentials_are_checked_before_the_body(callback_url: str, http: httpx.AsyncClient) -> None:
    response = await http.post(callback_url, data={"status": "nonsense"})
    assert response.status_code == 401  # not 422: nothing about the form is told to strangers


async def test_a_report_for_an_unknown_gateway_id_is_answered_and_ignored(
    callback_url: str, notify_settings: Settings, http: httpx.AsyncClient
) -> None:
    response = await http.post(callback_url, data=form(), auth=gateway_auth(notify_settings))
    assert response.status_code == 200
    assert response.json() == {"outcome": "ignored"}


async def test_a_report_that_does_not_parse_is_a_problem(
    callback_url: str, notify_settings: Settings, http: httpx.AsyncClient
) -> None:
    response = await http.post(callback_url, data=form(status="lost"), auth=gateway_auth(notify_settings))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "lost" not in response.text  # the problem names the field, never the value
    as_json = await http.post(callback_url, json=form(), auth=gateway_auth(notify_settings))
    assert as_json.status_code == 422


async def test_a_report_for_an_alert_already_delivered_is_ignored(
    world: World,
    session: AsyncSession,
    sender: SenderFactory,
    gateway: Any,
    callback_url: str,
    notify_settings: Settings,
    http: httpx.AsyncClient,
) -> None:
    number = world.number()
    person = await world.person(sms=number)
    await world.deliver(person)
    await session.commit()
    await sender().run_once()
    [sms] = await gateway.received(number)

    async def delivered() -> bool:
        await session.rollback()
        [alert] = await world.alerts(person)
        return alert.status == AlertStatus.DELIVERED

    await eventually(delivered)
    [alert] = await world.alerts(person)
    history_before = len(await world.history(alert))

    for status in ("delivered", "failed", "sent"):
        again = await http.post(
            callback_url, data=form(id=sms["id"], status=status), auth=gateway_auth(notify_settings)
        )
        assert again.json() == {"outcome": "ignored"}

    await session.rollback()
    [alert] = await world.alerts(person)
    assert alert.status == AlertStatus.DELIVERED
    assert len(await world.history(alert)) == history_before


async def test_a_report_that_overtakes_the_senders_record_still_counts(
    world: World,
    session: AsyncSession,
    notify_settings: Settings,
    callback_url: str,
    http: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    person = await world.person(sms=world.number())
    await world.deliver(person)
    await session.commit()
    # The sender claimed the alert and the gateway took it; its record is not in yet.
    async with session.begin():
        [outgoing] = await service.claim(session, notify_settings, clock(), 10)
    gateway_id = f"s{uuid.uuid4().hex}"

    response = await http.post(
        callback_url,
        params={"alert_id": str(outgoing.alert_id)},
        data=form(id=gateway_id),
        auth=gateway_auth(notify_settings),
    )
    assert response.json() == {"outcome": "recorded"}
    async with session.begin():
        await service.record(session, outgoing, Accepted(gateway_id), notify_settings, clock())

    [alert] = await world.alerts(person)
    assert alert.status == AlertStatus.DELIVERED
    assert alert.provider_id == gateway_id and alert.accepted_at is not None
    assert [h.status for h in await world.history(alert)] == ["queued", "sending", "delivered"]
