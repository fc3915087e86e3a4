"""Documents (CW-10, MS-10): a document of a person, an intake record or a case,
with a date, a written text or a file, where it came from, write-protection
(a trigger keeps a write-protected document as it was: only its e-service
delivery state may change, and it is never deleted) and its delivery to the
person's e-service mailbox.

Existing documents were filed by intake records: the e-application's PDF
("e-application") and journaled attachments ("journal"); their date is the day
they were filed.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TODAY = "(now() AT TIME ZONE 'Europe/Stockholm')::date"
# Everything but the delivery state: what write-protection freezes.
_FROZEN = (
    "id",
    "person_id",
    "record_id",
    "case_id",
    "doc_type",
    "title",
    "document_date",
    "text",
    "content_type",
    "content",
    "source",
    "created_by",
    "created_at",
    "updated_at",
    "write_protected_at",
    "write_protected_by",
)


def _row(alias: str) -> str:
    return f"ROW({', '.join(f'{alias}.{column}' for column in _FROZEN)})"


def upgrade() -> None:
    op.add_column("documents", sa.Column("case_id", sa.Uuid, sa.ForeignKey("cases.id")))
    op.add_column("documents", sa.Column("document_date", sa.Date, server_default=sa.text(_TODAY)))
    op.add_column("documents", sa.Column("text", sa.Text))
    op.add_column("documents", sa.Column("source", sa.String(20), nullable=False, server_default="filed"))
    op.add_column("documents", sa.Column("created_by", sa.String(200)))
    op.add_column("documents", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.add_column("documents", sa.Column("write_protected_at", sa.DateTime(timezone=True)))
    op.add_column("documents", sa.Column("write_protected_by", sa.String(200)))
    op.add_column("documents", sa.Column("delivery_id", sa.Uuid))
    op.add_column("documents", sa.Column("delivery_kind", sa.String(20)))
    op.add_column("documents", sa.Column("delivery_requested_at", sa.DateTime(timezone=True)))
    op.add_column("documents", sa.Column("delivery_requested_by", sa.String(200)))
    op.add_column("documents", sa.Column("delivered_at", sa.DateTime(timezone=True)))
    op.add_column("documents", sa.Column("message_id", sa.Uuid))

    op.execute(
        "UPDATE documents SET document_date = (created_at AT TIME ZONE 'Europe/Stockholm')::date, "
        "source = CASE WHEN doc_type = 'E-ansökan' THEN 'e-application' ELSE source END"
    )
    op.execute(
        "UPDATE documents d SET source = 'journal' "
        "WHERE EXISTS (SELECT 1 FROM journal_entries j WHERE d.id = ANY(j.document_ids))"
    )
    op.alter_column("documents", "document_date", nullable=False)
    op.alter_column("documents", "record_id", nullable=True)
    op.alter_column("documents", "content", nullable=True)
    op.create_check_constraint("case_has_record", "documents", "case_id IS NULL OR record_id IS NOT NULL")
    op.create_unique_constraint("uq_documents_delivery_id", "documents", ["delivery_id"])
    op.create_index("ix_documents_person_id", "documents", ["person_id"])
    op.create_index("ix_documents_case_id", "documents", ["case_id"])

    # The service refuses first (409); this keeps a write-protected document as it
    # was whatever writes to the table. An integrity violation: answered 409.
    op.execute(f"""
        CREATE FUNCTION documents_write_protected() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR {_row("NEW")} IS DISTINCT FROM {_row("OLD")} THEN
                RAISE EXCEPTION 'a write-protected document cannot be changed or deleted'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;  -- only the delivery state changed
        END $$""")
    op.execute("""
        CREATE TRIGGER documents_write_protected BEFORE UPDATE OR DELETE ON documents
        FOR EACH ROW WHEN (OLD.write_protected_at IS NOT NULL)
        EXECUTE FUNCTION documents_write_protected()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER documents_write_protected ON documents")
    op.execute("DROP FUNCTION documents_write_protected()")
    op.drop_index("ix_documents_case_id", "documents")
    op.drop_index("ix_documents_person_id", "documents")
    op.drop_constraint("uq_documents_delivery_id", "documents", type_="unique")
    op.drop_constraint("case_has_record", "documents", type_="check")
    # The old table knows only files under an intake record: written documents
    # without their PDF, and documents of a person only, do not fit it.
    op.execute("DELETE FROM documents WHERE record_id IS NULL OR content IS NULL")
    op.alter_column("documents", "content", nullable=False)
    op.alter_column("documents", "record_id", nullable=False)
    for column in (
        "message_id",
        "delivered_at",
        "delivery_requested_by",
        "delivery_requested_at",
        "delivery_kind",
        "delivery_id",
        "write_protected_by",
        "write_protected_at",
        "updated_at",
        "created_by",
        "source",
        "text",
        "document_date",
        "case_id",
    ):
        op.drop_column("documents", column)
