"""Provider: care providers confirm orders, start and end executions and report absence."""

from pathlib import Path

from provider.config import Settings
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(
    ServiceSpec(
        name="provider",
        title="Omsorg provider",
        description="Care providers confirm orders, start and end executions and report absence.",
        settings=Settings(),
        service_dir=Path(__file__).resolve().parents[2],
    )
)
