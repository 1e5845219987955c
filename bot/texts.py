"""Texts composed from several catalogue entries (bot/locales/): a visit's details, a refusal,
a reminder, day and hour labels. Every sentence itself lives in the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from html import escape

from bot.i18n import t
from bot.services.dates import local_when, short_weekday
from bot.services.districts import DistrictReason, DistrictRefusal
from bot.services.payment import payment_text
from bot.services.reminders import DueReminder
from bot.services.visits import VisitRecord
from bot.usecases.outcomes import OverLimit, Refused, SlotTaken


def esc(value: str) -> str:
    return escape(value, quote=False)


def ticket_details(visit: VisitRecord) -> str:
    """The booking as the patient reads it: ticket, place, room, doctor, time, payment."""
    details = t(
        "booking-details",
        ticket=esc(visit.ticket_number),
        org=esc(visit.organization_name),
        address=esc(visit.organization_address),
        doctor=esc(visit.doctor_full_name),
        position=esc(visit.doctor_position),
        service=esc(visit.service_name),
        when=local_when(visit.starts_at, visit.timezone),
        patient=esc(visit.patient_full_name),
    )
    lines = [details]
    if visit.room:
        lines.append(t("summary-room", room=esc(visit.room)))
    lines.append(
        t(
            "summary-payment",
            payment=payment_text(paid=visit.service_paid, price=visit.service_price),
        )
    )
    if visit.visit_notes:
        lines.append(t("visit-notes", notes=esc(visit.visit_notes)))
    return "\n".join(lines)


def district_refusal(refusal: DistrictRefusal) -> str:
    """Why a district service can't be booked with this doctor, and what to do instead."""
    org, phone = esc(refusal.organization_name), esc(refusal.phone)
    if refusal.reason is DistrictReason.NOT_ATTACHED:
        return t("district-not-attached", org=org, phone=phone)
    if refusal.patient_district is None:
        return t("district-unknown", org=org, phone=phone)
    reason = t(
        "district-other",
        doctor_district=esc(refusal.doctor_district or "—"),
        own=esc(refusal.patient_district),
    )
    then = t("district-own-doctors") if refusal.doctors else t("district-no-doctor", phone=phone)
    return f"{reason}\n\n{then}"


def day_label(day: date) -> str:
    return f"{short_weekday(day)} {day:%d.%m}"


def hours_label(hours: tuple[time, time]) -> str:
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"


def refusal(outcome: Refused | OverLimit | SlotTaken) -> str:
    """Why a change was refused, for the person who asked for it."""
    if isinstance(outcome, SlotTaken):
        return t("time-taken")
    if isinstance(outcome, OverLimit):
        return t(f"limit-{outcome.reason.value.replace('_', '-')}", detail=esc(outcome.detail))
    return t(f"refusal-{outcome.reason.value.replace('_', '-')}", phone=esc(outcome.phone or ""))


def reminder_text(items: Sequence[DueReminder]) -> str:
    """The reminder of one visit or of a day's several, each naming its patient (surname and
    initials: a parent reminded of several children's visits sees whose each one is) and
    where to go."""
    visits = [_reminded_visit(item.record) for item in items]
    title = t("reminder-title") if len(items) == 1 else t("reminder-title-many")
    return "\n\n".join([title, *visits, t("reminder-footer")])


def _reminded_visit(record: VisitRecord) -> str:
    visit = t(
        "reminder-visit",
        when=local_when(record.starts_at, record.timezone),
        patient=esc(record.patient_short_name),
        org=esc(record.organization_name),
        address=esc(record.organization_address),
        doctor=esc(record.doctor_full_name),
        position=esc(record.doctor_position),
        service=esc(record.service_name),
        ticket=esc(record.ticket_number),
    )
    return f"{visit}\n{t('summary-room', room=esc(record.room))}" if record.room else visit
