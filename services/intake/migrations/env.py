import intake.login.models  # noqa: F401  (registers the login tables on Base.metadata)
from intake.config import Settings
from intake.models import Base
from shared.alembic_env import run_migrations

run_migrations(Base.metadata, Settings().database_url)  # type: ignore[call-arg]
