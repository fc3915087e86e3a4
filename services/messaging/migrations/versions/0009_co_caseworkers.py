"""Co-caseworkers in the right to send (MS-3): `caseworker_assignments` holds
several co-caseworkers per intake record. The key becomes (record, role,
caseworker); a partial unique index keeps one caseworker per record, so a later
CaseworkerAssigned still replaces the record's caseworker row. A co-caseworker's
row keeps the record's co-caseworker version last applied and, once removed,
when (`removed_at`), so a replayed older addition never brings them back.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLE = "caseworker_assignments"
_PK = "pk_caseworker_assignments"
_ONE_CASEWORKER = "uq_caseworker_assignments_caseworker_of_record"


def upgrade() -> None:
    # 0 for the existing rows: they are all caseworkers', which carry no version.
    op.add_column(_TABLE, sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.add_column(_TABLE, sa.Column("removed_at", sa.DateTime(timezone=True)))
    op.drop_constraint(_PK, _TABLE, type_="primary")
    op.create_primary_key(_PK, _TABLE, ["record_id", "role", "caseworker_id"])
    op.create_index(
        _ONE_CASEWORKER, _TABLE, ["record_id"], unique=True, postgresql_where=sa.text("role = 'caseworker'")
    )


def downgrade() -> None:
    # The old key holds one row per record and role: co-caseworkers do not fit it.
    op.execute(sa.text("DELETE FROM caseworker_assignments WHERE role = 'co_caseworker'"))
    op.drop_index(_ONE_CASEWORKER, _TABLE)
    op.drop_constraint(_PK, _TABLE, type_="primary")
    op.create_primary_key(_PK, _TABLE, ["record_id", "role"])
    op.drop_column(_TABLE, "removed_at")
    op.drop_column(_TABLE, "version")
