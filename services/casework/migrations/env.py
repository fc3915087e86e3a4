import casework.cases.models
import casework.decisions.models
import casework.fees.models
import casework.orders.models
import casework.providers.models  # noqa: F401  (their tables, for Alembic)
from casework.config import Settings
from casework.models import Base
from shared.alembic_env import run_migrations

run_migrations(Base.metadata, Settings().database_url)
