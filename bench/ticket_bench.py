"""The PDF ticket against a naive fpdf2 document with the same fonts and the same text.

Talon's side is `bot.services.ticket.render_ticket_pdf` on the visit record the tests use
(tests/factories.py `visit_record`). The naive side is what a first fpdf2 program would do:
a new FPDF, `add_font` of the same two Source Sans Pro TTF files from disk (parsed again for
every document), the lines of text read back from Talon's own ticket, one `multi_cell` each,
`output()`. It has no QR code. The two run alternately; each figure is the median.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.table import Row, ms, ratio

ISSUED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
FAMILY = "SourceSansPro"


def font_paths() -> tuple[Path, Path]:
    files = resources.files("font_source_sans_pro") / "files"
    return (
        Path(str(files / "SourceSansPro-Regular.ttf")),
        Path(str(files / "SourceSansPro-Bold.ttf")),
    )


def ticket_lines(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def naive_ticket(lines: Sequence[str], regular: Path, bold: Path) -> bytes:
    from fpdf import FPDF, XPos, YPos

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(regular))
    pdf.add_font(FAMILY, "B", str(bold))
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 13)
    pdf.multi_cell(0, 6.5, lines[0], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 11)
    for line in lines[1:]:
        pdf.multi_cell(0, 6.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _timed(render: Callable[[], bytes]) -> float:
    began = time.perf_counter()
    render()
    return time.perf_counter() - began


def run(repeats: int) -> list[Row]:
    from bot.services.ticket import render_ticket_pdf
    from tests.factories import visit_record

    visit = visit_record()
    regular, bold = font_paths()

    def talon() -> bytes:
        return render_ticket_pdf(visit, issued_at=ISSUED_AT)

    lines = ticket_lines(talon())

    def naive() -> bytes:
        return naive_ticket(lines, regular, bold)

    naive()  # first use: imports and caches on both sides
    talon_times: list[float] = []
    naive_times: list[float] = []
    for _ in range(repeats):
        talon_times.append(_timed(talon))
        naive_times.append(_timed(naive))
    talon_ms = statistics.median(talon_times)
    naive_ms = statistics.median(naive_times)
    return [
        Row(
            "ticket",
            f"PDF ticket median of {repeats} (baseline: naive fpdf2)",
            ms(talon_ms),
            ms(naive_ms),
            ratio(talon_ms, naive_ms),
        )
    ]
