"""Intake: citizens' e-applications and the service catalogue."""

from pathlib import Path

from intake.applications.endpoints import router as applications_router
from intake.catalogue.endpoints import router as catalogue_router
from intake.citizens.endpoints import router as citizens_router
from intake.config import Settings
from intake.consumers import subscribe
from intake.login.endpoints import router as login_router
from intake.login.setup import LoginSetup
from intake.representations.endpoints import router as representations_router
from shared.contracts.intake import ApplicationSubmitted, ContactDetailsChanged
from shared.service_app import ServiceSpec, create_service_app

settings = Settings()
app = create_service_app(
    ServiceSpec(
        name="intake",
        title="Omsorg intake",
        description="Citizens apply for elderly care (SoL) and LSS support through the e-service.",
        settings=settings,
        service_dir=Path(__file__).resolve().parents[2],
        routers=[
            catalogue_router,
            applications_router,
            citizens_router,
            representations_router,
            login_router,
        ],
        publishes=[ApplicationSubmitted, ContactDetailsChanged],
        subscribe=subscribe,
        extra_state={"login": LoginSetup.from_settings(settings)},
    )
)
