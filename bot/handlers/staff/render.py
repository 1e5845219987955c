"""The texts of staff answers: booking cards, a doctor's day, a booking's history, the list of
registrars. Pure functions of loaded records: no database, no Telegram."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.delivery.outbox import SendReport
from bot.i18n import Count, MissingText, t
from bot.services.dates import local_when, long_day, short_weekday
from bot.services.ordering import natural_key
from bot.services.slots import local_day_bounds
from bot.services.staff.args import BadDate, DateProblem, DateWindow
from bot.services.staff.search import DaySlot
from bot.services.visits import VisitRecord
from bot.texts import esc
from db.models import AuditEntry, Booking, BookingStatus, Doctor, StaffMember

# Telegram refuses a text over 4,096 UTF-16 code units. Lists built from the registry (a day of
# five-minute slots, many registrars) are cut to whole lines, since a cut line could split an
# HTML entity; the rest of the template stays well inside the remainder.
_LINES_BUDGET: Final = 3_500
# Doctors named when a query matches several: enough to pick the right code.
_AMBIGUOUS_SHOWN: Final = 10


def card(visit: VisitRecord) -> str:
    # The patient's confirmation matters only while the visit is still to come: a cancelled
    # booking must never read as confirmed.
    confirmed = visit.confirmed_at is not None and visit.status is BookingStatus.ACTIVE
    return t(
        "staff-card",
        ticket=esc(visit.ticket_number),
        status=t(f"status-{visit.status.value}"),
        confirmed=t("staff-card-confirmed") if confirmed else "",
        when=local_when(visit.starts_at, visit.timezone),
        org=esc(visit.organization_short_name),
        doctor=esc(visit.doctor_full_name),
        position=esc(visit.doctor_position),
        service=esc(visit.service_name),
        patient=esc(visit.patient_full_name),
        oms=visit.patient_oms_masked,
    )


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_lines(lines: Sequence[str]) -> str:
    kept: list[str] = []
    used = 0
    for line in lines:
        used += _utf16_len(line) + 1
        if used > _LINES_BUDGET:
            break
        kept.append(line)
    if len(kept) < len(lines):
        kept.append(t("staff-lines-left-out", count=len(lines) - len(kept)))
    return "\n".join(kept)


def ambiguous(names: Sequence[str]) -> str:
    names = sorted(names, key=natural_key)  # «gp3:…» before «gp14:…»
    shown = ", ".join(names[:_AMBIGUOUS_SHOWN])
    more = ", …" if len(names) > _AMBIGUOUS_SHOWN else ""
    return t("staff-doctor-ambiguous", codes=esc(shown) + more)


def date_refusal(bad: BadDate, window: DateWindow) -> str:
    if bad.problem is DateProblem.NO_SUCH_DATE:
        return t("staff-no-such-date", date=esc(bad.typed))
    if bad.problem is DateProblem.OUT_OF_RANGE:
        return t(
            "staff-date-out-of-range",
            date=esc(bad.typed),
            earliest=f"{window.earliest:%d.%m.%Y}",
            latest=f"{window.latest:%d.%m.%Y}",
        )
    return t("staff-bad-date")


def doctors_to_choose(doctors: Sequence[Doctor]) -> str:
    """/day with no doctor: how to ask, and the doctors to choose from with their codes, by
    organization and name in natural order («gp3» before «gp14»)."""
    ordered = sorted(
        doctors,
        key=lambda d: (
            natural_key(d.organization.code),
            natural_key(d.last_name, d.first_name, d.middle_name),
            d.id,
        ),
    )
    lines = fit_lines(
        [
            f"{esc(d.organization.code)}:{esc(d.code)} — {esc(d.full_name)}, {esc(d.position)}"
            for d in ordered
        ]
    )
    return f"{t('staff-usage-day')}\n\n{lines}"


def _day_line(row: DaySlot, tz: ZoneInfo) -> str:
    if row.booking:
        what = t(
            "staff-day-booked",
            patient=esc(row.booking.patient.full_name),
            ticket=esc(row.booking.ticket_number),
        )
    else:
        what = t("staff-day-free") if row.slot.is_open else t("staff-day-closed")
    return f"{row.slot.starts_at.astimezone(tz):%H:%M} — {what}"


def doctor_day(doctor: Doctor, day: date, rows: Sequence[DaySlot]) -> str:
    if not rows:
        return t("staff-day-empty", doctor=esc(doctor.full_name), day=long_day(day))
    tz = ZoneInfo(doctor.organization.timezone)
    return t(
        "staff-day",
        doctor=esc(doctor.full_name),
        position=esc(doctor.position),
        day=long_day(day),
        lines=fit_lines([_day_line(row, tz) for row in rows]),
    )


def next_working_day(doctor: Doctor, day: date, rows: Sequence[DaySlot]) -> str:
    """/day <doctor> with no date, on a day without appointments: the nearest working day,
    named, then its schedule as /day <doctor> <date> shows it."""
    heading = t("staff-day-next", day=f"{short_weekday(day)} {day:%d.%m.%Y}")
    return f"{heading}\n\n{doctor_day(doctor, day, rows)}"


def no_working_day(doctor: Doctor, today: date, last: date) -> str:
    """/day <doctor> with no date: no appointments today, nor on any day up to `last`."""
    return t(
        "staff-day-none-ahead",
        doctor=esc(doctor.full_name),
        day=long_day(today),
        last=f"{last:%d.%m.%Y}",
    )


def _time_change(entry: AuditEntry, tz: ZoneInfo) -> str:
    """Where the time changed: before → after (a new booking has only an after)."""
    if entry.action not in ("booked", "moved") or not entry.after:
        return ""
    if "starts_at" not in entry.after:
        return ""
    after = datetime.fromisoformat(entry.after["starts_at"]).astimezone(tz)
    change = f" → {after:%d.%m.%Y %H:%M}"
    if entry.before and "starts_at" in entry.before:
        before = datetime.fromisoformat(entry.before["starts_at"]).astimezone(tz)
        change = f" {before:%d.%m.%Y %H:%M}{change}"
    return change


def _history_line(entry: AuditEntry, tz: ZoneInfo) -> str:
    when = entry.at.astimezone(tz)
    who = _named("actor", entry.actor)
    if entry.actor_telegram_id:
        who = f"{who} {entry.actor_telegram_id}"
    reason = f" ({esc(entry.reason)})" if entry.reason else ""
    action = _named("action", entry.action)
    return f"{when:%d.%m.%Y %H:%M} — {action}{_time_change(entry, tz)}, {who}{reason}"


def history(booking: Booking, entries: Sequence[AuditEntry]) -> str:
    tz = ZoneInfo(booking.service.organization.timezone)
    lines = [_history_line(entry, tz) for entry in entries]
    return t("staff-history", ticket=esc(booking.ticket_number), lines=fit_lines(lines))


def _member_line(member: StaffMember) -> str:
    codes = member.organization_codes
    return f"• {member.telegram_user_id}" + (f" ({esc(', '.join(codes))})" if codes else "")


def members(listed: Sequence[StaffMember], admins: Sequence[int]) -> str:
    lines = fit_lines([_member_line(m) for m in listed])
    shown_admins = ", ".join(str(a) for a in admins) or "—"
    return t("staff-list", admins=shown_admins, members=lines or "—")


def member_added(member_id: int, codes: Sequence[str]) -> str:
    if not codes:
        return t("staff-added", id=member_id)
    return t("staff-added-scoped", id=member_id, codes=esc(", ".join(codes)))


def close_question(
    doctor: Doctor, *, since: datetime, until: datetime, reason: str, count: int
) -> str:
    """What /close will do, asked before it is done."""
    tz = ZoneInfo(doctor.organization.timezone)
    start, end = since.astimezone(tz), until.astimezone(tz)
    whole_day = (since, until) == local_day_bounds(start.date(), tz)
    hours = t("staff-close-whole-day") if whole_day else f"{start:%H:%M}–{end:%H:%M}"
    return t(
        "staff-confirm-close",
        doctor=esc(doctor.full_name),
        when=f"{long_day(start.date())}, {hours}",
        reason=esc(reason),
        count=Count(count),
    )


def _named(kind: str, value: str) -> str:
    """An audit actor or action by name; an unknown one (a newer bot wrote it) as stored."""
    try:
        return t(f"{kind}-{value}")
    except MissingText:
        return value


def told_text(told: SendReport, *, owed: bool) -> str:
    """Whether the patient was told of a registry change: sent, queued behind Telegram's
    limits (the outbox sends it as soon as they allow), or not reachable at all."""
    if owed and not told.queued and not told.failed:
        return t("staff-notified")
    if told.queued:
        return t("staff-notice-queued")
    return t("staff-not-notified")
