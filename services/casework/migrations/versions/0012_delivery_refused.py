"""A document's e-service delivery refused by messaging (EServiceDeliveryRefused):
when and why (messaging's fixed text, no personal data), so the caseworker sees
it must go by post.

Both columns are delivery state and change on a write-protected document (every
document sent is one). The write-protection trigger of 0010 needs no change for
that: it compares only the columns it freezes (its `_FROZEN` list), and these two
are not among them.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("delivery_refused_at", sa.DateTime(timezone=True)))
    op.add_column("documents", sa.Column("delivery_refused_reason", sa.String(200)))


def downgrade() -> None:
    op.drop_column("documents", "delivery_refused_reason")
    op.drop_column("documents", "delivery_refused_at")
