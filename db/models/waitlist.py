"""The waitlist: accounts waiting for a doctor's time, the offers of freed slots with their
holds, and the cases where the state's guarantee on waiting times was not met."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, _text_enum


class WaitlistState(enum.StrEnum):
    WAITING = "waiting"  # in line (possibly holding an offer: see SlotOffer)
    BOOKED = "booked"  # the account booked this service (an offer or any other way)
    LEFT = "left"  # «Отказаться»: the account left the line
    EXPIRED = "expired"  # the horizon it waited within has passed


class WaitlistEntry(Base):
    """An account waiting for a time of a doctor (or any doctor of the service), on a day or
    anywhere within the horizon. The entry belongs to the account, not a patient: who the
    patient is is asked when the offered time is taken, as in any booking."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        Index("ix_waitlist_entries_service_state", "service_id", "state", "created_at"),
        Index("ix_waitlist_entries_account", "telegram_user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    # Any doctor of the service will do (the patient allowed it).
    any_doctor: Mapped[bool] = mapped_column(default=False)
    # Only this local day; None: any day within the horizon.
    day: Mapped[date | None] = mapped_column(Date)
    state: Mapped[WaitlistState] = mapped_column(
        _text_enum(WaitlistState), default=WaitlistState.WAITING
    )
    created_at: Mapped[datetime]
    # The end of the booking horizon at joining (or the end of the chosen day).
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class OfferState(enum.StrEnum):
    HELD = "held"  # the slot is held for the entry's account until `held_until`
    TAKEN = "taken"  # booked by the holder
    MISSED = "missed"  # the hold ran out: the next in line is offered the slot
    DECLINED = "declined"  # «Не подходит»
    GONE = "gone"  # the slot was closed or the entry ended meanwhile


class SlotOffer(Base):
    """A freed slot offered to the first entry in line, held for it for a while. One row per
    (entry, slot): an entry is never offered the same slot twice."""

    __tablename__ = "slot_offers"
    __table_args__ = (
        UniqueConstraint("entry_id", "slot_id"),
        # The grids and the booking check ask "is this slot held now?" for each slot.
        Index("ix_slot_offers_slot_state", "slot_id", "state", "held_until"),
        Index("ix_slot_offers_state_until", "state", "held_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    # The holder's account: the one allowed to book the slot during the hold.
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[OfferState] = mapped_column(_text_enum(OfferState), default=OfferState.HELD)
    offered_at: Mapped[datetime]
    held_until: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class WaitBreach(Base):
    """A patient found no OMS time of a service within the state's guaranteed waiting time:
    the registry sees these (/waiting) to open extra time. One row per account, service and
    local day, however often the screen was shown."""

    __tablename__ = "wait_breaches"
    __table_args__ = (UniqueConstraint("telegram_user_id", "service_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    seen_at: Mapped[datetime]
    # The first free time of the service then (None: none within the horizon).
    first_free_at: Mapped[datetime | None]
    # The guarantee as it was, in words for staff («24 ч», «14 рабочих дней»).
    limit_text: Mapped[str] = mapped_column(String(64))
