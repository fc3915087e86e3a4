"""Safe by default: a service or the development token issuer started as a
real process without being told its environment refuses to start, and
development conveniences (the e-ID simulator, the development issuer) never
start unless development is chosen explicitly."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT

PYTHON = str(ROOT / ".venv" / "bin" / "python")
DB_PASSWORD = "s3cret-db-password"
PRODUCTION_URLS = {
    "ISSUER_URL": "https://idp.kommun.example",
    "CITIZEN_ISSUER_URL": "https://e.kommun.example/auth",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    """This test's environment without any environment choice, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_ENVIRONMENT")}
    return {**env, **extra}


def _service_env(service: str, **extra: str) -> dict[str, str]:
    prefix = service.upper()
    return _env(
        **{
            f"{prefix}_DATABASE_URL": f"postgresql+asyncpg://{service}:{DB_PASSWORD}@127.0.0.1:1/x",
            f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        },
        **extra,
    )


def _uvicorn(app: str, env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _refused(app: str, env: dict[str, str]) -> str:
    """Start `app` as a real process; it must exit without ever answering. Its output."""
    port = _free_port()
    process = _uvicorn(app, env, port)
    try:
        output, _ = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"{app} did not refuse to start:\n{output[-2000:]}")
    assert process.returncode != 0, output[-2000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2)
    assert DB_PASSWORD not in output, "the refusal printed the database password"
    return output


@pytest.mark.parametrize("service", ["intake", "casework"])
def test_a_service_without_an_environment_refuses_to_start(service: str) -> None:
    output = _refused(f"{service}.app:app", _service_env(service))
    assert "OMSORG_ENVIRONMENT is not set" in output


def test_a_service_may_not_loosen_the_common_environment() -> None:
    output = _refused(
        "casework.app:app",
        _service_env(
            "casework",
            OMSORG_ENVIRONMENT="production",
            CASEWORK_ENVIRONMENT="development",
            **{f"CASEWORK_{k}": v for k, v in PRODUCTION_URLS.items()},
        ),
    )
    assert "CASEWORK_ENVIRONMENT=development would loosen OMSORG_ENVIRONMENT=production" in output


def test_a_service_alone_cannot_choose_development() -> None:
    output = _refused("casework.app:app", _service_env("casework", CASEWORK_ENVIRONMENT="development"))
    assert "OMSORG_ENVIRONMENT is not set" in output


def test_production_refuses_the_eid_simulator() -> None:
    output = _refused(
        "intake.app:app",
        _service_env(
            "intake",
            OMSORG_ENVIRONMENT="production",
            **{f"INTAKE_{k}": v for k, v in PRODUCTION_URLS.items()},
        ),
    )
    assert "the e-ID simulator must not run in production" in output


def test_production_refuses_the_plain_http_development_issuer() -> None:
    output = _refused("casework.app:app", _service_env("casework", OMSORG_ENVIRONMENT="production"))
    assert "production needs an https issuer_url" in output


def test_development_must_be_chosen_explicitly() -> None:
    # The same settings load once development is chosen: the refusals above are for the environment.
    code = "from intake.config import Settings; print(Settings().eid_backend)"
    check = subprocess.run(
        [PYTHON, "-c", code],
        cwd=ROOT,
        env=_service_env("intake", OMSORG_ENVIRONMENT="development"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    assert check.stdout.strip() == "simulator"


@pytest.mark.parametrize("environment", [None, "production", "staging"])
def test_the_development_issuer_refuses_unless_development_is_chosen(
    environment: str | None, tmp_path: Path
) -> None:
    extra = {"DEV_ISSUER_KEY_FILE": str(tmp_path / "key.pem")}
    if environment:
        extra["OMSORG_ENVIRONMENT"] = environment
    output = _refused("shared.dev_issuer.app:app", _env(**extra))
    assert "OMSORG_ENVIRONMENT" in output
    assert not (tmp_path / "key.pem").exists()  # refused before it made a signing key


def test_the_development_issuer_starts_when_development_is_chosen(tmp_path: Path) -> None:
    port = _free_port()
    process = _uvicorn(
        "shared.dev_issuer.app:app",
        _env(OMSORG_ENVIRONMENT="development", DEV_ISSUER_KEY_FILE=str(tmp_path / "key.pem")),
        port,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "the development issuer exited"
                assert time.monotonic() < deadline, "the development issuer did not answer"
                time.sleep(0.2)
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_omsorg_sh_binds_the_development_issuer_to_loopback_only() -> None:
    script = (ROOT / "deploy" / "omsorg.sh").read_text()
    line = next(li for li in script.splitlines() if "shared.dev_issuer.app:app" in li)
    assert "--host 127.0.0.1 " in line and "BIND_HOST" not in line
    assert "export OMSORG_ENVIRONMENT=${OMSORG_ENVIRONMENT:-development}" in script
