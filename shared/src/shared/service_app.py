"""The one place a service's FastAPI app is assembled: database, Kafka broker,
inbox consumers, outbox relay, background workers, auth, health, metrics,
problem details, log review (every service audits), and the OpenAPI and
AsyncAPI docs. Each service's app.py says only what is its own."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html

from shared.access_log import router as access_log_router
from shared.audit_chain import AuditSealer
from shared.auth import JwksVerifier
from shared.db import asyncpg_dsn, make_engine, make_sessionmaker
from shared.events import Event
from shared.health import install_metrics_middleware
from shared.health import router as health_router
from shared.http_limits import install_body_size_limit
from shared.inbox import InboxConsumer
from shared.kafka_security import broker_security, client_kwargs
from shared.openapi import install_openapi
from shared.outbox import OutboxRelay, Retention
from shared.overload import install_load_shedding
from shared.problems import install_problem_handlers
from shared.settings import ServiceSettings


class Worker(Protocol):
    """A background task of a service's process (notify's sender): started once
    the outbox relay runs, stopped before it, so what it records still leaves."""

    def start(self) -> None:
        """Begin working in the background; return at once."""

    async def stop(self) -> None:
        """Finish what is under way and stop; return when stopped."""


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    settings: ServiceSettings
    service_dir: Path  # holds alembic.ini and migrations/
    routers: Sequence[APIRouter] = ()
    # Events this service publishes (through its outbox), for the AsyncAPI docs.
    publishes: Sequence[type[Event]] = ()
    # Registers the service's subscriptions on its inbox consumer.
    subscribe: Callable[[InboxConsumer], None] | None = None
    extra_state: dict[str, object] = field(default_factory=dict)
    # Background workers, each built from the app once its state is set up.
    workers: Sequence[Callable[[FastAPI], Worker]] = ()


def migrations_head(service_dir: Path) -> str | None:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request's URL at INFO: a capability URL's token (a document
    # link between services) must never reach a log.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def create_service_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    configure_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            settings.database_url,
            settings.db_pool_size,
            pool_timeout=settings.db_pool_timeout_seconds,
            connect_timeout=settings.db_connect_timeout_seconds,
        )
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers.split(","),  # a cluster: every broker, for bootstrapping
            acks="all",
            enable_idempotence=True,
            security=broker_security(settings),
            client_id=f"omsorg-{spec.name}",
            allow_auto_create_topics=False,
            # On shutdown a consumer finishes the batch in hand (its transaction
            # and offset commit) before it stops, for up to this long.
            graceful_timeout=10.0,
            description=spec.description,
            log_level=logging.DEBUG,
        )  # FastStream's per-message lines: quiet
        for event in spec.publishes:
            broker.publisher(
                event.topic,
                title=f"{event.topic}:{event.ce_type}",
                schema=event,
                description=event.__doc__ or "",
            )
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.broker = broker
        app.state.verifier = JwksVerifier(
            settings.issuer_url, settings.token_audience, settings.citizen_issuer_url
        )
        app.state.migrations_head = migrations_head(spec.service_dir)
        app.state.consumer = InboxConsumer(
            broker,
            app.state.sessionmaker,
            spec.name,
            settings.consumer_max_attempts,
            settings.consumer_backoff_seconds,
            settings.consumer_max_pause_seconds,
            settings.consumer_dlq_timeout_seconds,
            settings.consumer_batch_size,
            settings.consumer_batch_wait_ms,
        )
        app.state.stuck_after_seconds = settings.stuck_after_seconds
        app.state.settings = settings
        for key, value in spec.extra_state.items():
            setattr(app.state, key, value)
        if spec.subscribe:
            spec.subscribe(app.state.consumer)
        relay = OutboxRelay(
            engine,
            asyncpg_dsn(settings.database_url),
            settings.kafka_bootstrap_servers,
            spec.name,
            producer_options=client_kwargs(settings),
            retention=Retention(
                sent_outbox=timedelta(hours=settings.outbox_sent_retention_hours),
                inbox=timedelta(days=settings.inbox_retention_days),
            ),
        )
        app.state.relay = relay
        app.state.audit_sealer = AuditSealer(engine)
        await broker.start()
        relay.start()
        app.state.audit_sealer.start()
        workers = [make(app) for make in spec.workers]
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            # Uvicorn has drained HTTP by now. Consumers stop after their batch,
            # then the relay sends what they and the last requests recorded.
            for worker in reversed(workers):
                await worker.stop()
            await broker.stop()
            await app.state.audit_sealer.stop()
            await relay.stop()
            await engine.dispose()

    app = FastAPI(title=spec.title, description=spec.description, lifespan=lifespan)
    install_problem_handlers(app)
    install_openapi(app)
    install_body_size_limit(app, settings.max_body_bytes, settings.max_body_bytes_by_route)
    # Outside the body limit and the app, inside the metrics: a refused request
    # never reaches either, and shows in the request counts as a 503.
    install_load_shedding(
        app,
        max_in_flight=settings.max_requests_in_flight,
        max_queued=settings.max_requests_queued,
        wait_seconds=settings.admission_wait_seconds,
        retry_after_seconds=settings.overload_retry_after_seconds,
    )
    install_metrics_middleware(app)
    app.include_router(health_router)
    for router in spec.routers:
        app.include_router(router)
    app.include_router(access_log_router)

    def asyncapi_schema(request: Request) -> AsyncAPI:
        return AsyncAPI(
            request.app.state.broker,
            title=f"{spec.title} events",
            description=spec.description,
            schema_version="3.0.0",
        )

    @app.get("/asyncapi.json", tags=["docs"], summary="AsyncAPI document of this service's channels")
    async def asyncapi_json(request: Request) -> JSONResponse:
        return JSONResponse(asyncapi_schema(request).to_specification().to_jsonable())

    @app.get(
        "/asyncapi",
        tags=["docs"],
        response_class=HTMLResponse,
        summary="AsyncAPI docs of this service's channels",
    )
    async def asyncapi_html(request: Request) -> HTMLResponse:
        return HTMLResponse(
            get_asyncapi_html(asyncapi_schema(request).to_specification(), try_it_out_path=None)
        )

    return app
