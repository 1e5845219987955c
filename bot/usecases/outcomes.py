"""What a use case returns: a change with the messages it owes, or a refusal with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.services.booking import BookingLimits, ChangeRefusal, LimitReason

# A district service refused for the patient's attachment: defined with the rule.
from bot.services.districts import DistrictRefusal as DistrictRefusal

# The messages a change owes are defined with the outbox that stores them.
from bot.services.outbox import BookedOwed as BookedOwed
from bot.services.outbox import CalendarOwed as CalendarOwed
from bot.services.outbox import NoticeKind as NoticeKind
from bot.services.outbox import NoticeOwed as NoticeOwed
from bot.services.outbox import Owed as Owed
from bot.services.outbox import TicketOwed as TicketOwed
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
    # How long a freed time offered from the waitlist is held for the first in line.
    hold: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Account:
    """Who acts: the Telegram user, and the chat where their replies go."""

    user_id: int
    chat_id: int
    # The message the person pressed, which the confirmation of a booking replaces.
    screen: int | None = None


# ---- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Changed:
    """Done and committed: the visit as it is now, and what is owed to whom, in order."""

    visit: VisitRecord
    owed: tuple[Owed, ...] = field(default=())
    # Their outbox rows, committed with the change; the update sends them after its commit.
    queued: tuple[int, ...] = field(default=())


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
    queued: tuple[int, ...] = field(default=())


Outcome = Changed | Refused | OverLimit | SlotTaken
# Only a new booking can be refused for the district (a move keeps the doctor's service and
# the registry moves anyone).
BookOutcome = Outcome | DistrictRefusal
