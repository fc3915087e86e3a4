"""The contact details citizens set in Mina sidor, kept by personnummer, so a
person created later (when an application is linked) starts with them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_contact_details",
        sa.Column("pnr", sa.String(12), primary_key=True),
        sa.Column("mobile", sa.String(20)),
        sa.Column("email", sa.String(254)),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("citizen_contact_details")
