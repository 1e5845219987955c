"""Messages the bot owes, written with the change that owes them, and the updates handled.

The outbox makes "the patient is told" part of the change: a booking and its confirmation
with the ticket commit together or not at all, and whatever a crash interrupted is sent by
the next process (bot/delivery/outbox.py). `handled_updates` lets a redelivered update
(a webhook retry, a poll after a crash) be recognised and not applied twice.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, _text_enum


class OutboxState(enum.StrEnum):
    PENDING = "pending"  # owed; sent by whoever claims it first once `not_before` passed
    SENDING = "sending"  # claimed: its request to Telegram may have started
    SENT = "sent"
    FAILED = "failed"  # can never be sent (chat blocked the bot, message refused); see error


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "not_before"),
        Index("ix_outbox_booking", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # What the message is about: it is rendered from the booking as it is at sending time.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # booked, ticket, calendar, notice
    # What the kind needs besides the booking (a notice's kind and reason, offered slots, the
    # message to edit); never an identity value.
    payload: Mapped[dict[str, Any]]
    # To the chat whose update owed it: no pacing (it is a reply), «В начало» under a ticket.
    direct: Mapped[bool] = mapped_column(default=False)
    state: Mapped[OutboxState] = mapped_column(_text_enum(OutboxState), default=OutboxState.PENDING)
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    # The instance sending it (db/models/instances.py), while `sending`.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    # Taken back from a process that died while sending it: Telegram may have it already.
    resent: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class HandledUpdate(Base):
    """An update whose effects are committed; recorded in the transaction of its change."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime]
