from __future__ import annotations

import dataclasses
import importlib.resources
import re
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO

import pytest
from pypdf import PdfReader

from bot.services import ticket
from bot.services.ticket import TicketData, render_ticket, render_ticket_pdf

LONG = TicketData(
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
    # 03:20 UTC is 08:20 in Yekaterinburg (UTC+5 all year).
    starts_at=datetime(2026, 12, 3, 3, 20, tzinfo=UTC),
    timezone="Asia/Yekaterinburg",
    issued_at=datetime(2026, 12, 1, 9, 5, tzinfo=UTC),
)


def _squash(text: str) -> str:
    # Wrapping may break a line at any space or after a hyphen, so compare without whitespace.
    return re.sub(r"\s+", "", text)


def _read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def long_ticket() -> tuple[PdfReader, str]:
    return _read(render_ticket_pdf(LONG))


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
    ],
)
def test_every_field_is_printed(long_ticket: tuple[PdfReader, str], expected: str) -> None:
    _, text = long_ticket
    assert _squash(expected) in _squash(text)


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
    _, text = _read(render_ticket_pdf(data))
    squashed = _squash(text)
    assert _squash(expected_date) in squashed
    assert _squash(expected_zone) in squashed


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 12, 3, 8, 20)
    with pytest.raises(ValueError, match="starts_at"):
        dataclasses.replace(LONG, starts_at=naive)
    with pytest.raises(ValueError, match="issued_at"):
        dataclasses.replace(LONG, issued_at=naive)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_unknown_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        dataclasses.replace(LONG, timezone=zone)


async def test_async_wrapper_renders_the_same_ticket() -> None:
    pdf = await render_ticket(LONG)
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF-")
    reader, text = _read(pdf)
    assert len(reader.pages) == 1
    assert _squash(LONG.patient_full_name) in _squash(text)


def test_font_files_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ticket._font_files.cache_clear()
    render_ticket_pdf(LONG)

    def no_disk(*_: object) -> None:
        raise AssertionError("font files must not be read again")

    monkeypatch.setattr(importlib.resources, "files", no_disk)
    second = render_ticket_pdf(LONG)

    info = ticket._font_files.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert "Талон" in _read(second)[1]
