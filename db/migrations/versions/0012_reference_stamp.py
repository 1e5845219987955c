"""a stamp of the reference data, so running bots know when an import changed it

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    stamp = op.create_table(
        "reference_stamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_reference_stamp_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_stamp")),
    )
    # The one row exists from the start: an import only ever increments it.
    op.bulk_insert(stamp, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("reference_stamp")
