"""Absence and settings (MS-7, MS-8): staff users' signature, absence message
and forwarding; the automatic-reply ledger (once per conversation and sender);
why a message is in a group mailbox (forwarded for an absent member).

Revision ID: 0005
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_settings",
        sa.Column("sub", sa.String(200), primary_key=True),
        sa.Column("signature", sa.Text, nullable=False, server_default=""),
        sa.Column("absence_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("absence_message", sa.Text, nullable=False, server_default=""),
        sa.Column("absence_from", sa.Date),
        sa.Column("absence_to", sa.Date),
        sa.Column("forward_to_mailbox_id", sa.Uuid, sa.ForeignKey("mailboxes.id")),
        sa.Column("absence_set_by", sa.String(200)),
        sa.Column("absence_set_by_name", sa.String(200)),
        sa.Column("absence_set_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "absence_from IS NULL OR absence_to IS NULL OR absence_from <= absence_to", name="absence_period"
        ),
    )
    op.create_table(
        "auto_replies",
        sa.Column("absent_sub", sa.String(200), primary_key=True),
        sa.Column("conversation_id", sa.Uuid, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("sender_mailbox_id", sa.Uuid, sa.ForeignKey("mailboxes.id"), primary_key=True),
        sa.Column("reply_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "absence_forwards",
        sa.Column("message_id", sa.Uuid, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("mailbox_id", sa.Uuid, sa.ForeignKey("mailboxes.id"), primary_key=True),
        sa.Column("absent_sub", sa.String(200), primary_key=True),
        sa.Column("absent_mailbox_id", sa.Uuid, sa.ForeignKey("mailboxes.id"), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_absence_forwards_mailbox_id", "absence_forwards", ["mailbox_id"])


def downgrade() -> None:
    op.drop_table("absence_forwards")
    op.drop_table("auto_replies")
    op.drop_table("staff_settings")
