"""What `create_service_app` gives every service without the service asking."""

from __future__ import annotations

import logging
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


def test_request_urls_of_the_http_client_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    # A capability URL (a document link between services) carries its token in
    # the query: httpx logs every request URL at INFO unless told otherwise.
    from shared.service_app import configure_logging

    configure_logging()
    with caplog.at_level(logging.INFO):
        logging.getLogger("httpx").info("HTTP Request: GET http://casework/order-fetch/x?token=secret")
    assert "secret" not in caplog.text
