"""Keyboards of the waitlist: joining, the offer of a freed time, leaving."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import t
from bot.keyboards.callbacks import (
    DoctorPick,
    MyBookings,
    OfferAction,
    ToStart,
    WaitJoin,
    WaitLeave,
)


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def join_choice(pressed: WaitJoin) -> InlineKeyboardMarkup:
    """This doctor only, or any doctor of the service; back to the days."""

    def go(any_doctor: int) -> str:
        return WaitJoin(
            s=pressed.s, svc=pressed.svc, doc=pressed.doc, day=pressed.day, any=any_doctor, go=1
        ).pack()

    back = DoctorPick(s=pressed.s, svc=pressed.svc, doc=pressed.doc).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(t("btn-waitlist-this-doctor"), go(0))],
            [_button(t("btn-waitlist-any-doctor"), go(1))],
            [_button(t("btn-back"), back)],
        ]
    )


def after_join() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(t("btn-my-bookings"), MyBookings().pack())],
            [_button(t("btn-start"), ToStart().pack())],
        ]
    )


def offer(offer_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("btn-offer-take"), OfferAction(o=offer_id, a="t").pack()),
                _button(t("btn-offer-decline"), OfferAction(o=offer_id, a="n").pack()),
            ]
        ]
    )


def leave_button(entry_id: int, label: str) -> list[InlineKeyboardButton]:
    return [_button(t("btn-waitlist-leave", what=label), WaitLeave(e=entry_id).pack())]
