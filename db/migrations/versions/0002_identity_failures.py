"""identity failures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:09:22.571631
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_failures")),
    )
    with op.batch_alter_table("identity_failures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_failures_user_time", ["telegram_user_id", "failed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_failures_user_time")

    op.drop_table("identity_failures")
