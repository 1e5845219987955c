"""indexes the slot queries need: bookings by slot, a doctor's open slots, a doctor's week

* bookings by slot, whatever their status: slot generation asks which of the slots it would
  remove ever had a booking (those are closed, not deleted), and SQLite looks a deleted slot
  up among the bookings for the foreign key; the unique index of active bookings serves
  neither, so each of them read the whole table;
* a doctor's open slots by time: the day and time grids read them from the index alone;
* a doctor's weekly hours: the day grid reads them, and SQLite checks the foreign key there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_bookings_slot_id", "bookings", ["slot_id"], unique=False)
    op.create_index(
        "ix_slots_doctor_open_start", "slots", ["doctor_id", "is_open", "starts_at"], unique=False
    )
    op.create_index("ix_working_hours_doctor_id", "working_hours", ["doctor_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_working_hours_doctor_id", table_name="working_hours")
    op.drop_index("ix_slots_doctor_open_start", table_name="slots")
    op.drop_index("ix_bookings_slot_id", table_name="bookings")
