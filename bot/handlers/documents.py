"""The files a patient receives: the PDF ticket and the calendar event."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup

from bot import texts
from bot.services.ticket import TicketData, render_ticket


async def send_ticket(
    bot: Bot, chat_id: int, ticket: TicketData, *, markup: InlineKeyboardMarkup | None = None
) -> None:
    pdf = await render_ticket(ticket)
    await bot.send_document(
        chat_id,
        BufferedInputFile(pdf, filename=f"talon-{ticket.ticket_number}.pdf"),
        caption=texts.TICKET_CAPTION.format(ticket=ticket.ticket_number),
        reply_markup=markup,
    )


async def send_calendar(
    bot: Bot, chat_id: int, ics: bytes, *, ticket_number: str, cancelled: bool = False
) -> None:
    suffix = "-cancel" if cancelled else ""
    await bot.send_document(
        chat_id,
        BufferedInputFile(ics, filename=f"talon-{ticket_number}{suffix}.ics"),
        caption=texts.CALENDAR_CANCEL_CAPTION if cancelled else texts.CALENDAR_CAPTION,
    )
