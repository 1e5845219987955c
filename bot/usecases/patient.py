"""What a patient does to a booking from the chat: book, confirm, cancel, move, and take an
alternative the registry offered. Each call is one transaction (see transaction.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import WaitlistSettings
from bot.services import catalog, waitlist
from bot.services.audit import Actor
from bot.services.booking import changeable_booking, slot_taken
from bot.services.booking_changes import (
    add_booking,
    apply_cancel,
    apply_confirm,
    apply_move,
    mark_rebooked,
    offered_booking,
)
from bot.services.districts import district_refusal
from bot.services.visits import VisitRecord
from bot.usecases.outcomes import (
    Account,
    BookedOwed,
    BookOutcome,
    CalendarOwed,
    Changed,
    NoticeKind,
    NoticeOwed,
    Outcome,
    Owed,
    Rules,
    SlotTaken,
    TicketOwed,
)
from bot.usecases.transaction import Conflict, commit_change
from db.models import Booking

logger = logging.getLogger(__name__)
# When the caller does not pass the configured hold (waitlist.hold_minutes).
DEFAULT_HOLD = WaitlistSettings().hold
# Ticket numbers are random: a clash with an existing one is drawn again, a few times.
TICKET_ATTEMPTS = 5


def _tell_booker(visit: VisitRecord, account: Account, kind: NoticeKind) -> list[Owed]:
    """The chat that booked hears of a change another account (remembering the patient)
    made; the acting chat sees it on its screen."""
    chat = visit.telegram_chat_id
    if chat is None or chat == account.chat_id:
        return []
    return [NoticeOwed(chat_id=chat, booking_id=visit.booking_id, kind=kind)]


async def _insert(
    session: AsyncSession,
    change: Callable[[], Awaitable[int]],
    *,
    slot_id: int,
    account: Account,
    now: datetime,
    also: Callable[[], Sequence[Owed]] = tuple,
) -> Outcome:
    """Commit a new booking with its confirmation and ticket owed to the acting chat (and
    what `also` gives after the change: waitlist offers it passed on), drawing the ticket
    number again on the rare clash."""

    def owes(visit: VisitRecord) -> list[Owed]:
        chat = account.chat_id
        return [
            BookedOwed(chat, visit.booking_id, account.screen),
            TicketOwed(chat, visit.booking_id),
            *also(),
        ]

    for _ in range(TICKET_ATTEMPTS):
        result = await commit_change(
            session, change, owes=owes, acting_chat=account.chat_id, now=now
        )
        if not isinstance(result, Conflict):
            return result
        if await slot_taken(session, slot_id=slot_id):
            return SlotTaken()
    raise RuntimeError("could not allocate a unique ticket number")


async def _own(
    session: AsyncSession,
    booking_id: int,
    slot_id: int,
    account: Account,
    now: datetime,
    cutoff: timedelta = timedelta(0),
) -> Booking:
    """The account's own upcoming booking, still at `slot_id`, locked for the change; within
    `cutoff` of the visit (a move's) it is refused as too late."""
    return await changeable_booking(
        session,
        booking_id=booking_id,
        slot_id=slot_id,
        telegram_user_id=account.user_id,
        now=now,
        cutoff=cutoff,
    )


async def book(
    session: AsyncSession,
    *,
    slot_id: int,
    service_id: int,
    patient_id: int,
    account: Account,
    now: datetime,
    rules: Rules,
) -> BookOutcome:
    """A new booking for an identified (or remembered) patient; the ticket is owed. A district
    service is refused, before anything is written, to a patient of another district or not
    attached to its organization (bot/services/districts.py)."""
    service = await catalog.get_service(session, service_id)
    if service is not None and service.by_district:
        refusal = await district_refusal(
            session, service_id=service_id, slot_id=slot_id, patient_id=patient_id
        )
        if refusal is not None:
            logger.info("booking refused for the district, telegram user %s", account.user_id)
            return refusal

    offers: list[Owed] = []

    async def change() -> int:
        booking = await add_booking(
            session,
            slot_id=slot_id,
            service_id=service_id,
            patient_id=patient_id,
            telegram_user_id=account.user_id,
            telegram_chat_id=account.chat_id,
            now=now,
            reminders=rules.reminders,
            limits=rules.limits,
            actor=Actor.patient(account.user_id),
        )
        # Booked: the account's waits for this service end (an offer of this slot is taken).
        offers[:] = await waitlist.close_for_booking(
            session,
            user_id=account.user_id,
            service_id=service_id,
            slot_id=slot_id,
            now=now,
            hold=rules.hold,
        )
        return booking.id

    result = await _insert(
        session, change, slot_id=slot_id, account=account, now=now, also=lambda: offers
    )
    if isinstance(result, Changed):
        booking = result.visit.booking_id
        logger.info("booking %s made for telegram user %s", booking, account.user_id)
    return result


async def confirm(
    session: AsyncSession, *, booking_id: int, slot_id: int, account: Account, now: datetime
) -> Outcome:
    """«Подтверждаю» on a reminder: recorded once; confirming again changes nothing."""

    async def change() -> int:
        booking = await _own(session, booking_id, slot_id, account, now)
        await apply_confirm(session, booking=booking, telegram_user_id=account.user_id, now=now)
        return booking.id

    result = await commit_change(session, change, acting_chat=account.chat_id, now=now)
    if isinstance(result, Conflict):
        raise AssertionError("a confirmation inserts no unique row")
    return result


async def cancel(
    session: AsyncSession,
    *,
    booking_id: int,
    slot_id: int,
    account: Account,
    now: datetime,
    hold: timedelta = DEFAULT_HOLD,
) -> Outcome:
    """Cancelled, the slot free at once (offered to the first on the waitlist, held for them
    for `hold`); the calendar's cancellation is owed to the chat.

    Possible until the visit starts: the cut-off stops moves only, since a cancel frees the
    time for someone else and the patient need not call the registry to say they won't come.
    """
    offers: list[Owed] = []

    async def change() -> int:
        booking = await _own(session, booking_id, slot_id, account, now)
        actor = Actor.patient(account.user_id)
        await apply_cancel(session, booking=booking, actor=actor, reason=None, now=now)
        offers[:] = await waitlist.offer_freed(
            session, slot_ids=[booking.slot_id], now=now, hold=hold
        )
        return booking.id

    def owes(visit: VisitRecord) -> list[Owed]:
        owed: list[Owed] = [CalendarOwed(account.chat_id, visit.booking_id, cancelled=True)]
        return owed + _tell_booker(visit, account, NoticeKind.CANCELLED_BY_OTHER) + offers

    result = await commit_change(session, change, owes=owes, acting_chat=account.chat_id, now=now)
    if isinstance(result, Conflict):
        raise AssertionError("a cancellation inserts no unique row")
    if isinstance(result, Changed):
        logger.info("booking %s cancelled by telegram user %s", booking_id, account.user_id)
    return result


async def move(
    session: AsyncSession,
    *,
    booking_id: int,
    slot_id: int,
    new_slot_id: int,
    account: Account,
    now: datetime,
    rules: Rules,
) -> Outcome:
    """One transaction: the old time is released only if the new one is taken. A new
    calendar event and ticket are owed."""

    offers: list[Owed] = []

    async def change() -> int:
        booking = await _own(session, booking_id, slot_id, account, now, rules.cutoff)
        old_slot = booking.slot_id
        await apply_move(
            session,
            booking=booking,
            new_slot_id=new_slot_id,
            now=now,
            reminders=rules.reminders,
            limits=rules.limits,
            actor=Actor.patient(account.user_id),
        )
        # The time left behind goes to the first on the waitlist.
        offers[:] = await waitlist.offer_freed(
            session, slot_ids=[old_slot], now=now, hold=rules.hold
        )
        return booking.id

    def owes(visit: VisitRecord) -> list[Owed]:
        chat, booking = account.chat_id, visit.booking_id
        owed: list[Owed] = [CalendarOwed(chat, booking), TicketOwed(chat, booking)]
        return owed + _tell_booker(visit, account, NoticeKind.MOVED_BY_OTHER) + offers

    result = await commit_change(session, change, owes=owes, acting_chat=account.chat_id, now=now)
    if isinstance(result, Conflict):
        return SlotTaken()
    if isinstance(result, Changed):
        logger.info("booking %s moved by telegram user %s", booking_id, account.user_id)
    return result


async def book_offered(
    session: AsyncSession,
    *,
    cancelled_booking_id: int,
    slot_id: int,
    account: Account,
    now: datetime,
    rules: Rules,
) -> Outcome:
    """One press on a free time the registry offered with its cancellation: the same patient
    and service, used once, by the chat that was told."""

    async def change() -> int:
        old = await offered_booking(
            session,
            cancelled_booking_id=cancelled_booking_id,
            slot_id=slot_id,
            telegram_user_id=account.user_id,
            now=now,
            horizon_days=rules.horizon_days,
        )
        new = await add_booking(
            session,
            slot_id=slot_id,
            service_id=old.service_id,
            patient_id=old.patient_id,
            telegram_user_id=account.user_id,
            telegram_chat_id=old.telegram_chat_id,
            now=now,
            reminders=rules.reminders,
            limits=rules.limits,
            actor=Actor.patient(account.user_id),
        )
        mark_rebooked(session, old=old, new=new, telegram_user_id=account.user_id, now=now)
        return new.id

    return await _insert(session, change, slot_id=slot_id, account=account, now=now)
