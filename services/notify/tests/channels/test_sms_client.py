"""Notify's SMS client against the running development gateway (46elks' API) over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from conftest import eventually
from notify.channels import Accepted, PermanentFailure, TemporaryFailure
from notify.channels.sms import SmsClient

pytestmark = pytest.mark.usefixtures("counterparts")

SMS_GATEWAY = "http://127.0.0.1:8107"
TEXT = "Du har fått ett nytt meddelande från Omsorg. Logga in i e-tjänsten för att läsa det."


async def _received(http: httpx.AsyncClient, number: str) -> list[dict[str, Any]]:
    response = await http.get(f"{SMS_GATEWAY}/messages", params={"to": number})
    assert response.status_code == 200, response.text
    return list(response.json())


async def _rule(http: httpx.AsyncClient, number: str, **rule: Any) -> None:
    response = await http.post(f"{SMS_GATEWAY}/control/numbers/{number}", json=rule)
    assert response.status_code == 200, response.text


async def _send(settings: Any, number: str, text: str = TEXT, reference: str | None = None) -> Any:
    client = SmsClient(settings)
    try:
        return await client.send_sms(number, text, reference or str(uuid.uuid4()))
    finally:
        await client.aclose()


async def test_an_accepted_sms_arrives_and_its_delivery_reports_reach_the_callback(
    http: httpx.AsyncClient, make_settings: Any, callback: Any, number: str
) -> None:
    alert_id = str(uuid.uuid4())
    settings = make_settings(sms_callback_url=callback.url_with("gateway", "hemligt-kb"))

    outcome = await _send(settings, number, reference=alert_id)

    assert isinstance(outcome, Accepted)
    assert outcome.provider_id is not None and outcome.provider_id.startswith("s")
    [sms] = await _received(http, number)
    assert (sms["id"], sms["from"], sms["message"], sms["parts"]) == (outcome.provider_id, "Omsorg", TEXT, 1)

    async def both_reports() -> list[Any]:
        reports = callback.of(outcome.provider_id)
        return reports if len(reports) == 2 else []

    sent, delivered = await eventually(both_reports)
    assert sent.form == {"id": outcome.provider_id, "status": "sent"}
    assert delivered.form["status"] == "delivered" and delivered.form["delivered"]
    # The credentials came from the URL's userinfo, and the alert is named in the URL too.
    assert sent.credentials == delivered.credentials == ("gateway", "hemligt-kb")
    assert delivered.query == {"alert_id": alert_id}

    async def gateway_noted_it() -> bool:  # the gateway notes the report once notify answered it
        return bool((await _received(http, number))[0]["dlr"] == "delivered")

    await eventually(gateway_noted_it)


async def test_a_failed_delivery_is_reported_as_failed(
    http: httpx.AsyncClient, make_settings: Any, callback: Any, number: str
) -> None:
    await _rule(http, number, dlr="failed")
    outcome = await _send(make_settings(), number)

    assert isinstance(outcome, Accepted)

    async def final_report() -> list[Any]:
        return [r for r in callback.of(str(outcome.provider_id)) if r.form["status"] != "sent"]

    [report] = await eventually(final_report)
    assert report.form == {"id": outcome.provider_id, "status": "failed"}


async def test_the_gateway_retries_a_callback_that_fails(
    http: httpx.AsyncClient, make_settings: Any, callback: Any, number: str
) -> None:
    alert_id = str(uuid.uuid4())
    callback.answers[alert_id] = [503, 503]
    outcome = await _send(make_settings(), number, reference=alert_id)

    assert isinstance(outcome, Accepted)

    async def delivered() -> bool:
        return any(r.form["status"] == "delivered" for r in callback.of(str(outcome.provider_id)))

    await eventually(delivered)
    [sms] = await _received(http, number)
    assert sms["callback_answers"][:2] == [503, 503] and sms["callback_answers"][-1] == 200


async def test_wrong_credentials_are_refused_with_401_and_are_a_temporary_failure(
    http: httpx.AsyncClient, make_settings: Any, number: str
) -> None:
    raw = await http.post(
        f"{SMS_GATEWAY}/a1/sms",
        data={"from": "Omsorg", "to": number, "message": TEXT},
        auth=("omsorg", "fel-lösenord"),
    )
    assert raw.status_code == 401

    # Our credentials, not the number: after an operator fixes them the alert should still go.
    outcome = await _send(make_settings(sms_password="fel-lösenord"), number)

    assert isinstance(outcome, TemporaryFailure)
    assert "credentials" in outcome.reason and "401" in outcome.reason
    assert await _received(http, number) == []


async def test_an_invalid_number_is_a_permanent_failure_that_does_not_name_it(
    http: httpx.AsyncClient, make_settings: Any
) -> None:
    local_form = "0701234567"  # not E.164

    outcome = await _send(make_settings(), local_form)

    assert isinstance(outcome, PermanentFailure)
    assert "Invalid to number" in outcome.reason
    assert local_form not in outcome.reason and TEXT not in outcome.reason


async def test_a_number_the_gateway_refuses_is_a_permanent_failure(
    http: httpx.AsyncClient, make_settings: Any, number: str
) -> None:
    await _rule(http, number, send="refuse")

    outcome = await _send(make_settings(), number)

    assert isinstance(outcome, PermanentFailure)
    assert "400" in outcome.reason and number not in outcome.reason
    assert await _received(http, number) == []


async def test_a_failing_gateway_is_a_temporary_failure(
    http: httpx.AsyncClient, make_settings: Any, number: str
) -> None:
    await _rule(http, number, send="fail")

    outcome = await _send(make_settings(), number)

    assert isinstance(outcome, TemporaryFailure)
    assert "503" in outcome.reason


async def test_the_gateway_in_fail_mode_is_a_temporary_failure_until_it_recovers(
    http: httpx.AsyncClient, make_settings: Any, number: str
) -> None:
    try:
        assert (await http.post(f"{SMS_GATEWAY}/control", json={"mode": "fail"})).status_code == 200
        outcome = await _send(make_settings(), number)
    finally:
        await http.post(f"{SMS_GATEWAY}/control", json={"mode": "ok"})

    assert isinstance(outcome, TemporaryFailure) and "503" in outcome.reason
    assert isinstance(await _send(make_settings(), number), Accepted)


async def test_a_gateway_that_does_not_answer_in_time_is_a_temporary_failure(
    http: httpx.AsyncClient, make_settings: Any, number: str
) -> None:
    await _rule(http, number, delay_seconds=3)

    outcome = await _send(make_settings(sms_timeout_seconds=0.5), number)

    assert outcome == TemporaryFailure("the SMS gateway did not answer in time")


async def test_an_unreachable_gateway_is_a_temporary_failure(
    make_settings: Any, number: str, unused_port: int
) -> None:
    outcome = await _send(make_settings(sms_api_url=f"http://127.0.0.1:{unused_port}/a1/sms"), number)

    assert isinstance(outcome, TemporaryFailure)
    assert outcome.reason == "the SMS gateway could not be reached (ConnectError)"


async def test_one_client_sends_many_at_once(
    http: httpx.AsyncClient, make_settings: Any, number: str
) -> None:
    client = SmsClient(make_settings())
    try:
        outcomes = await asyncio.gather(
            *(client.send_sms(number, TEXT, str(uuid.uuid4())) for _ in range(30))
        )
    finally:
        await client.aclose()

    assert all(isinstance(o, Accepted) for o in outcomes)
    assert len({o.provider_id for o in outcomes if isinstance(o, Accepted)}) == 30
    assert len(await _received(http, number)) == 30
