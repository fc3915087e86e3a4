"""Alerts (NT-1..NT-4): the projections of casework's facts that say who is
alerted where (alert_settings, approvals, person_units), the alerts themselves
(the sender's due-time queue), their triggers and their status history.
Replaces the placeholder contact_settings table, which nothing wrote.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("contact_settings")
    op.create_table(
        "alert_settings",
        sa.Column("person_id", sa.Uuid, primary_key=True),
        sa.Column("pnr", sa.String(12), nullable=False),
        sa.Column("messages_enabled", sa.Boolean, nullable=False),
        sa.Column("sms_number", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("alert_recipients", sa.String(16), nullable=False),
        sa.Column("related_alerts", pg.JSONB, nullable=False),
        sa.Column("protected_identity", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column("approval_id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("related_pnr", sa.String(12), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_approvals_person_id", "approvals", ["person_id"])
    op.create_table(
        "person_units",
        sa.Column("person_id", sa.Uuid, primary_key=True),
        sa.Column("unit", sa.String(100), primary_key=True),
        sa.Column("pnr", sa.String(12), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("recipient", sa.String(16), nullable=False),
        sa.Column("recipient_key", sa.String(12), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("provider_id", sa.String(100)),
        sa.Column("fallback_of", sa.Uuid, sa.ForeignKey("alerts.id", name="fk_alerts_fallback_of_alerts")),
        sa.Column("coalesced", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_error", sa.Text),
        sa.Column("first_trigger_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("recipient IN ('citizen', 'related')", name="recipient"),
        sa.CheckConstraint("channel IN ('sms', 'email')", name="channel"),
        sa.CheckConstraint("kind IN ('message', 'decision', 'document')", name="kind"),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'accepted', 'delivered', 'failed', 'given_up')", name="status"
        ),
    )
    op.create_index("ix_alerts_person_id", "alerts", ["person_id"])
    op.create_index("ix_alerts_provider_id", "alerts", ["provider_id"])
    op.create_index(
        "ix_alerts_due", "alerts", ["due_at"], postgresql_where=sa.text("status IN ('queued', 'failed')")
    )
    op.create_index(
        "ix_alerts_leased", "alerts", ["lease_until"], postgresql_where=sa.text("status = 'sending'")
    )
    op.create_index("ix_alerts_coalescing", "alerts", ["person_id", "recipient_key", "channel", "due_at"])
    op.create_table(
        "alert_triggers",
        sa.Column(
            "alert_id",
            sa.Uuid,
            sa.ForeignKey("alerts.id", name="fk_alert_triggers_alert_id_alerts"),
            primary_key=True,
        ),
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alert_triggers_message_id", "alert_triggers", ["message_id"])
    op.create_table(
        "alert_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "alert_id",
            sa.Uuid,
            sa.ForeignKey("alerts.id", name="fk_alert_history_alert_id_alerts"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_alert_history_alert_id", "alert_history", ["alert_id"])


def downgrade() -> None:
    op.drop_table("alert_history")
    op.drop_table("alert_triggers")
    op.drop_table("alerts")
    op.drop_table("person_units")
    op.drop_table("approvals")
    op.drop_table("alert_settings")
    op.create_table(
        "contact_settings",
        sa.Column("person_id", sa.Uuid, primary_key=True),
        sa.Column("sms_phone", sa.String(32)),
        sa.Column("email", sa.String(254)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
