"""Documents per assignment (PR-10): genomförandeplaner and journal notes of an
order, write-protected once final, sent as PDF to the citizen's e-service.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_documents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "order_id",
            sa.Uuid,
            sa.ForeignKey("orders.id", name="fk_provider_documents_order_id_orders"),
            nullable=False,
        ),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("doc_type", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("document_date", sa.Date, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("message_id", sa.Uuid, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_by_name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("write_protected_by", sa.String(200), nullable=True),
        sa.Column("write_protected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_id", sa.Uuid, nullable=True),
        sa.Column("delivery_requested_by", sa.String(200), nullable=True),
        sa.Column("delivery_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_message_id", sa.Uuid, nullable=True),
        sa.Column("pdf", sa.LargeBinary, nullable=True),
        sa.UniqueConstraint("delivery_id", name="uq_provider_documents_delivery_id"),
    )
    op.create_index("ix_provider_documents_order", "provider_documents", ["order_id", "document_date", "id"])


def downgrade() -> None:
    op.drop_table("provider_documents")
