"""consent per organization; identification failures counted per patient

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Consents given so far named no operator («the organization I book with») and covered
    # every organization: they can't be told apart from the new account-level consent (NULL
    # organization), so they go, and each account is asked once more, per organization.
    op.execute(sa.text("DELETE FROM consents"))
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_consents_organization_id_organizations"),
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("identity_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_identity_failures_patient_id_patients"),
            "patients",
            ["patient_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "ix_identity_failures_patient_time", ["patient_id", "failed_at"], unique=False
        )
        batch_op.create_index("ix_identity_failures_time", ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_failures_time")
        batch_op.drop_index("ix_identity_failures_patient_time")
        batch_op.drop_constraint(
            batch_op.f("fk_identity_failures_patient_id_patients"), type_="foreignkey"
        )
        batch_op.drop_column("patient_id")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_consents_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_column("organization_id")
