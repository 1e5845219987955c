"""The waitlist: who waits for which doctor's time, and who is offered a freed slot.

When a slot is freed (a cancellation, a move, a reopened closure, an offer that ran out or
was declined), `offer_freed` gives it to the first entry in line that it suits, holding it
for that account for `hold`: nobody else can book it until then (the hold is part of the
slot's "taken" test everywhere: `held_now` below, used by booking.py and the grids). All of
it happens in the caller's transaction, with the offer's message owed in the same commit, so
a crash loses neither the hold nor the message. `expire` (a periodic job, and at start) ends
the holds that ran out and passes their slots on, and the entries whose horizon has passed.

Every function adds and flushes in the caller's transaction and never commits.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.outbox import OfferOwed
from db.models import (
    Booking,
    BookingStatus,
    Doctor,
    OfferState,
    Organization,
    Service,
    Slot,
    SlotOffer,
    WaitlistEntry,
    WaitlistState,
    doctor_services,
    short_name,
)

__all__ = [
    "EntryView",
    "JoinRefusal",
    "OfferRefusal",
    "OfferView",
    "close_for_booking",
    "decline",
    "entries_of",
    "expire",
    "held_now",
    "join",
    "leave",
    "offer_freed",
    "offer_to_take",
]


def held_now(slot_id: Any, *, now: Any, except_user: Any = None) -> ColumnElement[bool]:
    """SQL: the slot is held for an account (other than `except_user`) at `now`. Its columns
    and parameters are the caller's, so one compiled statement serves every call."""
    condition = and_(
        SlotOffer.slot_id == slot_id,
        SlotOffer.state == OfferState.HELD,
        SlotOffer.held_until > now,
    )
    if except_user is not None:
        condition = and_(condition, SlotOffer.telegram_user_id != except_user)
    return exists().where(condition)


class JoinRefusal(enum.StrEnum):
    ALREADY = "already"  # the same wait exists
    TOO_MANY = "too_many"  # the account's limit of entries


async def join(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    service_id: int,
    doctor_id: int,
    any_doctor: bool,
    day: date | None,
    expires_at: datetime,
    max_entries: int,
    now: datetime,
) -> WaitlistEntry | JoinRefusal:
    """A new entry at the end of the line, or why not."""
    waiting = (
        await session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.telegram_user_id == user_id,
                WaitlistEntry.state == WaitlistState.WAITING,
                WaitlistEntry.expires_at > now,
            )
        )
    ).all()
    for entry in waiting:
        if (entry.service_id, entry.doctor_id, entry.day) == (service_id, doctor_id, day):
            if any_doctor and not entry.any_doctor:
                entry.any_doctor = True  # widened, keeping its place in line
                await session.flush()
            return JoinRefusal.ALREADY
    if len(waiting) >= max_entries:
        return JoinRefusal.TOO_MANY
    entry = WaitlistEntry(
        telegram_user_id=user_id,
        chat_id=chat_id,
        service_id=service_id,
        doctor_id=doctor_id,
        any_doctor=any_doctor,
        day=day,
        state=WaitlistState.WAITING,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class _FreedSlot:
    id: int
    doctor_id: int
    starts_at: datetime
    timezone: str


async def _free_slot(session: AsyncSession, *, slot_id: int, now: datetime) -> _FreedSlot | None:
    """The slot if it is open, ahead, not booked and not held: only then can it be offered."""
    row = (
        await session.execute(
            select(Slot.id, Slot.doctor_id, Slot.starts_at, Organization.timezone)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(Organization, Organization.id == Doctor.organization_id)
            .where(
                Slot.id == slot_id,
                Slot.is_open.is_(True),
                Slot.starts_at > now,
                ~exists().where(Booking.slot_id == Slot.id, Booking.status == BookingStatus.ACTIVE),
                ~held_now(Slot.id, now=now),
            )
        )
    ).first()
    return _FreedSlot(*row) if row is not None else None


async def offer_freed(
    session: AsyncSession, *, slot_ids: Sequence[int], now: datetime, hold: timedelta
) -> list[OfferOwed]:
    """Offer each freed slot to the first entry in line it suits; the messages owed.

    An entry suits a slot when it waits for that doctor (or any doctor of a service the
    slot's doctor provides), on that local day or any day, has no offer held already, was not
    offered this slot before, and has not expired. A slot starting within `hold` is not
    offered: the holder could not use it in time.
    """
    owed: list[OfferOwed] = []
    for slot_id in slot_ids:
        slot = await _free_slot(session, slot_id=slot_id, now=now)
        if slot is None or slot.starts_at <= now + hold:
            continue
        entry = await _first_in_line(session, slot=slot, now=now)
        if entry is None:
            continue
        offer = SlotOffer(
            entry_id=entry.id,
            slot_id=slot.id,
            telegram_user_id=entry.telegram_user_id,
            state=OfferState.HELD,
            offered_at=now,
            held_until=now + hold,
        )
        session.add(offer)
        await session.flush()
        owed.append(OfferOwed(chat_id=entry.chat_id, offer_id=offer.id))
    return owed


async def _first_in_line(
    session: AsyncSession, *, slot: _FreedSlot, now: datetime
) -> WaitlistEntry | None:
    provides = exists().where(
        doctor_services.c.doctor_id == slot.doctor_id,
        doctor_services.c.service_id == WaitlistEntry.service_id,
    )
    holding = exists().where(
        SlotOffer.entry_id == WaitlistEntry.id,
        SlotOffer.state == OfferState.HELD,
        SlotOffer.held_until > now,
    )
    offered_before = exists().where(
        SlotOffer.entry_id == WaitlistEntry.id, SlotOffer.slot_id == slot.id
    )
    local_day = slot.starts_at.astimezone(ZoneInfo(slot.timezone)).date()
    candidates = await session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.state == WaitlistState.WAITING,
            WaitlistEntry.expires_at > now,
            (WaitlistEntry.doctor_id == slot.doctor_id) | WaitlistEntry.any_doctor.is_(True),
            provides,
            ~holding,
            ~offered_before,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    # The day is compared in Python: the organization's local date of the slot.
    return next((e for e in candidates if e.day is None or e.day == local_day), None)


class OfferRefusal(enum.StrEnum):
    NOT_YOURS = "not_yours"  # another account's offer
    EXPIRED = "expired"  # the hold ran out (the slot may be someone else's now)
    GONE = "gone"  # declined, taken, or the slot closed


@dataclass(frozen=True, slots=True)
class OfferView:
    offer_id: int
    entry_id: int
    slot_id: int
    service_id: int
    doctor_id: int
    starts_at: datetime
    held_until: datetime


async def offer_to_take(
    session: AsyncSession, *, offer_id: int, user_id: int, now: datetime
) -> OfferView | OfferRefusal:
    """The offer the account may book now, or why not."""
    row = (
        await session.execute(
            select(SlotOffer, WaitlistEntry.service_id, Slot.doctor_id, Slot.starts_at)
            .join(WaitlistEntry, WaitlistEntry.id == SlotOffer.entry_id)
            .join(Slot, Slot.id == SlotOffer.slot_id)
            .where(SlotOffer.id == offer_id)
        )
    ).first()
    if row is None:
        return OfferRefusal.GONE
    offer, service_id, doctor_id, starts_at = row
    if offer.telegram_user_id != user_id:
        return OfferRefusal.NOT_YOURS
    if offer.state is OfferState.MISSED or (
        offer.state is OfferState.HELD and offer.held_until <= now
    ):
        return OfferRefusal.EXPIRED
    if offer.state is not OfferState.HELD:
        return OfferRefusal.GONE
    return OfferView(
        offer_id=offer.id,
        entry_id=offer.entry_id,
        slot_id=offer.slot_id,
        service_id=service_id,
        doctor_id=doctor_id,
        starts_at=starts_at,
        held_until=offer.held_until,
    )


async def _end_offers(
    session: AsyncSession, offers: Sequence[SlotOffer], *, state: OfferState, now: datetime
) -> list[int]:
    for offer in offers:
        offer.state = state
        offer.ended_at = now
    await session.flush()
    return [offer.slot_id for offer in offers]


async def decline(
    session: AsyncSession, *, offer_id: int, user_id: int, now: datetime, hold: timedelta
) -> list[OfferOwed] | None:
    """«Не подходит»: the slot goes to the next in line; the entry keeps waiting. None if
    the offer is not this account's held one."""
    offer = await session.scalar(
        select(SlotOffer).where(
            SlotOffer.id == offer_id,
            SlotOffer.telegram_user_id == user_id,
            SlotOffer.state == OfferState.HELD,
        )
    )
    if offer is None:
        return None
    slots = await _end_offers(session, [offer], state=OfferState.DECLINED, now=now)
    return await offer_freed(session, slot_ids=slots, now=now, hold=hold)


async def leave(
    session: AsyncSession, *, entry_id: int, user_id: int, now: datetime, hold: timedelta
) -> list[OfferOwed] | None:
    """«Отказаться»: the entry ends; a slot it held goes to the next in line. None if it is
    not this account's waiting entry."""
    entry = await session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.id == entry_id,
            WaitlistEntry.telegram_user_id == user_id,
            WaitlistEntry.state == WaitlistState.WAITING,
        )
    )
    if entry is None:
        return None
    entry.state, entry.ended_at = WaitlistState.LEFT, now
    held = await _held_offers(session, entry_ids=[entry.id])
    slots = await _end_offers(session, held, state=OfferState.GONE, now=now)
    return await offer_freed(session, slot_ids=slots, now=now, hold=hold)


async def _held_offers(session: AsyncSession, *, entry_ids: Sequence[int]) -> list[SlotOffer]:
    if not entry_ids:
        return []
    found = await session.scalars(
        select(SlotOffer).where(
            SlotOffer.entry_id.in_(entry_ids), SlotOffer.state == OfferState.HELD
        )
    )
    return list(found)


async def close_for_booking(
    session: AsyncSession,
    *,
    user_id: int,
    service_id: int,
    slot_id: int,
    now: datetime,
    hold: timedelta,
) -> list[OfferOwed]:
    """The account booked this service: its entries for it end (booked); the offer of this
    very slot is taken, and any other slot they held goes to the next in line."""
    entries = (
        await session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.telegram_user_id == user_id,
                WaitlistEntry.state == WaitlistState.WAITING,
                WaitlistEntry.service_id == service_id,
                (WaitlistEntry.doctor_id == _doctor_of(slot_id))
                | WaitlistEntry.any_doctor.is_(True),
            )
        )
    ).all()
    if not entries:
        return []
    for entry in entries:
        entry.state, entry.ended_at = WaitlistState.BOOKED, now
    held = await _held_offers(session, entry_ids=[entry.id for entry in entries])
    await _end_offers(
        session, [o for o in held if o.slot_id == slot_id], state=OfferState.TAKEN, now=now
    )
    others = [o for o in held if o.slot_id != slot_id]
    slots = await _end_offers(session, others, state=OfferState.GONE, now=now)
    return await offer_freed(session, slot_ids=slots, now=now, hold=hold)


def _doctor_of(slot_id: int) -> Any:
    return select(Slot.doctor_id).where(Slot.id == slot_id).scalar_subquery()


async def expire(session: AsyncSession, *, now: datetime, hold: timedelta) -> list[OfferOwed]:
    """Holds that ran out pass their slots to the next in line; entries past their horizon
    end. The messages owed to the next ones."""
    ran_out = (
        await session.scalars(
            select(SlotOffer).where(SlotOffer.state == OfferState.HELD, SlotOffer.held_until <= now)
        )
    ).all()
    slots = await _end_offers(session, ran_out, state=OfferState.MISSED, now=now)
    await session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.state == WaitlistState.WAITING, WaitlistEntry.expires_at <= now)
        .values(state=WaitlistState.EXPIRED, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return await offer_freed(session, slot_ids=slots, now=now, hold=hold)


@dataclass(frozen=True, slots=True)
class EntryView:
    entry_id: int
    service_name: str
    doctor_name: str
    any_doctor: bool
    day: date | None
    # The slot held for the account now, if any (its offer and time).
    offer_id: int | None
    held_starts_at: datetime | None
    timezone: str


async def entries_of(session: AsyncSession, *, user_id: int, now: datetime) -> list[EntryView]:
    """The account's waiting entries, oldest first, with the offer each holds now."""
    rows = await session.execute(
        select(
            WaitlistEntry.id,
            Service.name,
            Doctor.last_name,
            Doctor.first_name,
            Doctor.middle_name,
            WaitlistEntry.any_doctor,
            WaitlistEntry.day,
            Organization.timezone,
        )
        .join(Service, Service.id == WaitlistEntry.service_id)
        .join(Doctor, Doctor.id == WaitlistEntry.doctor_id)
        .join(Organization, Organization.id == Service.organization_id)
        .where(
            WaitlistEntry.telegram_user_id == user_id,
            WaitlistEntry.state == WaitlistState.WAITING,
            WaitlistEntry.expires_at > now,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    entries = rows.all()
    held = {
        offer.entry_id: offer
        for offer in await _held_offers(session, entry_ids=[row[0] for row in entries])
        if offer.held_until > now
    }
    starts: dict[int, datetime] = {}
    if held:
        found = await session.execute(
            select(Slot.id, Slot.starts_at).where(
                Slot.id.in_([offer.slot_id for offer in held.values()])
            )
        )
        starts = {row.id: row.starts_at for row in found}
    return [
        EntryView(
            entry_id=entry_id,
            service_name=service,
            doctor_name=short_name(last, first, middle),
            any_doctor=any_doctor,
            day=day,
            offer_id=held[entry_id].id if entry_id in held else None,
            held_starts_at=starts.get(held[entry_id].slot_id) if entry_id in held else None,
            timezone=tz,
        )
        for entry_id, service, last, first, middle, any_doctor, day, tz in entries
    ]


async def waiting_counts(session: AsyncSession, *, now: datetime) -> dict[int, int]:
    """How many accounts wait per service (staff's /waiting)."""
    rows = await session.execute(
        select(WaitlistEntry.service_id, func.count())
        .where(WaitlistEntry.state == WaitlistState.WAITING, WaitlistEntry.expires_at > now)
        .group_by(WaitlistEntry.service_id)
    )
    return {row[0]: int(row[1]) for row in rows}
