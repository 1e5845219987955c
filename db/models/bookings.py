"""Bookings of slots, their reminders and the audit trail of changes to them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, _text_enum
from db.models.catalog import Service, Slot
from db.models.patients import Patient


class BookingStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # The database, not only the code, guarantees one active booking per slot.
        Index(
            "uq_bookings_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_bookings_patient_status", "patient_id", "status"),
        # Every booking a slot ever had, whatever its status: slot generation asks which
        # slots to keep, and SQLite checks the foreign key here when a slot is deleted.
        Index("ix_bookings_slot_id", "slot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(16), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    status: Mapped[BookingStatus] = mapped_column(
        _text_enum(BookingStatus),
        default=BookingStatus.ACTIVE,
    )
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    # «Подтверждаю» pressed on a reminder; staff see it.
    confirmed_at: Mapped[datetime | None]
    # After the registry cancelled this booking: the one the patient took among the offered
    # alternatives (so an offer is taken only once).
    rebooked_as_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    # Bumped on every change (the SEQUENCE of the booking's calendar event). It is also the
    # mapper's version counter: of two changes racing on one booking, the second one's UPDATE
    # finds the row changed and fails instead of overwriting it.
    revision: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    slot: Mapped[Slot] = relationship()
    patient: Mapped[Patient] = relationship()
    service: Mapped[Service] = relationship()
    reminders: Mapped[list[Reminder]] = relationship(
        back_populates="booking", cascade="all, delete-orphan"
    )

    # Declared as SQLAlchemy expects; the declarative base already types it.
    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": revision,
        "version_id_generator": lambda current: 0 if current is None else current + 1,
    }


class ReminderState(enum.StrEnum):
    PLANNED = "planned"
    # Claimed by a dispatcher, waiting for its turn: certainly not sent yet.
    CLAIMED = "claimed"
    # The HTTP request to Telegram has started (committed right before it): after a crash
    # nobody knows whether Telegram delivered it. See bot/services/reminders.py.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; last_error says why
    DROPPED = "dropped"  # could no longer be sent before the visit
    CANCELLED = "cancelled"  # the booking was cancelled or moved


class Reminder(Base):
    """One reminder of one booking, planned when the booking is made or moved."""

    __tablename__ = "reminders"
    __table_args__ = (
        # No uniqueness on (booking, label): a move plans new rows for the same labels, and a
        # move back may land on the same moment; the old rows stay, cancelled, as history.
        Index("ix_reminders_booking", "booking_id"),
        Index("ix_reminders_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    state: Mapped[ReminderState] = mapped_column(
        _text_enum(ReminderState),
        default=ReminderState.PLANNED,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_at: Mapped[datetime | None]
    # The instance holding it (db/models/instances.py), while claimed or sending.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None]

    booking: Mapped[Booking] = relationship(back_populates="reminders")


class AuditEntry(Base):
    """Who did what to a booking, when, from what to what, and why."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_booking", "booking_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(16))  # patient, staff, system
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(500))

    booking: Mapped[Booking | None] = relationship()
