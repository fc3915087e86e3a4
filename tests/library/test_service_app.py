"""What `create_service_app` gives every service without the service asking."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.service_app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings

SERVICES = Path(__file__).resolve().parents[2] / "services"


@pytest.mark.parametrize("name", ["intake", "casework", "messaging", "provider", "notify"])
def test_every_service_gets_log_review_health_and_its_api_docs(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every service audits, so every one answers log review (loggkontroll) the same way.
    monkeypatch.setenv("OMSORG_ENVIRONMENT", "test")
    settings = ServiceSettings(database_url="postgresql+asyncpg://u@127.0.0.1:1/none")
    app = create_service_app(
        ServiceSpec(name=name, title=name, description=name, settings=settings, service_dir=SERVICES / name)
    )
    paths = app.openapi()["paths"]
    assert {"/access-log/search", "/health/live", "/health/ready", "/asyncapi.json"} <= set(paths)
    assert "log review" in paths["/access-log/search"]["post"]["tags"]
