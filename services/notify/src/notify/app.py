"""Notify: SMS and e-mail alerts to citizens and related persons, without confidential content."""

from pathlib import Path

from notify.alerts.endpoints import router as alerts_router
from notify.alerts.metrics import observe_queue
from notify.config import Settings
from notify.consumers import subscribe
from notify.sending.endpoints import router as delivery_reports_router
from notify.sending.worker import sender_worker
from shared.contracts.notify import AlertOutcome
from shared.health import SCRAPE_HOOKS_STATE
from shared.inbox import InboxConsumer
from shared.service_app import ServiceSpec, create_service_app

settings = Settings()


def _subscribe(consumer: InboxConsumer) -> None:
    subscribe(consumer, settings)


app = create_service_app(
    ServiceSpec(
        name="notify",
        title="Omsorg notify",
        description="SMS and e-mail alerts to citizens and related persons, without confidential content.",
        settings=settings,
        service_dir=Path(__file__).resolve().parents[2],
        routers=[alerts_router, delivery_reports_router],
        publishes=[AlertOutcome],
        subscribe=_subscribe,
        workers=[sender_worker],
        extra_state={SCRAPE_HOOKS_STATE: [observe_queue]},
    )
)
