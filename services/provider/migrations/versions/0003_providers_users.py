"""Providers and their units reshaped (kind, unit codes), provider users, access
reviews and their reminders, service windows.

The placeholder tables of 0001 held no data: they are dropped and made anew.

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
    op.drop_table("provider_units")
    op.drop_table("providers")
    op.create_table(
        "providers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation_number", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organisation_number", name="uq_providers_organisation_number"),
        sa.CheckConstraint("kind IN ('municipal', 'lov')", name="kind"),
    )
    op.create_table(
        "provider_units",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "provider_id",
            sa.Uuid,
            sa.ForeignKey("providers.id", name="fk_provider_units_provider_id_providers"),
            nullable=False,
        ),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_provider_units_code"),
    )
    op.create_index("ix_provider_units_provider_id", "provider_units", ["provider_id"])
    op.create_table(
        "provider_users",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "provider_id",
            sa.Uuid,
            sa.ForeignKey("providers.id", name="fk_provider_users_provider_id_providers"),
            nullable=False,
        ),
        sa.Column("sub", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("manager", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("sub", name="uq_provider_users_sub"),
    )
    op.create_index("ix_provider_users_provider_id", "provider_users", ["provider_id"])
    op.create_table(
        "access_reviews",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "provider_id",
            sa.Uuid,
            sa.ForeignKey("providers.id", name="fk_access_reviews_provider_id_providers"),
            nullable=False,
        ),
        sa.Column("reviewed_by", sa.String(200), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_subs", sa.ARRAY(sa.String(200)), nullable=False),
    )
    op.create_index(
        "ix_access_reviews_provider_id_reviewed_at", "access_reviews", ["provider_id", "reviewed_at"]
    )
    op.create_table(
        "access_review_reminders",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "provider_id",
            sa.Uuid,
            sa.ForeignKey("providers.id", name="fk_access_review_reminders_provider_id_providers"),
            nullable=False,
        ),
        sa.Column("manager_subs", sa.ARRAY(sa.String(200)), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_reviewed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_access_review_reminders_provider_id_reminded_at",
        "access_review_reminders",
        ["provider_id", "reminded_at"],
    )
    op.create_table(
        "service_windows",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )
    op.create_index("ix_service_windows_ends_at", "service_windows", ["ends_at"])


def downgrade() -> None:
    op.drop_table("service_windows")
    op.drop_table("access_review_reminders")
    op.drop_table("access_reviews")
    op.drop_table("provider_users")
    op.drop_table("provider_units")
    op.drop_table("providers")
    # The placeholders of 0001, as they were.
    op.create_table(
        "providers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation_number", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("organisation_number", name="uq_providers_organisation_number"),
    )
    op.create_table(
        "provider_units",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "provider_id",
            sa.Uuid,
            sa.ForeignKey("providers.id", name="fk_provider_units_provider_id_providers"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_index("ix_provider_units_provider_id", "provider_units", ["provider_id"])
