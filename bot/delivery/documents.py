"""The files a patient receives: the PDF ticket and the calendar event (or its cancellation)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from bot.i18n import t
from bot.services.calendar import booking_cancellation, booking_event
from bot.services.ticket import render_ticket
from bot.services.visits import VisitRecord


async def send_ticket(
    bot: Bot,
    chat_id: int,
    visit: VisitRecord,
    *,
    issued_at: datetime,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    pdf = await render_ticket(visit, issued_at=issued_at)
    return await bot.send_document(
        chat_id,
        BufferedInputFile(pdf, filename=f"talon-{visit.ticket_number}.pdf"),
        caption=t("ticket-caption", ticket=visit.ticket_number),
        reply_markup=markup,
    )


async def send_calendar(
    bot: Bot, chat_id: int, visit: VisitRecord, *, now: datetime, cancelled: bool = False
) -> Message:
    ics = (booking_cancellation if cancelled else booking_event)(visit, now=now)
    suffix = "-cancel" if cancelled else ""
    return await bot.send_document(
        chat_id,
        BufferedInputFile(ics, filename=f"talon-{visit.ticket_number}{suffix}.ics"),
        caption=t("calendar-cancel-caption") if cancelled else t("calendar-caption"),
    )
