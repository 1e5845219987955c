from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.i18n import t
from bot.keyboards.callbacks import AltBook, ToStart
from db.models import Slot


def alternatives(cancelled_booking_id: int, slots: Sequence[Slot]) -> InlineKeyboardMarkup:
    rows = []
    for slot in slots:
        tz = ZoneInfo(slot.doctor.organization.timezone)
        local = slot.starts_at.astimezone(tz)
        label = f"{texts.day_label(local.date())} {local:%H:%M} · {slot.doctor.short_name}"
        rows.append(
            [
                InlineKeyboardButton(
                    text=label,
                    callback_data=AltBook(b=cancelled_booking_id, sl=slot.id).pack(),
                )
            ]
        )
    rows.append([InlineKeyboardButton(text=t("btn-start"), callback_data=ToStart().pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)
