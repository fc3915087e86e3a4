"""Intake: citizens' e-applications and the service catalogue."""

from pathlib import Path

from intake.applications.endpoints import router as applications_router
from intake.catalogue.endpoints import router as catalogue_router
from intake.citizens.endpoints import router as citizens_router
from intake.config import Settings
from intake.consumers import subscribe
from intake.representations.endpoints import router as representations_router
from shared.contracts.intake import ApplicationSubmitted, ContactDetailsChanged
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(ServiceSpec(
    name="intake",
    title="Omsorg intake",
    description="Citizens apply for elderly care (SoL) and LSS support through the e-service.",
    settings=Settings(),  # type: ignore[call-arg]
    service_dir=Path(__file__).resolve().parents[2],
    routers=[catalogue_router, applications_router, citizens_router, representations_router],
    publishes=[ApplicationSubmitted, ContactDetailsChanged],
    subscribe=subscribe,
))
