"""Per-aggregate versions that order the events (docs/event-ordering.md): an
approval's version, a person's e-service settings version, and the profile
version each of the citizen's contact fields was last set at.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("approvals", "version"),
    ("persons", "e_service_version"),
    ("citizen_contact_details", "mobile_version"),
    ("citizen_contact_details", "email_version"),
)


def upgrade() -> None:
    # 0 for what exists: events already published carried no version either.
    for table, column in _COLUMNS:
        op.add_column(table, sa.Column(column, sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        op.drop_column(table, column)
