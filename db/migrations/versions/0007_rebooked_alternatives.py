"""rebooked alternatives

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 22:19:44.496436
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rebooked_as_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_rebooked_as_id_bookings"),
            "bookings",
            ["rebooked_as_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_bookings_rebooked_as_id_bookings"), type_="foreignkey"
        )
        batch_op.drop_column("rebooked_as_id")
