"""Messaging: secure messages between staff, citizens, related persons and providers."""

from pathlib import Path

from messaging.attachments.endpoints import router as attachments_router
from messaging.config import Settings
from messaging.consumers import subscribe
from messaging.contacts.endpoints import router as contacts_router
from messaging.journal.endpoints import router as journal_router
from messaging.mailboxes.endpoints import router as mailboxes_router
from messaging.messages.endpoints import citizen_router as e_service_router
from messaging.messages.endpoints import router as messages_router
from messaging.settings.endpoints import router as settings_router
from shared.contracts.messaging import (
    EServiceDeliveryDone,
    EServiceDeliveryRefused,
    MessageDeliveredToEService,
    MessageJournalRequested,
)
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(
    ServiceSpec(
        name="messaging",
        title="Omsorg messaging",
        description="Secure messages between staff, citizens, related persons and providers.",
        settings=Settings(),
        service_dir=Path(__file__).resolve().parents[2],
        routers=[
            mailboxes_router,
            messages_router,
            e_service_router,
            attachments_router,
            contacts_router,
            settings_router,
            journal_router,
        ],
        publishes=[
            MessageDeliveredToEService,
            MessageJournalRequested,
            EServiceDeliveryDone,
            EServiceDeliveryRefused,
        ],
        subscribe=subscribe,
    )
)
