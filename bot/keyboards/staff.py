"""Buttons of the registry's staff commands."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import t
from bot.keyboards.callbacks import StaffCancel, StaffClose, StaffMove
from bot.services.visits import VisitRecord


def _row(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]
        ]
    )


def staff_card(visit: VisitRecord) -> InlineKeyboardMarkup | None:
    """Cancel or move an active booking; nothing to do with a cancelled one."""
    if not visit.is_active:
        return None
    return _row(
        (t("btn-staff-cancel"), StaffCancel(b=visit.booking_id).pack()),
        (t("btn-staff-move"), StaffMove(b=visit.booking_id).pack()),
    )


def staff_cancel_confirm(booking_id: int) -> InlineKeyboardMarkup:
    return _row(
        (t("btn-cancel-yes"), StaffCancel(b=booking_id, step=1).pack()),
        (t("btn-cancel-no"), StaffCancel(b=booking_id, step=2).pack()),
    )


def staff_close_confirm(nonce: str) -> InlineKeyboardMarkup:
    return _row(
        (t("btn-close-yes"), StaffClose(ok=True, n=nonce).pack()),
        (t("btn-cancel-no"), StaffClose(ok=False, n=nonce).pack()),
    )


def staff_move_confirm(booking_id: int, slot_id: int) -> InlineKeyboardMarkup:
    return _row(
        (t("btn-move-yes"), StaffMove(b=booking_id, sl=slot_id, ok=True).pack()),
        (t("btn-cancel-no"), StaffMove(b=booking_id, sl=slot_id, ok=False).pack()),
    )
