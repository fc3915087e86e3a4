"""A purged message takes what refers to it along, in the database: its
recipients, mailbox copies, auto-reply ledger and absence forwards go with it
(ON DELETE CASCADE), and replies and forwards of it lose the reference (SET
NULL). The retention purge (MS-11) then deletes messages only, and a module
added later declares its own rule on its foreign key.

Revision ID: 0008
Revises: 0006 (the chain runs 0004 → 0007 → 0005 → 0006 → 0008: 0007 was
written before 0005 and 0006 and kept its id so existing databases upgrade)
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, column, ON DELETE rule)
_REFERENCES = [
    ("messages", "reply_to_id", "SET NULL"),
    ("messages", "forwarded_from_id", "SET NULL"),
    ("message_recipients", "message_id", "CASCADE"),
    ("mailbox_items", "message_id", "CASCADE"),
    ("auto_replies", "conversation_id", "CASCADE"),
    ("absence_forwards", "message_id", "CASCADE"),
]


def _recreate(with_rules: bool) -> None:
    for table, column, on_delete in _REFERENCES:
        name = f"fk_{table}_{column}_messages"
        op.drop_constraint(name, table, type_="foreignkey")
        op.create_foreign_key(
            name, table, "messages", [column], ["id"], ondelete=on_delete if with_rules else None
        )


def upgrade() -> None:
    _recreate(with_rules=True)


def downgrade() -> None:
    _recreate(with_rules=False)
