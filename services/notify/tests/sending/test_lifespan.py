"""The sender in a service's lifespan: ServiceSpec.workers start once the outbox
relay runs and stop before it, and notify's sender is built from the app's state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import Infrastructure, eventually
from notify.config import Settings
from notify.sending.worker import sender_worker
from shared.service_app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings

World = Any
SmsGateway = Any

NOTIFY_DIR = Path(__file__).resolve().parents[2]


async def test_a_services_workers_start_after_the_outbox_relay_and_stop_before_it(
    infrastructure: Infrastructure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMSORG_ENVIRONMENT", "test")
    settings = ServiceSettings(
        database_url=infrastructure.test_database_url, kafka_bootstrap_servers=infrastructure.kafka_bootstrap
    )
    seen: list[tuple[str, bool]] = []

    class Probe:
        """A worker noting whether the relay runs when it starts and stops."""

        def __init__(self, app: FastAPI) -> None:
            self.app = app

        def start(self) -> None:
            seen.append(("start", self.app.state.relay.running))

        async def stop(self) -> None:
            seen.append(("stop", self.app.state.relay.running))

    app = create_service_app(
        ServiceSpec(
            name="probe",
            title="probe",
            description="probe",
            settings=settings,
            service_dir=NOTIFY_DIR,
            workers=[Probe],
        )
    )
    async with app.router.lifespan_context(app):
        assert seen == [("start", True)]
        assert app.state.settings is settings
    assert seen == [("start", True), ("stop", True)]


async def test_notifys_sender_is_built_from_the_apps_state_and_sends_until_it_is_stopped(
    world: World,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    notify_settings: Settings,
    callback_url: str,
    gateway: SmsGateway,
) -> None:
    app = FastAPI()
    app.state.settings = notify_settings
    app.state.sessionmaker = sessionmaker
    worker = sender_worker(app)
    worker.start()
    try:
        number = world.number()
        await world.deliver(await world.person(sms=number))
        await session.commit()

        async def arrived() -> bool:
            return len(await gateway.received(number)) == 1

        await eventually(arrived)
    finally:
        await worker.stop()
    assert not worker.running
