"""Outbox, inbox, audit log; the service catalogue (seeded) and e-applications.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.infra_tables import create_infrastructure_tables, drop_infrastructure_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# (code, name, entry, category). IN-8: elderly care (SoL), the ten services of
# LSS 9 §, and the portal's other e-services (entry "ifo": not applied for here).
CATALOGUE = [
    ("sarskilt_boende", "Särskilt boende", "sol", "Ansökan om särskilt boende"),
    ("hemtjanst", "Hemtjänst", "sol", "Hemtjänst insatser"),
    ("trygghetslarm", "Trygghetslarm", "sol", "Trygghetslarm"),
    ("korttidsvistelse_sol", "Korttidsvistelse", "sol", "Korttidsvistelse"),
    ("dagverksamhet_sol", "Dagverksamhet", "sol", "Dagverksamhet"),
    ("lss_radgivning", "Rådgivning och annat personligt stöd", "lss", "LSS rådgivning och stöd"),
    ("lss_personlig_assistans", "Personlig assistans", "lss", "Personlig assistans"),
    ("lss_ledsagarservice", "Ledsagarservice", "lss", "Ledsagarservice"),
    ("lss_kontaktperson", "Biträde av kontaktperson", "lss", "Kontaktperson"),
    ("lss_avlosarservice", "Avlösarservice i hemmet", "lss", "Avlösarservice"),
    ("lss_korttidsvistelse", "Korttidsvistelse utanför det egna hemmet", "lss", "Korttidsvistelse LSS"),
    ("lss_korttidstillsyn", "Korttidstillsyn för skolungdom över 12 år", "lss", "Korttidstillsyn"),
    (
        "lss_bostad_barn",
        "Boende i familjehem eller bostad med särskild service för barn eller ungdomar",
        "lss",
        "Bostad med särskild service för barn",
    ),
    (
        "lss_bostad_vuxen",
        "Bostad med särskild service för vuxna",
        "lss",
        "Bostad med särskild service för vuxen",
    ),
    ("lss_daglig_verksamhet", "Daglig verksamhet", "lss", "Daglig verksamhet"),
    ("meddelande_ifo", "Meddelande IFO", "ifo", "Meddelande"),
    ("ekonomiskt_bistand", "Ekonomiskt bistånd", "ifo", "Ekonomiskt bistånd"),
    ("digital_inkomstblankett", "Digital inkomstblankett", "ifo", "Ekonomiskt bistånd"),
]


def upgrade() -> None:
    create_infrastructure_tables()
    catalogue = op.create_table(
        "catalogue_services",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("entry", sa.String(8), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False),
        sa.CheckConstraint("entry IN ('sol', 'lss', 'ifo')", name="entry"),
    )
    op.bulk_insert(
        catalogue,
        [
            {"code": c, "name": n, "entry": e, "category": k, "sort_order": i}
            for i, (c, n, e, k) in enumerate(CATALOGUE)
        ],
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("applicant_pnr", sa.String(12), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("entry", sa.String(8), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("entry IN ('sol', 'lss')", name="entry"),
        sa.CheckConstraint("length(btrim(description)) > 0", name="description_not_blank"),
    )
    op.create_index("ix_applications_applicant_pnr", "applications", ["applicant_pnr"])
    op.create_table(
        "application_services",
        sa.Column("application_id", sa.Uuid, sa.ForeignKey("applications.id"), primary_key=True),
        sa.Column("service_code", sa.String(64), sa.ForeignKey("catalogue_services.code"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("application_services")
    op.drop_table("applications")
    op.drop_table("catalogue_services")
    drop_infrastructure_tables()
