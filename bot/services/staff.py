"""Registry staff: who they are, what they may see, and their searches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import ExecutableOption

from bot.services.booking import cancel_in_closure
from bot.services.slots import generate_slots, local_day_bounds
from db.models import (
    Booking,
    BookingStatus,
    Closure,
    Doctor,
    Organization,
    Patient,
    Service,
    Slot,
    StaffMember,
    StaffRole,
    doctor_services,
)


@dataclass(frozen=True, slots=True)
class StaffAccess:
    telegram_user_id: int
    role: StaffRole
    organization_codes: tuple[str, ...]  # empty: every organization

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.ADMIN

    def may_see(self, organization_code: str) -> bool:
        return not self.organization_codes or organization_code in self.organization_codes


async def access_of(
    session: AsyncSession, *, telegram_user_id: int, admins: Iterable[int]
) -> StaffAccess | None:
    if telegram_user_id in set(admins):
        return StaffAccess(telegram_user_id, StaffRole.ADMIN, ())
    member = await session.get(StaffMember, telegram_user_id)
    if member is None:
        return None
    return StaffAccess(telegram_user_id, member.role, tuple(member.organization_codes or ()))


class StaffError(ValueError):
    """A staff command that cannot be carried out; the message is for the staff member."""


# ---- Arguments of staff commands: pure parsing, easy to move ----------------------------

# Telegram user ids are positive and have at most 52 significant bits (Bot API). Anything else
# is a typo, and a longer number once overflowed the BIGINT column with an OverflowError.
USER_ID_LIMIT: Final = 2**52
_USER_ID: Final = re.compile(r"[0-9]{1,16}")
# A registrar works at one or a few polyclinics; one with no codes sees them all. The bound keeps
# the command and its answer short (800 codes once broke Telegram's message limit).
MAX_ORGANIZATION_CODES: Final = 10
# Unknown codes named back in an error: a few, each cut, whatever was typed.
_CODES_SHOWN: Final = 3
_CODE_SHOWN_LENGTH: Final = 20


def parse_user_id(raw: str) -> int | None:
    """A Telegram user id typed by an admin, or None if no user can have it."""
    if _USER_ID.fullmatch(raw) is None:  # ASCII only: int() would take "²" or "٧" otherwise
        return None
    value = int(raw)
    return value if 0 < value < USER_ID_LIMIT else None


def _few_codes(codes: Sequence[str]) -> str:
    shown = [
        code if len(code) <= _CODE_SHOWN_LENGTH else f"{code[:_CODE_SHOWN_LENGTH]}…"
        for code in codes[:_CODES_SHOWN]
    ]
    return ", ".join(shown) + (" и другие" if len(codes) > _CODES_SHOWN else "")


class DateProblem(Enum):
    FORMAT = "format"
    NO_SUCH_DATE = "no_such_date"  # 31.02.2026
    OUT_OF_RANGE = "out_of_range"  # 31.12.9999: a real date, but not one a command acts on


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The dates a command accepts, both ends included."""

    earliest: date
    latest: date

    @classmethod
    def around(cls, today: date, *, years_back: int, years_ahead: int) -> DateWindow:
        return cls(_years_from(today, -years_back), _years_from(today, years_ahead))


@dataclass(frozen=True, slots=True)
class BadDate:
    problem: DateProblem
    # The argument as typed, kept only once it has a date's shape: at most ten digits and dots,
    # so it can be named back without making the answer long.
    typed: str = ""


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February of a leap year: the last day of February instead
        return day.replace(year=day.year + years, day=28)


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(month: int, day: int, *, today: date) -> date | None:
    # Five years: 29 February comes back within four, and is then judged by the window.
    for year in range(today.year, today.year + 5):
        found = _date_or_none(year, month, day)
        if found is not None and found >= today:
            return found
    return None


_DAY_ARGUMENT: Final = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})(?:\.([0-9]{4}))?")


def parse_day_argument(raw: str, *, today: date, window: DateWindow) -> date | BadDate:
    """ДД.ММ.ГГГГ, or ДД.ММ meaning its next occurrence from today, within the window.

    Range-checked here, before any arithmetic: 31.12.9999 plus a day, or 01.01.0001 in UTC,
    raised OverflowError deep in the handlers.
    """
    match = _DAY_ARGUMENT.fullmatch(raw)
    if match is None:
        return BadDate(DateProblem.FORMAT)
    day, month = int(match[1]), int(match[2])
    if match[3] is not None:
        found = _date_or_none(int(match[3]), month, day)
    else:
        found = _next_occurrence(month, day, today=today)
    if found is None:
        return BadDate(DateProblem.NO_SUCH_DATE, raw)
    if not window.earliest <= found <= window.latest:
        return BadDate(DateProblem.OUT_OF_RANGE, raw)
    return found


async def add_member(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    organization_codes: Sequence[str],
    added_by: int,
    now: datetime,
) -> StaffMember:
    known = set(await session.scalars(select(Organization.code)))
    unknown = [code for code in organization_codes if code not in known]
    if unknown:
        raise StaffError(f"нет организаций с кодами: {_few_codes(unknown)}")
    member = await session.get(StaffMember, telegram_user_id)
    if member is None:
        member = StaffMember(telegram_user_id=telegram_user_id, role=StaffRole.REGISTRAR)
        session.add(member)
    member.organization_codes = list(organization_codes)
    member.added_by = added_by
    member.added_at = now
    await session.commit()
    return member


async def remove_member(session: AsyncSession, *, telegram_user_id: int) -> bool:
    result = await session.execute(
        delete(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)
    )
    await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def members(session: AsyncSession) -> Sequence[StaffMember]:
    return (await session.scalars(select(StaffMember).order_by(StaffMember.added_at))).all()


def _ticket_form(text: str) -> str:
    """Tickets are typed as ABCD-EFGH, abcd efgh or ABCDEFGH: all mean the same."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else text.upper()


def _spellings(name: str) -> set[str]:
    # SQLite's lower() knows only ASCII, so Cyrillic surnames are matched in the usual cases.
    return {name, name.lower(), name.upper(), name.capitalize(), name.title()}


def _booking_options() -> tuple[ExecutableOption, ...]:
    return (
        selectinload(Booking.patient),
        selectinload(Booking.slot).selectinload(Slot.doctor),
        selectinload(Booking.service).selectinload(Service.organization),
    )


async def find_bookings(
    session: AsyncSession, *, query: str, access: StaffAccess, limit: int = 10
) -> Sequence[Booking]:
    """By ticket number, OMS number or surname; newest visits first, within the access."""
    text = query.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    conditions = [Booking.ticket_number == _ticket_form(text)]
    if digits and len(digits) == len(text.replace(" ", "").replace("-", "")):
        conditions.append(Patient.oms_number == digits)
    if text and not digits:
        conditions.append(Patient.last_name.in_(_spellings(text)))
    statement = (
        select(Booking)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .join(Organization, Organization.id == Service.organization_id)
        .where(or_(*conditions))
        .order_by(Slot.starts_at.desc())
        .limit(limit)
        .options(*_booking_options())
    )
    if access.organization_codes:
        statement = statement.where(Organization.code.in_(access.organization_codes))
    return (await session.scalars(statement)).all()


async def find_doctors(
    session: AsyncSession, *, query: str, access: StaffAccess
) -> Sequence[Doctor]:
    org_code, _, name = query.rpartition(":")
    statement = (
        select(Doctor)
        .join(Organization, Organization.id == Doctor.organization_id)
        .where(or_(Doctor.code == name, Doctor.last_name.in_(_spellings(name))))
        .options(selectinload(Doctor.organization))
        .order_by(Doctor.last_name)
    )
    if org_code:
        # Doctor codes are unique within an organization: "gp1:ivanova" picks one.
        statement = statement.where(Organization.code == org_code)
    if access.organization_codes:
        statement = statement.where(Organization.code.in_(access.organization_codes))
    return (await session.scalars(statement)).all()


async def doctors_in_scope(session: AsyncSession, *, access: StaffAccess) -> Sequence[Doctor]:
    statement = (
        select(Doctor)
        .join(Organization, Organization.id == Doctor.organization_id)
        .options(selectinload(Doctor.organization))
        .order_by(Organization.code, Doctor.last_name)
    )
    if access.organization_codes:
        statement = statement.where(Organization.code.in_(access.organization_codes))
    return (await session.scalars(statement)).all()


@dataclass(frozen=True, slots=True)
class DaySlot:
    slot: Slot
    booking: Booking | None


async def doctor_day(session: AsyncSession, *, doctor: Doctor, day: date) -> list[DaySlot]:
    """Every slot of the doctor's local day, free or booked and by whom."""
    since, until = local_day_bounds(day, ZoneInfo(doctor.organization.timezone))
    slots = (
        await session.scalars(
            select(Slot)
            .where(Slot.doctor_id == doctor.id, Slot.starts_at >= since, Slot.starts_at < until)
            .order_by(Slot.starts_at)
        )
    ).all()
    bookings = {
        b.slot_id: b
        for b in (
            await session.scalars(
                select(Booking)
                .where(
                    Booking.slot_id.in_([s.id for s in slots]),
                    Booking.status == BookingStatus.ACTIVE,
                )
                .options(selectinload(Booking.patient))
            )
        ).all()
    }
    return [DaySlot(slot=s, booking=bookings.get(s.id)) for s in slots]


async def booking_for(
    session: AsyncSession, *, booking_id: int, access: StaffAccess
) -> Booking | None:
    """A booking the staff member may act on, loaded for a card."""
    booking = await session.scalar(
        select(Booking).where(Booking.id == booking_id).options(*_booking_options())
    )
    if booking is None or not access.may_see(booking.service.organization.code):
        return None
    return booking


async def close_time(
    session: AsyncSession,
    *,
    doctor: Doctor,
    since: datetime,
    until: datetime,
    reason: str,
    staff_telegram_id: int,
    now: datetime,
) -> list[Booking]:
    """Close the doctor's time and cancel its bookings, in one transaction; return them."""
    session.add(
        Closure(
            doctor_id=doctor.id,
            starts_at=since,
            ends_at=until,
            reason=reason,
            closed_by=staff_telegram_id,
            closed_at=now,
        )
    )
    await session.execute(
        update(Slot)
        .where(Slot.doctor_id == doctor.id, Slot.starts_at < until, Slot.ends_at > since)
        .values(is_open=False)
    )
    bookings = list(
        (
            await session.scalars(
                select(Booking)
                .join(Slot, Slot.id == Booking.slot_id)
                .where(
                    Slot.doctor_id == doctor.id,
                    # Every visit the closed time overlaps, not only those starting in it.
                    Slot.starts_at < until,
                    Slot.ends_at > since,
                    Slot.starts_at > now,
                    Booking.status == BookingStatus.ACTIVE,
                )
                .options(*_booking_options())
            )
        ).all()
    )
    for booking in bookings:
        await cancel_in_closure(
            session,
            booking=booking,
            staff_telegram_id=staff_telegram_id,
            reason=reason,
            now=now,
        )
    await session.commit()
    return bookings


async def reopen_time(
    session: AsyncSession,
    *,
    doctor: Doctor,
    since: datetime,
    until: datetime,
    now: datetime,
    horizon_days: int,
) -> int:
    """Take [since, until) out of the doctor's closures (trimming or splitting them); the
    weekly rules then reopen the slots. Returns how many closures were changed."""
    overlapping = (
        await session.scalars(
            select(Closure).where(
                Closure.doctor_id == doctor.id, Closure.starts_at < until, Closure.ends_at > since
            )
        )
    ).all()
    for closure in overlapping:
        if closure.starts_at < since and closure.ends_at > until:
            # Reopening the middle leaves two closures.
            session.add(
                Closure(
                    doctor_id=doctor.id,
                    starts_at=until,
                    ends_at=closure.ends_at,
                    reason=closure.reason,
                    closed_by=closure.closed_by,
                    closed_at=closure.closed_at,
                )
            )
            closure.ends_at = since
        elif closure.starts_at < since:
            closure.ends_at = since
        elif closure.ends_at > until:
            closure.starts_at = until
        else:
            await session.delete(closure)
    await session.flush()
    await generate_slots(session, now=now, horizon_days=horizon_days, doctor_ids=[doctor.id])
    await session.commit()
    return len(overlapping)


async def alternatives(
    session: AsyncSession, *, booking: Booking, now: datetime, count: int = 3
) -> list[Slot]:
    """The nearest free times for a cancelled booking: its doctor first, then colleagues."""
    taken = select(Booking.slot_id).where(Booking.status == BookingStatus.ACTIVE)
    free = (
        select(Slot)
        .join(doctor_services, doctor_services.c.doctor_id == Slot.doctor_id)
        .where(
            doctor_services.c.service_id == booking.service_id,
            Slot.is_open.is_(True),
            Slot.starts_at > now,
            Slot.id.not_in(taken),
        )
        .options(selectinload(Slot.doctor).selectinload(Doctor.organization))
        .order_by(Slot.starts_at)
    )
    doctor_id = booking.slot.doctor_id
    own = (await session.scalars(free.where(Slot.doctor_id == doctor_id).limit(count))).all()
    others = (
        (
            await session.scalars(free.where(Slot.doctor_id != doctor_id).limit(count - len(own)))
        ).all()
        if len(own) < count
        else []
    )
    return [*own, *others]
