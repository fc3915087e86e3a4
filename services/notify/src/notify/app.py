"""Notify: sMS and e-mail alerts to citizens and related persons, without confidential content."""

from pathlib import Path

from notify.config import Settings
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(
    ServiceSpec(
        name="notify",
        title="Omsorg notify",
        description="SMS and e-mail alerts to citizens and related persons, without confidential content.",
        settings=Settings(),
        service_dir=Path(__file__).resolve().parents[2],
    )
)
