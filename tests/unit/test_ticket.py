from __future__ import annotations

import asyncio
import dataclasses
import importlib.resources
import logging
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from io import BytesIO

import pytest
import segno
from fpdf import FPDF
from pypdf import PageObject, PdfReader

from bot.i18n import use_locale
from bot.services import ticket, ticket_fonts
from bot.services.ticket import render_ticket, render_ticket_pdf, ticket_qr
from bot.services.visits import VisitRecord
from tests.factories import visit_record

LONG = visit_record(
    ticket_number="А-0042",
    organization_name=(
        "ГБУЗ «Городская поликлиника № 3 Департамента здравоохранения города Москвы», "
        "филиал № 2 (бывшая городская поликлиника № 117)"
    ),
    organization_address=(
        "г. Москва, ул. Академика Королёва, д. 28, корп. 1, стр. 2, регистратура на первом "
        "этаже, вход со стороны двора через пост охраны"
    ),
    organization_phone="+7 (495) 123-45-67",
    doctor_full_name="Римская-Корсакова Анна-Мария Вячеславовна",
    doctor_position="Врач-оториноларинголог высшей квалификационной категории",
    service_name=(
        "Первичный приём врача-оториноларинголога: консультация, осмотр, составление плана "
        "обследования и лечения"
    ),
    patient_full_name="Салтыков-Щедрин Михаил Евграфович",
    patient_birth_date=date(1985, 3, 14),
    # 03:20 UTC is 08:20 in Yekaterinburg (UTC+5 all year).
    starts_at=datetime(2026, 12, 3, 3, 20, tzinfo=UTC),
    timezone="Asia/Yekaterinburg",
    room="корпус 2, 3 этаж, кабинет 314 (налево от лифта, по коридору до конца)",
    service_paid=True,
    service_price=12500,
    visit_notes=(
        "Возьмите с собой паспорт, полис ОМС и СНИЛС; для ребёнка — свидетельство о рождении "
        "и паспорт одного из родителей. Если у вас есть результаты анализов или выписки из "
        "других медицинских организаций за последний год, возьмите и их. Вход в поликлинику "
        "со стороны ул. Академика Королёва; маломобильным пациентам — пандус у второго "
        "подъезда, кнопка вызова дежурного администратора справа от двери. Бахилы и гардероб "
        "на первом этаже у регистратуры. "
        "Пожалуйста, не опаздывайте: после 10 минут опоздания приём может быть перенесён."
    ),
)
# 09:05 UTC is 14:05 in Yekaterinburg.
ISSUED_AT = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)


def _squash(text: str) -> str:
    # Wrapping may break a line at any space or after a hyphen, so compare without whitespace.
    return re.sub(r"\s+", "", text)


def _read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def long_ticket() -> tuple[PdfReader, str]:
    return _read(render_ticket_pdf(LONG, issued_at=ISSUED_AT))


def test_is_a_single_a4_page(long_ticket: tuple[PdfReader, str]) -> None:
    reader, _ = long_ticket
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


@pytest.mark.parametrize(
    "expected",
    [
        "Талон на приём к врачу",
        "№ А-0042",
        LONG.organization_name,
        LONG.organization_address,
        LONG.organization_phone,
        LONG.doctor_full_name,
        LONG.doctor_position,
        LONG.service_name,
        LONG.patient_full_name,
        "четверг, 3 декабря 2026 г., 08:20",
        "время местное, UTC+5",
        "Талон выдан: 1 декабря 2026 г., 14:05",
        "Приходите за 10–15 минут до приёма. Если не сможете прийти — отмените запись.",
        # The clinic's details (issue 14): room, payment, birth date, masked policy, notes.
        "Место приёма",
        LONG.room or "",
        "платно, 12 500 ₽",
        "14.03.1985",
        "••••••••••••0765",
        LONG.visit_notes or "",
    ],
)
def test_every_field_is_printed(long_ticket: tuple[PdfReader, str], expected: str) -> None:
    _, text = long_ticket
    assert _squash(expected) in _squash(text)


def test_a_free_service_reads_as_covered_by_the_policy() -> None:
    _, text = _read(render_ticket_pdf(visit_record(), issued_at=ISSUED_AT))
    assert "по полису ОМС" in text
    assert "платно" not in text
    # No room and no notes given: no empty label.
    assert "Место приёма" not in text


def test_cyrillic_survives_extraction(long_ticket: tuple[PdfReader, str]) -> None:
    _, text = long_ticket
    assert "Талон на приём к врачу" in text
    assert "Щедрин" in text
    assert "Королёва" in text


def test_long_values_are_wrapped_not_cut(long_ticket: tuple[PdfReader, str]) -> None:
    _, text = long_ticket
    lines = text.splitlines()
    assert not any(LONG.organization_name in line for line in lines)
    assert _squash(LONG.organization_name) in _squash(text)


def test_utc_time_is_not_printed(long_ticket: tuple[PdfReader, str]) -> None:
    _, text = long_ticket
    assert "03:20" not in text


def test_metadata_has_no_personal_data(long_ticket: tuple[PdfReader, str]) -> None:
    reader, _ = long_ticket
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Талон на приём к врачу"
    assert metadata.creator == "Talon"
    assert metadata.author is None
    assert metadata.subject is None
    values = " ".join(str(value) for value in metadata.values())
    for word in (
        "Салтыков",
        "Щедрин",
        "Михаил",
        "Римская",
        LONG.ticket_number,
        LONG.organization_phone,
    ):
        assert word not in values
    assert reader.xmp_metadata is None


@pytest.mark.parametrize(
    ("starts_at", "zone", "expected_date", "expected_zone"),
    [
        (
            datetime(2026, 12, 3, 5, 20, tzinfo=UTC),
            "Europe/Moscow",
            "четверг, 3 декабря 2026 г., 08:20",
            "время московское",
        ),
        (
            datetime(2026, 12, 3, 8, 20, tzinfo=timezone(timedelta(hours=3))),
            "Europe/Moscow",
            "четверг, 3 декабря 2026 г., 08:20",
            "время московское",
        ),
        (
            datetime(2026, 12, 3, 8, 20, tzinfo=timezone(timedelta(hours=3))),
            "Asia/Yekaterinburg",
            "четверг, 3 декабря 2026 г., 10:20",
            "UTC+5",
        ),
        (
            datetime(2026, 12, 31, 20, 30, tzinfo=UTC),
            "Asia/Vladivostok",
            "пятница, 1 января 2027 г., 06:30",
            "UTC+10",
        ),
        (
            datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            "Europe/Kaliningrad",
            "воскресенье, 1 марта 2026 г., 14:00",
            "UTC+2",
        ),
        (
            datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
            "Asia/Kolkata",
            "понедельник, 1 июня 2026 г., 14:30",
            "UTC+5:30",
        ),
        (
            datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
            "America/New_York",
            "понедельник, 1 июня 2026 г., 05:00",
            "UTC-4",
        ),
        (
            datetime(2026, 6, 2, 9, 0, tzinfo=UTC),
            "UTC",
            "вторник, 2 июня 2026 г., 09:00",
            "время местное, UTC)",
        ),
    ],
)
def test_time_is_shown_in_the_organization_zone(
    starts_at: datetime, zone: str, expected_date: str, expected_zone: str
) -> None:
    data = dataclasses.replace(LONG, starts_at=starts_at, timezone=zone)
    _, text = _read(render_ticket_pdf(data, issued_at=ISSUED_AT))
    squashed = _squash(text)
    assert _squash(expected_date) in squashed
    assert _squash(expected_zone) in squashed


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 12, 3, 8, 20)
    with pytest.raises(ValueError, match="starts_at"):
        render_ticket_pdf(dataclasses.replace(LONG, starts_at=naive), issued_at=ISSUED_AT)
    with pytest.raises(ValueError, match="issued_at"):
        render_ticket_pdf(LONG, issued_at=naive)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_unknown_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        render_ticket_pdf(dataclasses.replace(LONG, timezone=zone), issued_at=ISSUED_AT)


async def test_async_wrapper_renders_the_same_ticket() -> None:
    pdf = await render_ticket(LONG, issued_at=ISSUED_AT)
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF-")
    reader, text = _read(pdf)
    assert len(reader.pages) == 1
    assert _squash(LONG.patient_full_name) in _squash(text)


@pytest.fixture
def unprepared() -> Iterator[None]:
    """No font prepared yet, as in a new process (and none left behind a test that broke them)."""
    ticket_fonts.forget_prepared()
    yield
    ticket_fonts.forget_prepared()


@pytest.mark.usefixtures("unprepared")
def test_font_files_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ticket._font_files.cache_clear()
    render_ticket_pdf(LONG, issued_at=ISSUED_AT)

    def no_disk(*_: object) -> None:
        raise AssertionError("font files must not be read again")

    monkeypatch.setattr(importlib.resources, "files", no_disk)
    second = render_ticket_pdf(LONG, issued_at=ISSUED_AT)
    # Preparing another cut, and a ticket with the full fonts, use the bytes read then too.
    wide = render_ticket_pdf(
        dataclasses.replace(LONG, patient_full_name="Łukasz Żółć"), issued_at=ISSUED_AT
    )
    full = render_ticket_pdf(
        dataclasses.replace(LONG, patient_full_name="Nguyễn Thị Hương"), issued_at=ISSUED_AT
    )

    assert ticket._font_files.cache_info().misses == 1
    assert "Талон" in _read(second)[1]
    assert "Łukasz Żółć" in _read(wide)[1]
    assert "Nguyễn Thị Hương" in _read(full)[1]


# ---- Fonts prepared once per process (bot/services/ticket_fonts.py) --------------------------


@pytest.fixture
def full_fonts_used(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The styles of the full fonts parsed for a document, in order (empty: prepared fonts)."""
    used: list[str] = []
    add_full_font = ticket._add_full_font

    def spy(pdf: FPDF, *, style: str, data: bytes) -> None:
        used.append(style)
        add_full_font(pdf, style=style, data=data)

    monkeypatch.setattr(ticket, "_add_full_font", spy)
    return used


def _full_fonts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticket, "_prepared_faces", lambda _text: None)


@pytest.mark.parametrize("locale", ["ru", "en"])
@pytest.mark.parametrize("data", [LONG, visit_record()], ids=["long", "usual"])
def test_usual_tickets_use_the_prepared_fonts(
    full_fonts_used: list[str], locale: str, data: VisitRecord
) -> None:
    with use_locale(locale):
        texts = ticket._texts(data, ISSUED_AT)
        faces = ticket._prepared_faces(texts.characters())
        pdf = render_ticket_pdf(data, issued_at=ISSUED_AT)
    assert faces is not None
    assert faces.cut is ticket_fonts.RUSSIAN_CUT
    assert full_fonts_used == []
    assert _squash(data.patient_full_name) in _squash(_read(pdf)[1])


@pytest.mark.parametrize(
    ("name", "cut"),
    [
        ("Zoë O’Brien-Ñúñez", "russian"),
        ("Łukasz Żółć-Dąbrowski", "wide"),
        ("Ərtoğrul Şahin İsmayıl", "wide"),
        ("Әлия Нурғалиева", "wide"),
        ("Nguyễn Thị Hương", None),
        ("Αλέξανδρος Παπαδόπουλος", None),
    ],
)
def test_names_with_other_letters_are_printed(
    full_fonts_used: list[str],
    caplog: pytest.LogCaptureFixture,
    name: str,
    cut: str | None,
) -> None:
    data = dataclasses.replace(LONG, patient_full_name=name, doctor_full_name=f"Д-р {name}")
    texts = ticket._texts(data, ISSUED_AT)
    faces = ticket._prepared_faces(texts.characters())
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        _, text = _read(render_ticket_pdf(data, issued_at=ISSUED_AT))
    assert (faces.cut.name if faces else None) == cut
    # Outside the prepared cuts the ticket is rendered with the full fonts, as it always was.
    assert full_fonts_used == ([] if cut else ["", "B"])
    assert name in text
    assert f"Д-р {name}" in text
    assert not [r for r in caplog.records if "missing" in r.getMessage()]


def test_prepared_and_full_fonts_print_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = PdfReader(BytesIO(render_ticket_pdf(LONG, issued_at=ISSUED_AT)))
    _full_fonts_only(monkeypatch)
    full = PdfReader(BytesIO(render_ticket_pdf(LONG, issued_at=ISSUED_AT)))

    assert prepared.pages[0].extract_text() == full.pages[0].extract_text()

    def placements(reader: PdfReader) -> list[tuple[str, float, float, str, float]]:
        found: list[tuple[str, float, float, str, float]] = []

        def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
            if text.strip():
                name = str(font["/BaseFont"]) if isinstance(font, dict) else ""
                found.append((text, round(tm[4], 2), round(tm[5], 2), name, size))

        reader.pages[0].extract_text(visitor_text=visit)
        return found

    # Every piece of text in the same place, in the same face and size.
    assert len(placements(prepared)) > 10
    assert placements(prepared) == placements(full)


def test_a_ticket_renders_the_same_bytes_every_time() -> None:
    first = render_ticket_pdf(LONG, issued_at=ISSUED_AT)
    # Other tickets in between (other characters, another cut) change nothing in the next one.
    render_ticket_pdf(
        dataclasses.replace(LONG, patient_full_name="Łukasz Żółć"), issued_at=ISSUED_AT
    )
    render_ticket_pdf(visit_record(), issued_at=ISSUED_AT)
    with use_locale("en"):
        render_ticket_pdf(LONG, issued_at=ISSUED_AT)
    assert render_ticket_pdf(LONG, issued_at=ISSUED_AT) == first


_THREAD_NAMES = (
    "Салтыков-Щедрин Михаил Евграфович",
    "Zoë O’Brien-Ñúñez",
    "Łukasz Żółć-Dąbrowski",
    "Әлия Нурғалиева",
    "Nguyễn Thị Hương",
    "Римская-Корсакова Анна-Мария",
)


@pytest.mark.usefixtures("unprepared")
def test_tickets_render_concurrently_in_threads() -> None:
    jobs = [
        (
            "en" if index % 3 == 0 else "ru",
            dataclasses.replace(
                LONG,
                ticket_number=f"T-{index:04d}",
                patient_full_name=f"{_THREAD_NAMES[index % len(_THREAD_NAMES)]} {index}",
            ),
        )
        for index in range(12)
    ]
    # The first six start at once, before any font is prepared: they race to prepare the cuts.
    start = threading.Barrier(6)

    def render(job: tuple[str, VisitRecord]) -> bytes:
        locale, data = job
        if int(data.ticket_number[2:]) < 6:
            start.wait(timeout=30)
        with use_locale(locale):
            return render_ticket_pdf(data, issued_at=ISSUED_AT)

    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(render, jobs))

    for (locale, data), pdf in zip(jobs, concurrent, strict=True):
        _, text = _read(pdf)
        assert data.patient_full_name in text
        assert data.ticket_number in text
        others = {other.ticket_number for _, other in jobs} - {data.ticket_number}
        assert not any(number in text for number in others)
        # The same bytes as the same ticket rendered alone.
        with use_locale(locale):
            assert render_ticket_pdf(data, issued_at=ISSUED_AT) == pdf


@pytest.mark.usefixtures("unprepared")
def test_fonts_can_be_prepared_before_the_first_ticket(full_fonts_used: list[str]) -> None:
    ticket.prepare_fonts()
    prepared = ticket_fonts._prepared_cut(ticket_fonts.RUSSIAN_CUT, "", b"", b"")
    assert prepared is not None  # prepared already: the empty font files were not needed
    ticket.prepare_fonts()
    assert ticket_fonts._prepared_cut(ticket_fonts.RUSSIAN_CUT, "", b"", b"") is prepared
    render_ticket_pdf(LONG, issued_at=ISSUED_AT)
    assert full_fonts_used == []


@pytest.mark.usefixtures("unprepared")
def test_fonts_that_cannot_be_prepared_fall_back_to_the_full_fonts(
    monkeypatch: pytest.MonkeyPatch, full_fonts_used: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("an fpdf2 that embeds fonts differently")

    monkeypatch.setattr(ticket_fonts, "_prepare", broken)

    def logged() -> int:
        return len([r for r in caplog.records if r.name == ticket_fonts.__name__])

    with caplog.at_level(logging.ERROR, logger=ticket_fonts.__name__):
        first = render_ticket_pdf(LONG, issued_at=ISSUED_AT)
        after_first = logged()
        second = render_ticket_pdf(LONG, issued_at=ISSUED_AT)

    assert full_fonts_used == ["", "B", "", "B"]
    assert _squash(LONG.patient_full_name) in _squash(_read(first)[1])
    assert first == second
    # Tried and logged once per cut, not again at every ticket.
    assert 1 <= after_first == logged() <= len(ticket_fonts._CUTS)


# ---- QR code -------------------------------------------------------------------------------

SHORT = dataclasses.replace(LONG, ticket_number="K7M2-QX9P")
MM = 72 / 25.4  # PDF points per millimetre
QUIET_ZONE = 4  # modules; the minimum ISO/IEC 18004 asks for


def _modules(reader: PdfReader) -> list[list[bool]]:
    """The embedded QR image read back as a grid of dark modules, quiet zone included."""
    (page,) = reader.pages
    (image,) = page.images
    picture = image.image
    assert picture is not None
    gray = picture.convert("L")
    width, height = gray.size
    assert width == height
    pixels = gray.tobytes()  # one byte per pixel, row by row
    side = int(ticket_qr(SHORT.ticket_number).symbol_size(border=QUIET_ZONE)[0])
    assert width % side == 0, "every module must be a whole number of pixels"
    step = width // side

    def dark(row: int, col: int) -> bool:
        y, x = row * step + step // 2, col * step + step // 2
        return pixels[y * width + x] < 128

    return [[dark(row, col) for col in range(side)] for row in range(side)]


def _expected_modules(qr: segno.QRCode) -> list[list[bool]]:
    return [[bool(bit) for bit in row] for row in qr.matrix_iter(border=QUIET_ZONE)]


def _image_placement(page: PageObject) -> tuple[float, float, float, float]:
    """(width, height, x, y) in points of the only image drawn on the page."""
    content = page.get_contents()
    assert content is not None
    found = re.findall(rb"([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm /I\d+ Do", content.get_data())
    assert len(found) == 1
    width, height, x, y = (float(value) for value in found[0])
    return width, height, x, y


@pytest.fixture(scope="module")
def short_ticket() -> PdfReader:
    return PdfReader(BytesIO(render_ticket_pdf(SHORT, issued_at=ISSUED_AT)))


def test_qr_holds_only_the_ticket_number() -> None:
    qr = ticket_qr("K7M2-QX9P")
    assert qr.designator == "1-H"
    assert qr.mode == "alphanumeric"
    assert not qr.is_micro
    # The same symbol as a QR code of the bare ticket number: no name, no date, no OMS number.
    assert qr == segno.make_qr("K7M2-QX9P", error="h")
    assert qr != segno.make_qr(f"K7M2-QX9P {LONG.patient_full_name}", error="h")


def test_qr_error_correction_is_at_least_m() -> None:
    for number in ("K7M2-QX9P", "А-0042", "X" * 16):
        assert ticket_qr(number).error in {"M", "Q", "H"}


def test_ticket_with_qr_is_still_one_page_with_every_field(short_ticket: PdfReader) -> None:
    assert len(short_ticket.pages) == 1
    text = _squash(short_ticket.pages[0].extract_text())
    for expected in (
        "№ K7M2-QX9P",
        LONG.organization_name,
        LONG.organization_address,
        LONG.doctor_full_name,
        LONG.service_name,
        LONG.patient_full_name,
        "четверг, 3 декабря 2026 г., 08:20",
        "Талон выдан: 1 декабря 2026 г., 14:05",
    ):
        assert _squash(expected) in text


def test_qr_image_is_the_ticket_numbers_symbol(short_ticket: PdfReader) -> None:
    assert _modules(short_ticket) == _expected_modules(segno.make_qr("K7M2-QX9P", error="h"))


def test_qr_has_a_quiet_zone(short_ticket: PdfReader) -> None:
    grid = _modules(short_ticket)
    side = len(grid)
    for index in range(QUIET_ZONE):
        for line in (grid[index], grid[side - 1 - index]):
            assert not any(line)
        for row in grid:
            assert not row[index]
            assert not row[side - 1 - index]


def test_qr_is_printed_large_enough_next_to_the_number(short_ticket: PdfReader) -> None:
    page = short_ticket.pages[0]
    width, height, x, y = _image_placement(page)
    assert width == height
    assert 30 * MM <= width <= 35 * MM
    box = page.mediabox
    assert 0 <= x <= float(box.width) - width
    assert 0 <= y <= float(box.height) - height

    number_baselines: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if "K7M2-QX9P" in text:
            number_baselines.append(tm[5])

    page.extract_text(visitor_text=visit)
    (baseline,) = number_baselines
    assert y <= baseline <= y + height


def test_qr_of_a_cyrillic_number_is_embedded_too(long_ticket: tuple[PdfReader, str]) -> None:
    reader, _ = long_ticket
    (page,) = reader.pages
    (image,) = page.images
    picture = image.image
    assert picture is not None
    expected = ticket_qr(LONG.ticket_number).symbol_size(scale=10, border=QUIET_ZONE)
    assert picture.size == expected


# ---- Language -------------------------------------------------------------------------------

CYRILLIC = re.compile(r"[\u0400-\u04FF]")
RUSSIAN_LABELS = (
    "Талон на приём к врачу",
    "№ А-0042",
    f"Телефон: {LONG.organization_phone}",
    "Дата и время",
    "Должность",
    "Услуга",
    "Пациент",
    "четверг, 3 декабря 2026 г., 08:20 (время местное, UTC+5)",
    "Приходите за 10–15 минут до приёма. Если не сможете прийти — отмените запись.",
    "Талон выдан: 1 декабря 2026 г., 14:05 (время местное, UTC+5)",
)
ENGLISH_LABELS = (
    "Doctor's appointment ticket",
    "No. А-0042",
    f"Phone: {LONG.organization_phone}",
    "Date and time",
    "Doctor",
    "Position",
    "Service",
    "Patient",
    "Thursday, December 3, 2026, 08:20 (local time, UTC+5)",
    "Please arrive 10–15 minutes before your appointment. If you cannot come, cancel the booking.",
    "Ticket issued: December 1, 2026, 14:05 (local time, UTC+5)",
)
# What the ticket prints as given, whatever the language (Cyrillic in the test data).
DATA = (
    LONG.organization_name,
    LONG.organization_address,
    LONG.doctor_full_name,
    LONG.doctor_position,
    LONG.service_name,
    LONG.patient_full_name,
    LONG.ticket_number,
    LONG.room or "",
    LONG.visit_notes or "",
)


def _labels_only(text: str) -> str:
    """The squashed text with the data values taken out: what is left is the ticket's own."""
    squashed = _squash(text)
    for value in sorted(DATA, key=len, reverse=True):
        assert _squash(value) in squashed
        squashed = squashed.replace(_squash(value), "")
    return squashed


def _assert_english(pdf: bytes) -> None:
    reader, text = _read(pdf)
    assert len(reader.pages) == 1
    squashed = _squash(text)
    for label in ENGLISH_LABELS:
        assert _squash(label) in squashed, label
    own = _labels_only(text)
    assert not CYRILLIC.search(own), own
    assert "№" not in own
    assert reader.metadata is not None
    assert reader.metadata.title == "Doctor's appointment ticket"


def _assert_russian(pdf: bytes) -> None:
    reader, text = _read(pdf)
    squashed = _squash(text)
    for label in RUSSIAN_LABELS:
        assert _squash(label) in squashed, label
    for label in ENGLISH_LABELS[:3]:
        assert _squash(label) not in squashed
    assert reader.metadata is not None
    assert reader.metadata.title == "Талон на приём к врачу"


def test_ticket_in_english() -> None:
    with use_locale("en"):
        pdf = render_ticket_pdf(LONG, issued_at=ISSUED_AT)
    _assert_english(pdf)


async def test_english_reaches_the_worker_thread() -> None:
    # render_ticket renders in asyncio.to_thread, which runs in a copy of the caller's context.
    with use_locale("en"):
        pdf = await render_ticket(LONG, issued_at=ISSUED_AT)
    _assert_english(pdf)


async def test_default_language_is_russian_in_the_worker_thread_too() -> None:
    _assert_russian(await render_ticket(LONG, issued_at=ISSUED_AT))


async def test_concurrent_tickets_keep_their_own_languages() -> None:
    async def render_in(locale: str) -> bytes:
        with use_locale(locale):
            return await render_ticket(LONG, issued_at=ISSUED_AT)

    russian, english, russian_again = await asyncio.gather(
        render_in("ru"), render_in("en"), render_in("ru")
    )
    _assert_russian(russian)
    _assert_english(english)
    _assert_russian(russian_again)


def test_english_language_ends_with_its_block() -> None:
    with use_locale("en"):
        render_ticket_pdf(LONG, issued_at=ISSUED_AT)
    _assert_russian(render_ticket_pdf(LONG, issued_at=ISSUED_AT))


def test_english_moscow_time() -> None:
    data = dataclasses.replace(
        LONG, starts_at=datetime(2026, 12, 3, 5, 20, tzinfo=UTC), timezone="Europe/Moscow"
    )
    with use_locale("en"):
        _, text = _read(render_ticket_pdf(data, issued_at=ISSUED_AT))
    squashed = _squash(text)
    assert _squash("Thursday, December 3, 2026, 08:20 (Moscow time)") in squashed
    assert _squash("Ticket issued: December 1, 2026, 12:05 (Moscow time)") in squashed
    assert not CYRILLIC.search(_labels_only(text))
