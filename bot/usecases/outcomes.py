"""What a use case returns: a change with the messages it owes, or a refusal with its reason."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from bot.services.booking import BookingLimits, ChangeRefusal, LimitReason
from bot.services.reminder_plan import ReminderPolicy
from bot.services.visits import VisitRecord


@dataclass(frozen=True, slots=True)
class Rules:
    """The clinic's rules a change is made under (from the settings)."""

    reminders: ReminderPolicy
    limits: BookingLimits
    # Patients' changes stop this long before the visit (then: call the registry).
    cutoff: timedelta
    horizon_days: int


@dataclass(frozen=True, slots=True)
class Account:
    """Who acts: the Telegram user, and the chat where their replies go."""

    user_id: int
    chat_id: int


# ---- messages owed -------------------------------------------------------------------------


class NoticeKind(enum.StrEnum):
    """A message to a chat other than the one that acted."""

    CANCELLED_BY_OTHER = "cancelled_by_other"  # another account remembering the patient
    MOVED_BY_OTHER = "moved_by_other"
    CANCELLED_BY_REGISTRY = "cancelled_by_registry"
    MOVED_BY_REGISTRY = "moved_by_registry"
    # A closed day or time range: with the nearest free times that book in one press.
    CLOSED_BY_REGISTRY = "closed_by_registry"


@dataclass(frozen=True, slots=True)
class TicketOwed:
    """The PDF ticket, rendered from the booking when it is sent."""

    chat_id: int
    booking_id: int


@dataclass(frozen=True, slots=True)
class CalendarOwed:
    """The .ics event, or its cancellation."""

    chat_id: int
    booking_id: int
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class NoticeOwed:
    chat_id: int
    booking_id: int
    kind: NoticeKind
    reason: str | None = None
    # Free times offered with a registry cancellation: (slot id, …).
    alternatives: tuple[int, ...] = ()


Owed = TicketOwed | CalendarOwed | NoticeOwed


# ---- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Changed:
    """Done and committed: the visit as it is now, and what is owed to whom, in order."""

    visit: VisitRecord
    owed: tuple[Owed, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Refused:
    """Not this account's to change, or not any more; `phone` where the registry must help."""

    reason: ChangeRefusal
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class OverLimit:
    """A per-patient limit: `detail` is the doctor's name or the limit's number."""

    reason: LimitReason
    detail: str


@dataclass(frozen=True, slots=True)
class SlotTaken:
    """The time was taken (or closed) meanwhile; nothing changed."""


@dataclass(frozen=True, slots=True)
class Closed:
    """A doctor's time closed: how many bookings it cancelled, and the notices owed."""

    cancelled: int
    owed: tuple[Owed, ...] = field(default=())


Outcome = Changed | Refused | OverLimit | SlotTaken
