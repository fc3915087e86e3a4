import provider.absences.models
import provider.orders.models
import provider.reviews.models
import provider.windows.models  # noqa: F401  (their tables, for Alembic)
from provider.config import Settings
from provider.models import Base
from shared.alembic_env import run_migrations

run_migrations(Base.metadata, Settings().database_url)  # type: ignore[call-arg]
