"""Messaging: secure messages between staff, citizens, related persons and providers."""

from pathlib import Path

from messaging.config import Settings
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(
    ServiceSpec(
        name="messaging",
        title="Omsorg messaging",
        description="Secure messages between staff, citizens, related persons and providers.",
        settings=Settings(),
        service_dir=Path(__file__).resolve().parents[2],
    )
)
