"""The printable appointment ticket («талон на приём»): a one-page A4 PDF.

Its texts (bot/locales/<language>/documents.ftl, keys ticket-…) and dates are rendered in the
current language when the ticket is rendered: the caller's `use_locale` (or the update's
language) decides, also in `render_ticket`'s worker thread, which runs in a copy of the
caller's context.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from io import BytesIO
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import segno
from fpdf import FPDF, XPos, YPos
from fpdf.fonts import TTFFont

from bot.i18n import current_locale, t
from bot.services.dates import long_day
from bot.services.visits import VisitRecord

__all__ = ["render_ticket", "render_ticket_pdf", "ticket_qr"]


def _check(visit: VisitRecord, issued_at: datetime) -> None:
    # A naive datetime would be read in the server's zone and print a wrong hour on paper;
    # fail rather than hand the patient a misleading ticket.
    for name, value in (("starts_at", visit.starts_at), ("issued_at", issued_at)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    _zone(visit.timezone)


_FAMILY: Final = "SourceSansPro"
_CREATOR: Final = "Talon"
_MOSCOW: Final = "Europe/Moscow"

_MARGIN: Final = 20.0
_LABEL_WIDTH: Final = 42.0
_TEXT_GRAY: Final = 90

# The QR code sits to the right of the ticket number. 32 mm includes the 4-module quiet zone
# (ISO/IEC 18004 minimum), which leaves modules of about 1.1 mm for the short ticket numbers:
# large enough for a phone or a registry's handheld scanner to read a plain office print-out.
_QR_SIZE: Final = 32.0
_QR_GAP: Final = 6.0
_QR_BORDER: Final = 4
# Pixels per module of the embedded PNG: a 1-bit image whose modules stay sharp-edged even in
# viewers and printer drivers that smooth upscaled images.
_QR_SCALE: Final = 10
_NUMBER_LINE: Final = 16.0


@dataclass(frozen=True, slots=True)
class _FontFiles:
    regular: bytes
    bold: bytes


@functools.cache
def _font_files() -> _FontFiles:
    files = resources.files("font_source_sans_pro") / "files"
    return _FontFiles(
        regular=(files / "SourceSansPro-Regular.ttf").read_bytes(),
        bold=(files / "SourceSansPro-Bold.ttf").read_bytes(),
    )


# functools.cache does not serialize concurrent first calls, and renders run in worker threads:
# without the lock two tickets rendered at startup would both read the files.
_font_lock = threading.Lock()


def _fonts() -> _FontFiles:
    with _font_lock:
        return _font_files()


def _add_font(pdf: FPDF, *, style: str, data: bytes) -> None:
    # fpdf2 2.8.9's add_font() accepts only a path (it checks the file extension and existence),
    # so the font object it would build is built here from the cached bytes instead. Each
    # document needs its own parsed font: fpdf2 subsets the fontTools object in place on output.
    fontkey = f"{_FAMILY.lower()}{style}"
    pdf.fonts[fontkey] = TTFFont(pdf, BytesIO(data), fontkey, style)  # type: ignore[arg-type]


@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {name!r}") from exc


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _zone_note(local: datetime, zone_name: str) -> str:
    if zone_name == _MOSCOW:
        return t("ticket-zone-moscow")
    offset = local.utcoffset()
    assert offset is not None  # local comes from astimezone(ZoneInfo), always aware
    return t("ticket-zone-local", offset=_format_offset(offset))


def _format_local(moment: datetime, zone_name: str, *, weekday: bool = True) -> str:
    local = moment.astimezone(_zone(zone_name))
    return t(
        "ticket-moment",
        day=long_day(local.date(), weekday=weekday),
        time=f"{local:%H:%M}",
        zone=_zone_note(local, zone_name),
    )


def ticket_qr(ticket_number: str) -> segno.QRCode:
    """The QR code printed on the ticket: the ticket number and nothing else.

    Level M at least; segno raises it (up to H) while the symbol stays the same version,
    so a creased or smudged ticket still scans.
    """
    return segno.make_qr(ticket_number, error="m", boost_error=True)


def _qr_png(ticket_number: str) -> BytesIO:
    buffer = BytesIO()
    ticket_qr(ticket_number).save(buffer, kind="png", scale=_QR_SCALE, border=_QR_BORDER)
    buffer.seek(0)
    return buffer


def _new_document() -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    fonts = _fonts()
    _add_font(pdf, style="", data=fonts.regular)
    _add_font(pdf, style="B", data=fonts.bold)
    # Metadata is visible in any viewer's "properties" and survives forwarding: nothing
    # personal goes there, not even the ticket number.
    pdf.set_title(t("ticket-title"))
    pdf.set_creator(_CREATOR)
    pdf.set_lang(current_locale())
    return pdf


def _paragraph(pdf: FPDF, text: str, *, size: float, bold: bool = False, align: str = "L") -> None:
    pdf.set_font(_FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _field(pdf: FPDF, label: str, value: str, *, bold: bool = False) -> None:
    top = pdf.get_y()
    pdf.set_text_color(_TEXT_GRAY)
    pdf.set_font(_FAMILY, "", 10)
    pdf.multi_cell(_LABEL_WIDTH, 6.5, label, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    label_bottom = pdf.get_y()
    pdf.set_text_color(0)
    pdf.set_font(_FAMILY, "B" if bold else "", 12)
    pdf.set_xy(pdf.l_margin + _LABEL_WIDTH, top)
    pdf.multi_cell(0, 6.5, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(label_bottom, pdf.get_y()) + 2.5)


def _rule(pdf: FPDF) -> None:
    pdf.ln(3)
    pdf.set_draw_color(170)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(5)


def _number_with_qr(pdf: FPDF, ticket_number: str) -> None:
    top = pdf.get_y()
    text = t("ticket-number", number=ticket_number)
    box_width = pdf.epw - _QR_SIZE - _QR_GAP
    pdf.set_font(_FAMILY, "B", 30)
    lines = pdf.multi_cell(box_width, _NUMBER_LINE, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)  # output="LINES" returns the wrapped lines alone
    box_height = _NUMBER_LINE * len(lines)
    pdf.set_xy(pdf.l_margin, top + max(0.0, (_QR_SIZE - box_height) / 2))
    pdf.multi_cell(
        box_width, _NUMBER_LINE, text, border=1, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    box_bottom = pdf.get_y()
    pdf.image(
        _qr_png(ticket_number),
        x=pdf.w - pdf.r_margin - _QR_SIZE,
        y=top,
        w=_QR_SIZE,
        h=_QR_SIZE,
    )
    pdf.set_y(max(box_bottom, top + _QR_SIZE) + 4)


def render_ticket_pdf(data: VisitRecord, *, issued_at: datetime) -> bytes:
    """Render the ticket; CPU-bound, so call `render_ticket` from async code."""
    _check(data, issued_at)
    pdf = _new_document()
    pdf.set_creation_date(issued_at)
    pdf.add_page()

    _paragraph(pdf, data.organization_name, size=13, bold=True)
    pdf.ln(1)
    pdf.set_text_color(_TEXT_GRAY)
    _paragraph(pdf, data.organization_address, size=10)
    _paragraph(pdf, t("ticket-phone", phone=data.organization_phone), size=10)
    pdf.set_text_color(0)
    _rule(pdf)

    _paragraph(pdf, t("ticket-title"), size=20, bold=True, align="C")
    pdf.ln(3)
    _number_with_qr(pdf, data.ticket_number)

    when = _format_local(data.starts_at, data.timezone)
    _field(pdf, t("ticket-field-when"), when, bold=True)
    _field(pdf, t("ticket-field-doctor"), data.doctor_full_name)
    _field(pdf, t("ticket-field-position"), data.doctor_position)
    _field(pdf, t("ticket-field-service"), data.service_name)
    _field(pdf, t("ticket-field-patient"), data.patient_full_name)
    _rule(pdf)

    _paragraph(pdf, t("ticket-reminder"), size=11, bold=True)
    pdf.ln(4)
    pdf.set_text_color(_TEXT_GRAY)
    issued = _format_local(issued_at, data.timezone, weekday=False)
    _paragraph(pdf, t("ticket-issued", when=issued), size=9)
    pdf.set_text_color(0)

    return bytes(pdf.output())


async def render_ticket(data: VisitRecord, *, issued_at: datetime) -> bytes:
    """Render the ticket in a worker thread so the event loop keeps serving other chats.

    asyncio.to_thread runs the function in a copy of this context, so the ticket comes out in
    the caller's language (tests/unit/test_ticket.py checks it)."""
    return await asyncio.to_thread(functools.partial(render_ticket_pdf, data, issued_at=issued_at))
