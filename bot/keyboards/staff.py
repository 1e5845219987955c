"""Buttons of the registry's staff commands."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.keyboards.callbacks import StaffCancel, StaffClose, StaffMove
from db.models import Booking, BookingStatus


def _row(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]
        ]
    )


def staff_card(booking: Booking) -> InlineKeyboardMarkup | None:
    """Cancel or move an active booking; nothing to do with a cancelled one."""
    if booking.status is not BookingStatus.ACTIVE:
        return None
    return _row(
        (texts.BTN_STAFF_CANCEL, StaffCancel(b=booking.id).pack()),
        (texts.BTN_STAFF_MOVE, StaffMove(b=booking.id).pack()),
    )


def staff_cancel_confirm(booking_id: int) -> InlineKeyboardMarkup:
    return _row(
        (texts.BTN_CANCEL_YES, StaffCancel(b=booking_id, step=1).pack()),
        (texts.BTN_CANCEL_NO, StaffCancel(b=booking_id, step=2).pack()),
    )


def staff_close_confirm(nonce: str) -> InlineKeyboardMarkup:
    return _row(
        (texts.BTN_CLOSE_YES, StaffClose(ok=True, n=nonce).pack()),
        (texts.BTN_CANCEL_NO, StaffClose(ok=False, n=nonce).pack()),
    )


def staff_move_confirm(booking_id: int, slot_id: int) -> InlineKeyboardMarkup:
    return _row(
        (texts.BTN_MOVE_YES, StaffMove(b=booking_id, sl=slot_id, ok=True).pack()),
        (texts.BTN_CANCEL_NO, StaffMove(b=booking_id, sl=slot_id, ok=False).pack()),
    )
