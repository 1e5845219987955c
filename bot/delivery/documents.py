"""The files a patient receives: the PDF ticket and the calendar event (or its cancellation).

The renderers are imported where a file is sent, not at start: fpdf2, fontTools, Pillow and
segno (the ticket) and icalendar (the calendar file) take about 20 MiB that a bot which has
not yet sent a file does not need, and an update that sends none never waits for them.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from datetime import datetime

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from bot.i18n import t
from bot.services.installation import installation_uid
from bot.services.visits import VisitRecord
from bot.unit import current_unit

TICKET_MODULE = "bot.services.ticket"


def file_stem(visit: VisitRecord) -> str:
    """The name of the visit's files without extension, such as talon-482917305.

    The ticket number loses the spaces it is shown with: a file name with spaces gets quoted
    or cut by some phones and shells. An old "LTQ5-VD92" keeps its dash.
    """
    return "talon-" + "".join(visit.ticket_number.split())


async def send_ticket(
    bot: Bot,
    chat_id: int,
    visit: VisitRecord,
    *,
    issued_at: datetime,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    # Lazy: the PDF libraries load with the first ticket, not at start (see the docstring).
    # Their import takes about 0.4 s; in a worker thread it holds the other chats' updates up
    # about half as long (measured).
    if TICKET_MODULE not in sys.modules:
        await asyncio.to_thread(importlib.import_module, TICKET_MODULE)
    from bot.services.ticket import render_ticket

    pdf = await render_ticket(visit, issued_at=issued_at)
    return await bot.send_document(
        chat_id,
        BufferedInputFile(pdf, filename=f"{file_stem(visit)}.pdf"),
        caption=t("ticket-caption", ticket=visit.ticket_number),
        reply_markup=markup,
    )


async def send_calendar(
    bot: Bot,
    chat_id: int,
    visit: VisitRecord,
    *,
    now: datetime,
    cancelled: bool = False,
    installation: str | None = None,
) -> Message:
    """The calendar file of the visit (or of its cancellation). Its UID names the database's
    installation: `installation` if given, else read in the session of the update being
    handled (bot/unit.py)."""
    # Lazy: icalendar loads with the first calendar file, not at start (see the docstring).
    from bot.services.calendar import booking_cancellation, booking_event

    if installation is None:
        unit = current_unit()
        if unit is None:
            raise RuntimeError("send_calendar outside an update needs the installation id")
        installation = await installation_uid(unit.session)
    render = booking_cancellation if cancelled else booking_event
    ics = render(visit, now=now, installation=installation)
    suffix = "-cancel" if cancelled else ""
    return await bot.send_document(
        chat_id,
        BufferedInputFile(ics, filename=f"{file_stem(visit)}{suffix}.ics"),
        caption=t("calendar-cancel-caption") if cancelled else t("calendar-caption"),
    )
