"""IN-1 — Citizen e-ID login: a citizen logs in through intake's BankID login
(the development simulator in place of BankID) and gets a citizen token that
every service accepts. All services run as real processes."""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import ROOT, SERVICES, Stack, bankid_login, bearer, eventually, new_personnummer
from shared.db import asyncpg_dsn

CITIZEN_ISSUER = f"http://127.0.0.1:{SERVICES['intake']}/auth"
QR = re.compile(r"^bankid\.(?P<token>[0-9a-f-]{36})\.(?P<seconds>\d+)\.[0-9a-f]{64}$")


def _claims(token: str) -> dict[str, Any]:
    # The services verify it; here we only read what it says.
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def _start(http: httpx.AsyncClient, stack: Stack, **simulate: str) -> dict[str, Any]:
    response = await http.post(f"{stack.url('intake')}/login/bankid", json={"simulate": simulate})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _collect(http: httpx.AsyncClient, stack: Stack, login_id: str) -> httpx.Response:
    return await http.post(f"{stack.url('intake')}/login/bankid/{login_id}/collect")


async def test_a_citizen_logs_in_with_bankid_applies_and_sees_the_application(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    token = await bankid_login(http, stack, pnr, "Astrid Inloggad")

    claims = _claims(token)
    assert claims["iss"] == CITIZEN_ISSUER
    assert claims["aud"] == "omsorg"
    assert (claims["pnr"], claims["name"], claims["roles"]) == (pnr, "Astrid Inloggad", ["citizen"])
    assert (claims["acr"], claims["amr"]) == ("loa3", ["bankid"])
    assert pnr not in claims["sub"] and pnr[2:] not in claims["sub"]  # pseudonymous
    assert claims["exp"] > claims["iat"] >= int(time.time()) - 60

    intake = stack.url("intake")
    created = await http.post(
        f"{intake}/applications",
        headers=bearer(token),
        json={"entry": "sol", "services": ["hemtjanst"], "description": "Jag behöver hjälp med inköp"},
    )
    assert created.status_code == 201, created.text
    own = await http.get(f"{intake}/applications", headers=bearer(token))
    assert own.status_code == 200
    assert [a["id"] for a in own.json()] == [created.json()["id"]]

    # The same person again: a new token, the same pseudonymous sub.
    again = await bankid_login(http, stack, pnr, "Astrid Inloggad")
    assert again != token
    assert _claims(again)["sub"] == claims["sub"]

    # The login is in intake's audit log, for the log reviewer.
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = (
        await http.post(f"{intake}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr})
    ).json()
    logins = [e for e in log if e["action"] == "login"]
    assert len(logins) == 2
    assert {(e["actor"], e["actor_role"], e["object_type"], e["outcome"]) for e in logins} == {
        (claims["sub"], "citizen", "login", "allowed")
    }


async def test_casework_accepts_the_login_token_and_refuses_a_citizen_the_inbox(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    token = await bankid_login(http, stack, new_personnummer(), "Bengt Medborgare")
    response = await http.get(f"{stack.url('casework')}/e-applications", headers=bearer(token))
    assert response.status_code == 403, response.text  # authenticated, not allowed
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_login_is_pending_then_complete_and_gives_its_token_once(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.url("intake")
    started = await _start(http, stack, personnummer=new_personnummer(), name="Cecilia Engång")
    assert set(started) == {"login_id", "auto_start_token", "qr_data"}
    first = QR.match(started["qr_data"])
    assert first is not None and first["seconds"] == "0"

    qr = await http.get(f"{intake}/login/bankid/{started['login_id']}/qr")
    assert qr.status_code == 200
    now = QR.match(qr.json()["qr_data"])
    assert now is not None and now["token"] == first["token"] and int(now["seconds"]) < 30

    pending = await _collect(http, stack, started["login_id"])
    assert pending.json() == {
        "status": "pending",
        "hint_code": "outstandingTransaction",
        "access_token": None,
    }
    complete = (await _collect(http, stack, started["login_id"])).json()
    assert complete["status"] == "complete" and complete["access_token"]

    for _ in range(2):
        later = await _collect(http, stack, started["login_id"])
        assert later.status_code == 409
        assert later.headers["content-type"] == "application/problem+json"
        assert "access_token" not in later.json()
    assert (await http.get(f"{intake}/login/bankid/{started['login_id']}/qr")).status_code == 409
    assert (await http.post(f"{intake}/login/bankid/{started['login_id']}/cancel")).status_code == 409


@pytest.mark.parametrize("outcome", ["userCancel", "expiredTransaction"])
async def test_a_failed_login_gives_no_token(stack: Stack, http: httpx.AsyncClient, outcome: str) -> None:
    started = await _start(
        http, stack, personnummer=new_personnummer(), name="Doris Misslyckad", outcome=outcome
    )
    assert (await _collect(http, stack, started["login_id"])).json()["status"] == "pending"
    for _ in range(2):
        failed = await _collect(http, stack, started["login_id"])
        assert failed.status_code == 200
        assert failed.json() == {"status": "failed", "hint_code": outcome, "access_token": None}


async def test_a_cancelled_login_gives_no_token(stack: Stack, http: httpx.AsyncClient) -> None:
    intake = stack.url("intake")
    started = await _start(http, stack, personnummer=new_personnummer(), name="Erik Ångrar")
    cancelled = await http.post(f"{intake}/login/bankid/{started['login_id']}/cancel")
    assert cancelled.status_code == 204
    assert (await http.post(f"{intake}/login/bankid/{started['login_id']}/cancel")).status_code == 204
    after = await _collect(http, stack, started["login_id"])
    assert after.json() == {"status": "failed", "hint_code": "userCancel", "access_token": None}
    assert (await http.get(f"{intake}/login/bankid/{started['login_id']}/qr")).status_code == 409


async def _age_login(stack: Stack, login_id: str, seconds: int) -> None:
    """Move the login's start `seconds` into the past, as if the user had waited that long."""
    pattern = stack.infra.env.get(
        "OMSORG_DATABASE_URL_PATTERN", "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
    )
    connection = await asyncpg.connect(asyncpg_dsn(pattern.replace("{name}", "intake")))
    try:
        await connection.execute(
            "UPDATE login_transactions SET started_at = started_at - make_interval(secs => $2) WHERE id = $1",
            uuid.UUID(login_id),
            seconds,
        )
    finally:
        await connection.close()


async def test_the_qr_code_lasts_30_seconds_and_the_order_3_minutes(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    qr_url = f"{stack.url('intake')}/login/bankid/{{}}/qr"
    started = await _start(http, stack, personnummer=new_personnummer(), name="Hanna Långsam")
    await _age_login(stack, started["login_id"], 25)
    shown = QR.match((await http.get(qr_url.format(started["login_id"]))).json()["qr_data"])
    assert shown is not None and 25 <= int(shown["seconds"]) < 30

    await _age_login(stack, started["login_id"], 6)  # over 30 s in: not scanned in time
    late = await http.get(qr_url.format(started["login_id"]))
    assert late.status_code == 409
    assert (await _collect(http, stack, started["login_id"])).json()["status"] == "pending"

    await _age_login(stack, started["login_id"], 150)  # over 180 s in: the order has expired
    for _ in range(2):
        expired = await _collect(http, stack, started["login_id"])
        assert expired.json() == {"status": "failed", "hint_code": "expiredTransaction", "access_token": None}


async def test_an_invalid_personnummer_from_the_eid_fails_the_login(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    valid = new_personnummer()
    wrong_check_digit = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    started = await _start(http, stack, personnummer=wrong_check_digit, name="Fel Nummer")
    await _collect(http, stack, started["login_id"])
    failed = (await _collect(http, stack, started["login_id"])).json()
    assert failed == {"status": "failed", "hint_code": "invalidPersonalNumber", "access_token": None}


async def test_an_unknown_login_is_not_found(stack: Stack, http: httpx.AsyncClient) -> None:
    login = f"{stack.url('intake')}/login/bankid/{uuid.uuid4()}"
    for response in (
        await http.get(f"{login}/qr"),
        await http.post(f"{login}/collect"),
        await http.post(f"{login}/cancel"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    not_an_id = await http.post(f"{stack.url('intake')}/login/bankid/191212121212/collect")
    assert not_an_id.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"simulate": {"outcome": "hacked"}},
        {"simulate": {"personnummer": ""}},
        {"simulate": {"name": "x" * 201}},
        {"simulate": {"roles": ["admin"]}},
        {"endUserIp": "10.0.0.1"},
    ],
)
async def test_bad_login_requests_get_a_problem(
    stack: Stack, http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await http.post(f"{stack.url('intake')}/login/bankid", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_login_without_a_body_logs_in_the_simulators_test_person(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    started = await http.post(f"{stack.url('intake')}/login/bankid")
    assert started.status_code == 201, started.text
    login_id = started.json()["login_id"]
    await _collect(http, stack, login_id)
    token = (await _collect(http, stack, login_id)).json()["access_token"]
    assert _claims(token)["pnr"] == "191212121212"


def _forge(
    key: rsa.RSAPrivateKey,
    kid: str,
    pnr: str,
    issuer: str = CITIZEN_ISSUER,
    roles: tuple[str, ...] = ("citizen",),
) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "iss": issuer,
            "aud": "omsorg",
            "sub": "forged",
            "name": "Falsk Person",
            "pnr": pnr,
            "roles": list(roles),
            "iat": now,
            "exp": now + 600,
            "acr": "loa3",
            "amr": ["bankid"],
        },
        key,
        algorithm="RS256",
        headers={"kid": kid},
    )


async def test_tokens_intake_did_not_sign_are_refused(stack: Stack, http: httpx.AsyncClient) -> None:
    jwks = (await http.get(f"{CITIZEN_ISSUER}/jwks.json")).json()
    real_kid = jwks["keys"][0]["kid"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pnr = new_personnummer()
    forged = {
        "another key, intake's key id": _forge(other_key, real_kid, pnr),
        "another key, its own key id": _forge(other_key, "not-intakes-key", pnr),
        "an issuer nobody trusts": _forge(other_key, real_kid, pnr, issuer="http://127.0.0.1:9999/auth"),
    }
    for what, token in forged.items():
        for url in (f"{stack.url('intake')}/applications", f"{stack.url('casework')}/e-applications"):
            response = await http.get(url, headers=bearer(token))
            assert response.status_code == 401, f"{what} at {url}: {response.status_code}"
            assert response.headers["content-type"] == "application/problem+json"


async def test_the_citizen_login_issuer_vouches_for_citizens_only(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    # Even a token signed with intake's own login key may not make anyone staff.
    key_file = ROOT / ".run" / "intake" / "login-key.pem"
    assert key_file.exists(), f"intake's login key is not at {key_file}: start the services with omsorg.sh"
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    kid = (await http.get(f"{CITIZEN_ISSUER}/jwks.json")).json()["keys"][0]["kid"]
    pnr = new_personnummer()

    citizen = _forge(key, kid, pnr)
    assert (await http.get(f"{stack.url('intake')}/applications", headers=bearer(citizen))).status_code == 200
    staff = _forge(key, kid, pnr, roles=("caseworker",))
    inbox = await http.get(f"{stack.url('casework')}/e-applications", headers=bearer(staff))
    assert inbox.status_code == 401


async def test_the_personnummer_stays_out_of_the_logs(stack: Stack, http: httpx.AsyncClient) -> None:
    pnr = new_personnummer()
    token = await bankid_login(http, stack, pnr, "Gunnel Loggfri")
    await http.get(f"{stack.url('intake')}/applications", headers=bearer(token))
    await http.get(f"{stack.url('casework')}/e-applications", headers=bearer(token))
    for service in ("intake", "casework"):
        log = ROOT / ".run" / "logs" / f"{service}.log"
        assert log.exists(), f"no log at {log}: start the services with omsorg.sh"
        text = log.read_text(errors="replace")
        assert pnr not in text and pnr[2:] not in text, f"the personnummer is in {service}'s log"


# ------------------------------------------------------------ hardening ---


async def _sql(stack: Stack, query: str, *args: Any) -> list[asyncpg.Record]:
    pattern = stack.infra.env.get(
        "OMSORG_DATABASE_URL_PATTERN", "postgresql+asyncpg://{name}@127.0.0.1:55432/{name}"
    )
    connection = await asyncpg.connect(asyncpg_dsn(pattern.replace("{name}", "intake")))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def _client_at(address: str) -> httpx.AsyncClient:
    """A client whose requests come from another loopback address: another client to intake."""
    return httpx.AsyncClient(timeout=10, transport=httpx.AsyncHTTPTransport(local_address=address))


def _fresh_loopback() -> str:
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


async def test_only_the_browser_that_started_a_login_may_follow_it(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    login = f"{stack.url('intake')}/login/bankid"
    response = await http.post(
        login, json={"simulate": {"personnummer": new_personnummer(), "name": "Ingrid Egenwebbläsare"}}
    )
    login_id = response.json()["login_id"]
    cookie = f"omsorg_login_{uuid.UUID(login_id).hex}"
    set_cookie = response.headers["set-cookie"].lower()
    assert set_cookie.startswith(f"{cookie}=")
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie

    async with httpx.AsyncClient(timeout=10) as other:
        # Another browser: no cookie, or its own login's secret under this login's cookie name.
        own = await _start(other, stack)
        secret = other.cookies[f"omsorg_login_{uuid.UUID(own['login_id']).hex}"]
        other.cookies.clear()
        for headers in ({}, {"cookie": f"{cookie}={secret}"}):
            for method, path in (("GET", "qr"), ("POST", "collect"), ("POST", "cancel")):
                refused = await other.request(method, f"{login}/{login_id}/{path}", headers=headers)
                assert refused.status_code == 403, (path, headers, refused.text)
                assert refused.headers["content-type"] == "application/problem+json"

    # The starting browser is not disturbed: the login is still pending, and completes.
    assert (await _collect(http, stack, login_id)).json()["status"] == "pending"
    assert (await _collect(http, stack, login_id)).json()["status"] == "complete"


async def test_a_login_completed_from_another_address_gives_no_token(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    relayed = await _start(http, stack, personnummer=pnr, name="Jonas Lurad", device_ip="203.0.113.77")
    await _collect(http, stack, relayed["login_id"])
    for _ in range(2):
        failed = await _collect(http, stack, relayed["login_id"])
        assert failed.json() == {"status": "failed", "hint_code": "deviceIpMismatch", "access_token": None}

    # The same address written as IPv4-mapped IPv6 is the same device.
    same = await _start(http, stack, personnummer=pnr, name="Jonas Lurad", device_ip="::ffff:127.0.0.1")
    await _collect(http, stack, same["login_id"])
    assert (await _collect(http, stack, same["login_id"])).json()["status"] == "complete"

    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    log = (
        await http.post(
            f"{stack.url('intake')}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr}
        )
    ).json()
    assert sorted((e["object_id"], e["outcome"]) for e in log if e["action"] == "login") == sorted(
        [(relayed["login_id"], "refused"), (same["login_id"], "allowed")]
    )
    text = (ROOT / ".run" / "logs" / "intake.log").read_text(errors="replace")
    assert "203.0.113.77" not in text and pnr not in text


async def test_login_start_and_collect_are_rate_limited_per_client_address(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.url("intake")

    async def until_refused(client: httpx.AsyncClient, url: str) -> httpx.Response:
        for _ in range(60):  # batches of 20: up to 1200 requests
            batch = await asyncio.gather(*(client.post(url) for _ in range(20)))
            refused = [r for r in batch if r.status_code == 429]
            if refused:
                return refused[0]
            assert all(r.status_code in (200, 201, 409) for r in batch), [r.text for r in batch]
        pytest.fail(f"{url} was never rate-limited")

    async with _client_at(_fresh_loopback()) as flooding:
        refused = await until_refused(flooding, f"{intake}/login/bankid")
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        # Another address is not affected.
        assert (await http.post(f"{intake}/login/bankid")).status_code == 201

    async with _client_at(_fresh_loopback()) as polling:
        login_id = (await _start(polling, stack))["login_id"]
        refused = await until_refused(polling, f"{intake}/login/bankid/{login_id}/collect")
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1


async def test_ended_and_expired_logins_are_purged(stack: Stack, http: httpx.AsyncClient) -> None:
    ended = await _start(http, stack, personnummer=new_personnummer(), name="Karin Glömd")
    await _collect(http, stack, ended["login_id"])
    assert (await _collect(http, stack, ended["login_id"])).json()["status"] == "complete"
    abandoned = await _start(http, stack, personnummer=new_personnummer(), name="Lars Övergiven")
    current = await _start(http, stack, personnummer=new_personnummer(), name="Maja Pågående")
    ids = [uuid.UUID(s["login_id"]) for s in (ended, abandoned, current)]
    orders = {
        r["id"]: r["order_ref"]
        for r in await _sql(stack, "SELECT id, order_ref FROM login_transactions WHERE id = ANY($1)", ids)
    }

    # Two days ago: far beyond the order's three minutes and any retention.
    await _sql(
        stack,
        "UPDATE login_transactions SET started_at = started_at - interval '2 days', "
        "finished_at = finished_at - interval '2 days' WHERE id = ANY($1)",
        ids[:2],
    )
    await _sql(
        stack,
        "UPDATE eid_simulator_orders SET created_at = created_at - interval '2 days' "
        "WHERE order_ref = ANY($1)",
        [orders[i] for i in ids[:2]],
    )

    async def purged() -> bool:
        left = await _sql(stack, "SELECT id FROM login_transactions WHERE id = ANY($1)", ids)
        return {r["id"] for r in left} == {ids[2]}

    await eventually(purged, timeout=30)
    simulated = {
        r["order_ref"]
        for r in await _sql(
            stack,
            "SELECT order_ref FROM eid_simulator_orders WHERE order_ref = ANY($1)",
            list(orders.values()),
        )
    }
    assert simulated == {orders[ids[2]]}
    assert (await _collect(http, stack, ended["login_id"])).status_code == 404
    assert (await _collect(http, stack, current["login_id"])).json()["status"] == "pending"
