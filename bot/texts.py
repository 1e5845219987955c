"""Texts composed from several catalogue entries (bot/locales/): a visit's details, a refusal,
a reminder, day and hour labels. Every sentence itself lives in the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from html import escape

from bot.i18n import t
from bot.services.dates import local_when, short_weekday
from bot.services.reminders import DueReminder
from bot.services.visits import VisitRecord
from bot.usecases.outcomes import OverLimit, Refused, SlotTaken


def esc(value: str) -> str:
    return escape(value, quote=False)


def ticket_details(visit: VisitRecord) -> str:
    return t(
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
    visits = [
        t(
            "reminder-visit",
            when=local_when(item.record.starts_at, item.record.timezone),
            org=esc(item.record.organization_name),
            address=esc(item.record.organization_address),
            doctor=esc(item.record.doctor_full_name),
            position=esc(item.record.doctor_position),
            service=esc(item.record.service_name),
            ticket=esc(item.record.ticket_number),
        )
        for item in items
    ]
    title = t("reminder-title") if len(items) == 1 else t("reminder-title-many")
    return "\n\n".join([title, *visits, t("reminder-footer")])
