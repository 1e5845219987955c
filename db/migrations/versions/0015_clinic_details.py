"""the clinic's details: rooms, visit notes, paid and district services, attachment

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visit_notes", sa.String(length=1000), nullable=True))
    # Existing services stay what they were: free under OMS and open to every patient.
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paid", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("price", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("by_district", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("doctors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("room", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("rooms", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("district", sa.String(length=32), nullable=True))
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("district", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_patients_organization_id_organizations"),
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_patients_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_column("district")
        batch_op.drop_column("organization_id")
    with op.batch_alter_table("doctors", schema=None) as batch_op:
        batch_op.drop_column("district")
        batch_op.drop_column("rooms")
        batch_op.drop_column("room")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("by_district")
        batch_op.drop_column("price")
        batch_op.drop_column("paid")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("visit_notes")
