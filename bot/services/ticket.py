"""The printable appointment ticket («талон на приём»): a one-page A4 PDF.

Its texts (bot/locales/<language>/documents.ftl, keys ticket-…) and dates are rendered in the
current language when the ticket is rendered: the caller's `use_locale` (or the update's
language) decides, also in `render_ticket`'s worker thread, which runs in a copy of the
caller's context.

Speed: a ticket is rendered with fonts prepared once per process (bot/services/ticket_fonts.py),
texts that fit on one line skip fpdf2's line breaking, and the QR image goes to fpdf2 as an
image, not as a PNG to decode. `python -m bench --only ticket` measures it.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from io import BytesIO
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import segno
from fpdf import FPDF, XPos, YPos
from fpdf.fonts import TTFFont
from PIL import Image

from bot.i18n import current_locale, t
from bot.services.dates import long_day
from bot.services.payment import payment_text
from bot.services.ticket_fonts import PreparedFaces, TicketOutputProducer, faces_for
from bot.services.visits import VisitRecord

__all__ = ["prepare_fonts", "render_ticket", "render_ticket_pdf", "ticket_qr"]


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
# Pixels per module of the embedded image: a 1-bit image whose modules stay sharp-edged even in
# viewers and printer drivers that smooth upscaled images.
_QR_SCALE: Final = 10
# A row of segno's matrix (1 dark, 0 light) as gray pixels (0 black, 255 white).
_MODULE_TO_GRAY: Final = bytes.maketrans(b"\x00\x01", b"\xff\x00")
_NUMBER_LINE: Final = 16.0

# Characters fpdf2's line breaking treats specially; see _one_line.
_SPECIAL: Final = frozenset("\n\r\t\u00ad")
# mm: a text this close to the width of its cell is left to multi_cell to wrap or not.
_FIT_TOLERANCE: Final = 0.5


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


def _prepared_faces(text: str) -> PreparedFaces | None:
    # The fonts cut down to the characters a ticket can hold, prepared once per process
    # (bot/services/ticket_fonts.py explains how and why); None if `text` has a character
    # they lack.
    fonts = _fonts()
    return faces_for(text, family=_FAMILY, regular=fonts.regular, bold=fonts.bold)


def prepare_fonts() -> None:
    """Prepare the usual ticket's fonts now rather than at the first ticket of the process.

    About half a second of CPU, once per process; blocking, so call it in a thread from async
    code. Safe to call from any thread, any number of times."""
    _prepared_faces("")


def _add_full_font(pdf: FPDF, *, style: str, data: bytes) -> None:
    # The slow path, for a ticket with a character the prepared fonts lack: the whole font,
    # parsed for this document. fpdf2 2.8.9's add_font() accepts only a path (it checks the file
    # extension and existence), so the font object it would build is built here from the cached
    # bytes instead. Each document needs its own parsed font: fpdf2 subsets the fontTools object
    # in place on output.
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


def _qr_image(ticket_number: str) -> Image.Image:
    """The QR symbol as a 1-bit image, `_QR_SCALE` pixels per module, quiet zone included.

    The same pixels segno's PNG writer would produce, without writing a PNG for fpdf2 to decode
    again: one pixel per module, scaled up by whole pixels (nearest neighbour keeps the edges
    sharp)."""
    qr = ticket_qr(ticket_number)
    side = int(qr.symbol_size(border=_QR_BORDER)[0])
    pixels = b"".join(
        bytes(row).translate(_MODULE_TO_GRAY) for row in qr.matrix_iter(border=_QR_BORDER)
    )
    modules = Image.frombytes("L", (side, side), pixels).convert("1", dither=Image.Dither.NONE)
    return modules.resize((side * _QR_SCALE, side * _QR_SCALE), Image.Resampling.NEAREST)


@dataclass(frozen=True, slots=True)
class _Texts:
    """Everything the ticket prints, rendered before the layout, so the fonts can be chosen."""

    title: str
    organization_name: str
    organization_address: str
    phone: str
    number: str
    fields: tuple[tuple[str, str, bool], ...]  # label, value, value in bold
    # What to bring and where to enter (the organization's notes); empty if none.
    notes: str
    reminder: str
    issued: str

    def characters(self) -> str:
        fields = (text for field in self.fields for text in field[:2])
        return "".join(
            (
                self.title,
                self.organization_name,
                self.organization_address,
                self.phone,
                self.number,
                *fields,
                self.notes,
                self.reminder,
                self.issued,
            )
        )


def _fields(data: VisitRecord) -> tuple[tuple[str, str, bool], ...]:
    when = (t("ticket-field-when"), _format_local(data.starts_at, data.timezone), True)
    # The room in bold next to the time: the two things a patient looks for on the day.
    room = [(t("ticket-field-room"), data.room, True)] if data.room else []
    payment = payment_text(paid=data.service_paid, price=data.service_price)
    # The birth date and the policy's last digits let the registry tell namesakes apart;
    # the full number stays in the registry.
    born = data.patient_birth_date
    birth = [(t("ticket-field-birth-date"), f"{born:%d.%m.%Y}", False)] if born else []
    return (
        when,
        *room,
        (t("ticket-field-doctor"), data.doctor_full_name, False),
        (t("ticket-field-position"), data.doctor_position, False),
        (t("ticket-field-service"), data.service_name, False),
        (t("ticket-field-payment"), payment, False),
        (t("ticket-field-patient"), data.patient_full_name, False),
        *birth,
        (t("ticket-field-oms"), data.patient_oms_masked, False),
    )


def _texts(data: VisitRecord, issued_at: datetime) -> _Texts:
    return _Texts(
        title=t("ticket-title"),
        organization_name=data.organization_name,
        organization_address=data.organization_address,
        phone=t("ticket-phone", phone=data.organization_phone),
        number=t("ticket-number", number=data.ticket_number),
        fields=_fields(data),
        notes=data.visit_notes or "",
        reminder=t("ticket-reminder"),
        issued=t("ticket-issued", when=_format_local(issued_at, data.timezone, weekday=False)),
    )


def _new_document(texts: _Texts) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    prepared = _prepared_faces(texts.characters())
    if prepared is not None:
        prepared.add_to(pdf)
    else:
        fonts = _fonts()
        _add_full_font(pdf, style="", data=fonts.regular)
        _add_full_font(pdf, style="B", data=fonts.bold)
    # Metadata is visible in any viewer's "properties" and survives forwarding: nothing
    # personal goes there, not even the ticket number.
    pdf.set_title(texts.title)
    pdf.set_creator(_CREATOR)
    pdf.set_lang(current_locale())
    return pdf


def _one_line(pdf: FPDF, width: float, text: str) -> bool:
    """Whether multi_cell(width, …, text) would print `text` on one line, as it is.

    Conservative: a text with a character fpdf2's line breaking treats specially (a forced
    break, a soft hyphen drawn only at a break), or with spaces at an end, or close to the
    width, is left to multi_cell."""
    if not text or text != text.strip() or not _SPECIAL.isdisjoint(text):
        return False
    available = (width or pdf.w - pdf.r_margin - pdf.get_x()) - 2 * pdf.c_margin
    return pdf.get_string_width(text) < available - _FIT_TOLERANCE


def _text(
    pdf: FPDF,
    width: float,
    height: float,
    text: str,
    *,
    align: str = "L",
    border: Literal[0, 1] = 0,
) -> None:
    """multi_cell(width, height, text), the next line at the left margin.

    A text that fits on one line is printed with cell(), which draws the same: fpdf2's line
    breaking measures the line again at every space, and made up most of a ticket's layout
    time, for values that almost always fit on one line."""
    if _one_line(pdf, width, text):
        pdf.cell(
            width, height, text, border=border, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    else:
        pdf.multi_cell(
            width, height, text, border=border, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )


def _paragraph(pdf: FPDF, text: str, *, size: float, bold: bool = False, align: str = "L") -> None:
    pdf.set_font(_FAMILY, "B" if bold else "", size)
    _text(pdf, 0, size * 0.5, text, align=align)


def _field(pdf: FPDF, label: str, value: str, *, bold: bool = False) -> None:
    top = pdf.get_y()
    pdf.set_text_color(_TEXT_GRAY)
    pdf.set_font(_FAMILY, "", 10)
    _text(pdf, _LABEL_WIDTH, 6.5, label)
    label_bottom = pdf.get_y()
    pdf.set_text_color(0)
    pdf.set_font(_FAMILY, "B" if bold else "", 12)
    pdf.set_xy(pdf.l_margin + _LABEL_WIDTH, top)
    _text(pdf, 0, 6.5, value)
    pdf.set_y(max(label_bottom, pdf.get_y()) + 2.5)


def _rule(pdf: FPDF) -> None:
    pdf.ln(3)
    pdf.set_draw_color(170)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(5)


def _number_with_qr(pdf: FPDF, text: str, ticket_number: str) -> None:
    top = pdf.get_y()
    box_width = pdf.epw - _QR_SIZE - _QR_GAP
    pdf.set_font(_FAMILY, "B", 30)
    if _one_line(pdf, box_width, text):
        line_count = 1
    else:
        lines = pdf.multi_cell(box_width, _NUMBER_LINE, text, dry_run=True, output="LINES")
        assert isinstance(lines, list)  # output="LINES" returns the wrapped lines alone
        line_count = len(lines)
    box_height = _NUMBER_LINE * line_count
    pdf.set_xy(pdf.l_margin, top + max(0.0, (_QR_SIZE - box_height) / 2))
    _text(pdf, box_width, _NUMBER_LINE, text, align="C", border=1)
    box_bottom = pdf.get_y()
    pdf.image(
        _qr_image(ticket_number),
        x=pdf.w - pdf.r_margin - _QR_SIZE,
        y=top,
        w=_QR_SIZE,
        h=_QR_SIZE,
    )
    pdf.set_y(max(box_bottom, top + _QR_SIZE) + 4)


def render_ticket_pdf(data: VisitRecord, *, issued_at: datetime) -> bytes:
    """Render the ticket; CPU-bound, so call `render_ticket` from async code."""
    _check(data, issued_at)
    texts = _texts(data, issued_at)
    pdf = _new_document(texts)
    pdf.set_creation_date(issued_at)
    pdf.add_page()

    _paragraph(pdf, texts.organization_name, size=13, bold=True)
    pdf.ln(1)
    pdf.set_text_color(_TEXT_GRAY)
    _paragraph(pdf, texts.organization_address, size=10)
    _paragraph(pdf, texts.phone, size=10)
    pdf.set_text_color(0)
    _rule(pdf)

    _paragraph(pdf, texts.title, size=20, bold=True, align="C")
    pdf.ln(3)
    _number_with_qr(pdf, texts.number, data.ticket_number)

    for label, value, bold in texts.fields:
        _field(pdf, label, value, bold=bold)
    _rule(pdf)

    if texts.notes:
        _paragraph(pdf, texts.notes, size=11)
        pdf.ln(3)
    _paragraph(pdf, texts.reminder, size=11, bold=True)
    pdf.ln(4)
    pdf.set_text_color(_TEXT_GRAY)
    _paragraph(pdf, texts.issued, size=9)
    pdf.set_text_color(0)

    # TicketOutputProducer embeds the prepared fonts from the objects kept for them; a document
    # with the full fonts goes through fpdf2's own font output unchanged.
    return bytes(pdf.output(output_producer_class=TicketOutputProducer))


async def render_ticket(data: VisitRecord, *, issued_at: datetime) -> bytes:
    """Render the ticket in a worker thread so the event loop keeps serving other chats.

    asyncio.to_thread runs the function in a copy of this context, so the ticket comes out in
    the caller's language (tests/unit/test_ticket.py checks it)."""
    return await asyncio.to_thread(functools.partial(render_ticket_pdf, data, issued_at=issued_at))
