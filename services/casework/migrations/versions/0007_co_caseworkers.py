"""Co-caseworkers (medhandläggare) of intake records, and the record's
co-caseworker version that orders their events (docs/event-ordering.md).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "co_caseworkers",
        sa.Column("record_id", sa.Uuid, sa.ForeignKey("intake_records.id"), primary_key=True),
        sa.Column("caseworker_id", sa.String(200), primary_key=True),
        sa.Column("caseworker_name", sa.String(200), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    # 0 for existing records: none has had a co-caseworker event yet.
    op.add_column(
        "intake_records",
        sa.Column("co_caseworker_version", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("intake_records", "co_caseworker_version")
    op.drop_table("co_caseworkers")
