import messaging.attachments.models
import messaging.contacts.models
import messaging.deliveries.models
import messaging.journal.models
import messaging.settings.models  # noqa: F401  (its tables, for Alembic)
from messaging.config import Settings
from messaging.models import Base
from shared.alembic_env import run_migrations

run_migrations(Base.metadata, Settings().database_url)  # type: ignore[call-arg]
