"""the waitlist with held offers, and the waiting-time guarantee

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_wait_hours", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_wait_working_days", sa.Integer(), nullable=True))
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("any_doctor", sa.Boolean(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "waiting",
                "booked",
                "left",
                "expired",
                name="waitliststate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_waitlist_entries_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_waitlist_entries_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        "ix_waitlist_entries_account", "waitlist_entries", ["telegram_user_id", "state"]
    )
    op.create_index(
        "ix_waitlist_entries_service_state",
        "waitlist_entries",
        ["service_id", "state", "created_at"],
    )
    op.create_table(
        "slot_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "held",
                "taken",
                "missed",
                "declined",
                "gone",
                name="offerstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entries.id"],
            name=op.f("fk_slot_offers_entry_id_waitlist_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_slot_offers_slot_id_slots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_offers")),
        sa.UniqueConstraint("entry_id", "slot_id", name=op.f("uq_slot_offers_entry_id")),
    )
    op.create_index("ix_slot_offers_slot_state", "slot_offers", ["slot_id", "state", "held_until"])
    op.create_index("ix_slot_offers_state_until", "slot_offers", ["state", "held_until"])
    op.create_table(
        "wait_breaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_free_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("limit_text", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_wait_breaches_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wait_breaches")),
        sa.UniqueConstraint(
            "telegram_user_id", "service_id", "day", name=op.f("uq_wait_breaches_telegram_user_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("wait_breaches")
    op.drop_index("ix_slot_offers_state_until", table_name="slot_offers")
    op.drop_index("ix_slot_offers_slot_state", table_name="slot_offers")
    op.drop_table("slot_offers")
    op.drop_index("ix_waitlist_entries_service_state", table_name="waitlist_entries")
    op.drop_index("ix_waitlist_entries_account", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("max_wait_working_days")
        batch_op.drop_column("max_wait_hours")
