from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import t
from bot.keyboards.callbacks import (
    AddPatient,
    ForgetPatient,
    MyBooking,
    MyBookings,
    MyPatients,
    ToStart,
    Withdraw,
)
from bot.services.visits import VisitRecord
from db.models import Patient


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def _start() -> InlineKeyboardButton:
    return _button(t("btn-start"), ToStart().pack())


def booking_label(visit: VisitRecord) -> str:
    when = visit.starts_at.astimezone(ZoneInfo(visit.timezone))
    return f"{when:%d.%m %H:%M} · {visit.doctor_short_name}"


def my_bookings(visits: Sequence[VisitRecord], *, page: int, pages: int) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                booking_label(visit),
                MyBooking(b=visit.booking_id, sl=visit.slot_id, a="show").pack(),
            )
        ]
        for visit in visits
    ]
    if pages > 1:
        paging = []
        if page > 0:
            paging.append(_button(t("btn-prev-page"), MyBookings(page=page - 1).pack()))
        if page < pages - 1:
            paging.append(_button(t("btn-next-page"), MyBookings(page=page + 1).pack()))
        rows.append(paging)
    rows.append([_button(t("btn-my-patients"), MyPatients().pack()), _start()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def booking_card(visit: VisitRecord, *, movable: bool) -> InlineKeyboardMarkup:
    """Ticket, calendar file, move (only if `movable`: the cut-off before the visit is not
    reached) and cancel (until the visit starts)."""

    def action(text: str, code: str) -> InlineKeyboardButton:
        return _button(text, MyBooking(b=visit.booking_id, sl=visit.slot_id, a=code).pack())

    changes = [action(t("btn-cancel-booking"), "x")]
    if movable:
        changes.insert(0, action(t("btn-move"), "mv"))
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [action(t("btn-ticket"), "pdf"), action(t("btn-calendar"), "ics")],
            changes,
            [_button(t("btn-back"), MyBookings().pack()), _start()],
        ]
    )


def confirm_cancel(visit: VisitRecord) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    t("btn-cancel-yes"),
                    MyBooking(b=visit.booking_id, sl=visit.slot_id, a="xy").pack(),
                ),
                _button(
                    t("btn-cancel-no"),
                    MyBooking(b=visit.booking_id, sl=visit.slot_id, a="show").pack(),
                ),
            ]
        ]
    )


def my_patients(
    patients: Sequence[Patient], organizations: Sequence[tuple[int, str]] = ()
) -> InlineKeyboardMarkup:
    """Forget a patient; withdraw the consent of one organization (id, short name) or all."""
    rows = [
        [_button(f"{t('btn-forget')}: {patient.full_name}", ForgetPatient(p=patient.id).pack())]
        for patient in patients
    ]
    rows.append([_button(t("btn-add-patient"), AddPatient().pack())])
    rows += [
        [_button(f"{t('btn-withdraw')}: {name}", Withdraw(ok=False, o=org_id).pack())]
        for org_id, name in organizations
    ]
    rows.append([_button(t("btn-withdraw-all"), Withdraw(ok=False).pack())])
    rows.append([_button(t("btn-back"), MyBookings().pack()), _start()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_withdraw(organization_id: int = 0) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("btn-withdraw-yes"), Withdraw(ok=True, o=organization_id).pack()),
                _button(t("btn-cancel-no"), MyPatients().pack()),
            ]
        ]
    )
