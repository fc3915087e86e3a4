"""Contact lists (kontaktlistor): a staff member's own named lists of recipients.

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_lists",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("owner_sub", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("owner_sub", "name", name="uq_contact_lists_owner_sub"),
    )
    op.create_index("ix_contact_lists_owner_sub", "contact_lists", ["owner_sub"])
    op.create_table(
        "contact_list_entries",
        sa.Column(
            "list_id",
            sa.Uuid,
            sa.ForeignKey(
                "contact_lists.id",
                ondelete="CASCADE",
                name="fk_contact_list_entries_list_id_contact_lists",
            ),
            primary_key=True,
        ),
        sa.Column("position", sa.SmallInteger, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Uuid, nullable=False),
        sa.CheckConstraint("kind IN ('staff', 'group', 'citizen')", name="kind"),
    )


def downgrade() -> None:
    op.drop_table("contact_list_entries")
    op.drop_table("contact_lists")
