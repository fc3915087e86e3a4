"""A document's e-service delivery refused by messaging (EServiceDeliveryRefused):
when and why (messaging's fixed text, no personal data), so the unit sees it must
go by post.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("provider_documents", sa.Column("delivery_refused_at", sa.DateTime(timezone=True)))
    op.add_column("provider_documents", sa.Column("delivery_refused_reason", sa.String(200)))


def downgrade() -> None:
    op.drop_column("provider_documents", "delivery_refused_reason")
    op.drop_column("provider_documents", "delivery_refused_at")
