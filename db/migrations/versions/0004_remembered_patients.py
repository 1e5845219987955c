"""remembered patients

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 21:48:51.578914
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_account_patients_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_patients")),
        sa.UniqueConstraint(
            "telegram_user_id", "patient_id", name=op.f("uq_account_patients_telegram_user_id")
        ),
    )
    with op.batch_alter_table("account_patients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_patients_telegram_user_id"), ["telegram_user_id"], unique=False
        )

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("revision")

    with op.batch_alter_table("account_patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_patients_telegram_user_id"))

    op.drop_table("account_patients")
