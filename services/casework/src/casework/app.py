"""Casework: persons, intake records, cases — and the shared e-application inbox."""

from pathlib import Path

from casework.config import Settings
from casework.e_applications import consumers as e_application_consumers
from casework.e_applications.endpoints import router as e_applications_router
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(ServiceSpec(
    name="casework",
    title="Omsorg casework",
    description="Caseworkers handle e-applications, persons, intake records and cases.",
    settings=Settings(),  # type: ignore[call-arg]
    service_dir=Path(__file__).resolve().parents[2],
    routers=[e_applications_router],
    subscribe=e_application_consumers.subscribe,
))
