from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import t
from bot.keyboards.callbacks import ReminderAction
from bot.services.booking import within_cutoff
from bot.services.reminders import DueReminder


def _row(item: DueReminder, *, suffix: str, movable: bool) -> list[InlineKeyboardButton]:
    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=f"{label}{suffix}",
            callback_data=ReminderAction(b=item.booking_id, sl=item.slot_id, a=action).pack(),
        )

    row = [button(t("btn-confirm"), "ok"), button(t("btn-cancel-booking"), "x")]
    if movable:
        row.append(button(t("btn-move"), "mv"))
    return row


def reminder(
    items: Sequence[DueReminder], *, now: datetime, move_cutoff: timedelta
) -> InlineKeyboardMarkup:
    """One row of actions per visit; with several visits each button names its time.

    Only buttons that work when the reminder is sent (`now`): confirm and cancel always (a
    cancel is possible until the visit starts), «Перенести» only while the visit is at least
    `move_cutoff` away, the same rule the move itself checks.
    """
    rows = []
    for item in items:
        local = item.visit.starts_at.astimezone(ZoneInfo(item.visit.tz_name))
        suffix = f" · {local:%H:%M}" if len(items) > 1 else ""
        movable = not within_cutoff(item.visit.starts_at, now=now, cutoff=move_cutoff)
        rows.append(_row(item, suffix=suffix, movable=movable))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_cancel(*, booking_id: int, slot_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("btn-cancel-yes"),
                    callback_data=ReminderAction(b=booking_id, sl=slot_id, a="xy").pack(),
                ),
                InlineKeyboardButton(
                    text=t("btn-cancel-no"),
                    callback_data=ReminderAction(b=booking_id, sl=slot_id, a="xn").pack(),
                ),
            ]
        ]
    )
