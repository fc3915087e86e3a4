"""Provider: care providers confirm orders, start and end executions and report absence."""

from pathlib import Path

from provider.absences.endpoints import router as absences_router
from provider.config import Settings
from provider.consumers import subscribe
from provider.documents.endpoints import router as documents_router
from provider.orders.endpoints import router as orders_router
from provider.providers.endpoints import router as providers_router
from provider.reviews.endpoints import router as reviews_router
from provider.users.endpoints import router as users_router
from provider.windows.endpoints import router as windows_router
from shared.contracts.provider import (
    AbsenceEnded,
    AbsenceRegistered,
    ExecutionEnded,
    ExecutionStarted,
    ProviderDocumentDeliveryRequested,
    ProviderRegistered,
    ProviderUnitAdded,
)
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(
    ServiceSpec(
        name="provider",
        title="Omsorg provider",
        description="Care providers confirm orders, start and end executions and report absence.",
        settings=Settings(),
        service_dir=Path(__file__).resolve().parents[2],
        routers=[
            providers_router,
            users_router,
            reviews_router,
            windows_router,
            orders_router,
            absences_router,
            documents_router,
        ],
        publishes=[
            ProviderRegistered,
            ProviderUnitAdded,
            ExecutionStarted,
            ExecutionEnded,
            AbsenceRegistered,
            AbsenceEnded,
            ProviderDocumentDeliveryRequested,
        ],
        subscribe=subscribe,
    )
)
