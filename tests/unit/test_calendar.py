from __future__ import annotations

import dataclasses
import functools
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar, Component

from bot.i18n import use_locale
from bot.services import calendar as ics
from bot.services.calendar import PRODID, calendar_uid
from bot.services.installation import (
    NoInstallationError,
    Purpose,
    installation_uid,
    record_installation,
)
from db.engine import open_database
from db.models import BookingStatus
from tests import databases
from tests.factories import visit_record

# The database's installation id, as bot/services/installation.py writes it.
INSTALLATION = "0b6f3c5e-8d2a-4f71-9c4e-5a1d2e3f4b6c"
booking_event = functools.partial(ics.booking_event, installation=INSTALLATION)
booking_cancellation = functools.partial(ics.booking_cancellation, installation=INSTALLATION)

BOOKING = visit_record(
    booking_id=42,
    ticket_number="K7M2-QX9P",
    # 03:20 UTC is 08:20 in Yekaterinburg (UTC+5 all year).
    starts_at=datetime(2026, 12, 3, 3, 20, tzinfo=UTC),
    ends_at=datetime(2026, 12, 3, 3, 40, tzinfo=UTC),
    timezone="Asia/Yekaterinburg",
    organization_name="ГБУЗ СО «Городская поликлиника № 3»",
    organization_address=(
        "г. Екатеринбург, ул. Академика Королёва, д. 28; корп. 1, стр. 2, "
        "регистратура на первом этаже, вход со стороны двора"
    ),
    organization_phone="+7 (343) 123-45-67",
    doctor_full_name="Римская-Корсакова Анна-Мария Вячеславовна",
    doctor_position="Врач-оториноларинголог",
    service_name="Первичный приём врача-оториноларинголога",
)
# The cancellation raised the booking's revision once.
CANCELLED = dataclasses.replace(BOOKING, status=BookingStatus.CANCELLED, revision=1)
NOW = datetime(2026, 12, 1, 14, 5, tzinfo=timezone(timedelta(hours=5)))


def _parse(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def _event(calendar: Calendar) -> Component:
    (event,) = calendar.walk("VEVENT")
    return event


def _lines(data: bytes) -> list[str]:
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    return data.decode("utf-8").split("\r\n")[:-1]


@pytest.fixture(scope="module")
def published() -> bytes:
    return booking_event(BOOKING, now=NOW)


@pytest.fixture(scope="module")
def cancelled() -> bytes:
    return booking_cancellation(CANCELLED, now=NOW)


def test_calendar_header(published: bytes) -> None:
    calendar = _parse(published)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["PRODID"]) == "-//Talon//Talon booking bot//RU" == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    lines = _lines(published)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"


def test_one_confirmed_event_with_the_booking_uid(published: bytes) -> None:
    calendar = _parse(published)
    event = _event(calendar)
    assert str(event["UID"]) == f"booking-42-{INSTALLATION}@talon"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("SEQUENCE") == 0
    assert len(calendar.walk("VEVENT")) == 1


def test_uid_is_stable_and_the_file_deterministic() -> None:
    first = booking_event(BOOKING, now=NOW)
    assert booking_event(BOOKING, now=NOW) == first
    day = timedelta(days=1)
    moved = booking_event(
        dataclasses.replace(
            BOOKING, starts_at=BOOKING.starts_at + day, ends_at=BOOKING.ends_at + day, revision=1
        ),
        now=NOW + timedelta(hours=1),
    )
    assert str(_event(_parse(moved))["UID"]) == str(_event(_parse(first))["UID"])
    assert _event(_parse(moved)).decoded("SEQUENCE") == 1


def test_start_and_end_are_in_the_organization_zone(published: bytes) -> None:
    event = _event(_parse(published))
    assert event["DTSTART"].params["TZID"] == "Asia/Yekaterinburg"
    assert event["DTEND"].params["TZID"] == "Asia/Yekaterinburg"
    lines = _lines(published)
    assert "DTSTART;TZID=Asia/Yekaterinburg:20261203T082000" in lines
    assert "DTEND;TZID=Asia/Yekaterinburg:20261203T084000" in lines
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (8, 20)
    assert start.utcoffset() == timedelta(hours=5)
    assert start == BOOKING.starts_at
    assert event.decoded("DTEND") == BOOKING.ends_at


def test_dtstamp_is_now_in_utc(published: bytes) -> None:
    assert "DTSTAMP:20261201T090500Z" in _lines(published)
    assert _event(_parse(published)).decoded("DTSTAMP") == NOW


def test_vtimezone_describes_the_zone_before_the_event(published: bytes) -> None:
    calendar = _parse(published)
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Yekaterinburg"
    offsets = {sub.decoded("TZOFFSETTO") for sub in zone.subcomponents if sub.name == "STANDARD"}
    assert offsets == {timedelta(hours=5)}
    lines = _lines(published)
    assert lines.index("BEGIN:VTIMEZONE") < lines.index("BEGIN:VEVENT")


@pytest.mark.parametrize(
    ("zone", "starts_at", "wall_time"),
    [
        ("Europe/Moscow", datetime(2026, 12, 3, 5, 20, tzinfo=UTC), "20261203T082000"),
        ("Asia/Vladivostok", datetime(2026, 12, 31, 20, 30, tzinfo=UTC), "20270101T063000"),
        # Summer time: 09:00 UTC is 05:00 EDT; the VTIMEZONE must carry the DST rules.
        ("America/New_York", datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "20260601T050000"),
        ("Asia/Kolkata", datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "20260601T143000"),
    ],
)
def test_other_zones_round_trip(zone: str, starts_at: datetime, wall_time: str) -> None:
    data = booking_event(
        dataclasses.replace(
            BOOKING,
            timezone=zone,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=20),
        ),
        now=NOW,
    )
    assert f"DTSTART;TZID={zone}:{wall_time}" in _lines(data)
    calendar = _parse(data)
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == zone
    assert _event(calendar).decoded("DTSTART") == starts_at


def test_new_york_vtimezone_has_daylight_time() -> None:
    starts_at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    data = booking_event(
        dataclasses.replace(
            BOOKING,
            timezone="America/New_York",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=20),
        ),
        now=NOW,
    )
    (vtimezone,) = _parse(data).walk("VTIMEZONE")
    daylight = [sub for sub in vtimezone.subcomponents if sub.name == "DAYLIGHT"]
    assert daylight
    assert {sub.decoded("TZOFFSETTO") for sub in daylight} == {timedelta(hours=-4)}


def test_utc_zone_needs_no_vtimezone() -> None:
    data = booking_event(dataclasses.replace(BOOKING, timezone="UTC"), now=NOW)
    assert "DTSTART:20261203T032000Z" in _lines(data)
    assert not _parse(data).walk("VTIMEZONE")


def test_summary_location_and_description_keep_cyrillic(published: bytes) -> None:
    event = _event(_parse(published))
    assert str(event["SUMMARY"]) == (
        "Приём: Первичный приём врача-оториноларинголога — "
        "Римская-Корсакова Анна-Мария Вячеславовна"
    )
    assert str(event["LOCATION"]) == (
        f"{BOOKING.organization_name}, {BOOKING.organization_address}"
    )
    description = str(event["DESCRIPTION"])
    assert "Врач-оториноларинголог: Римская-Корсакова Анна-Мария Вячеславовна" in description
    assert "K7M2-QX9P" in description
    assert "+7 (343) 123-45-67" in description


def test_the_room_leads_the_location_and_the_notes_are_described() -> None:
    visit = dataclasses.replace(
        BOOKING, room="каб. 214, 2 этаж", visit_notes="Возьмите паспорт и полис ОМС."
    )
    event = _event(_parse(booking_event(visit, now=NOW)))
    assert str(event["LOCATION"]) == (
        f"каб. 214, 2 этаж, {BOOKING.organization_name}, {BOOKING.organization_address}"
    )
    assert "Возьмите паспорт и полис ОМС." in str(event["DESCRIPTION"])


def test_commas_and_semicolons_are_escaped_and_survive(published: bytes) -> None:
    raw = published.decode("utf-8")
    assert "Екатеринбург\\, ул." in raw
    assert "д. 28\\; корп. 1" in raw
    location = str(_event(_parse(published))["LOCATION"])
    assert "г. Екатеринбург, ул. Академика Королёва, д. 28; корп. 1, стр. 2," in location


def test_long_lines_are_folded_to_75_octets(published: bytes) -> None:
    lines = _lines(published)
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines), "the long LOCATION must be folded"


def test_display_alarm_two_hours_before(published: bytes) -> None:
    (alarm,) = _event(_parse(published)).walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(hours=-2)
    assert alarm["TRIGGER"].params.get("RELATED", "START") == "START"
    assert "Римская-Корсакова" in str(alarm["DESCRIPTION"])


def test_only_the_listed_properties_no_patient_data(published: bytes) -> None:
    event = _event(_parse(published))
    assert set(event) == {
        "UID",
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "SEQUENCE",
        "STATUS",
        "SUMMARY",
        "LOCATION",
        "DESCRIPTION",
    }
    for word in ("ATTENDEE", "ORGANIZER", "CONTACT", "ОМС", "Пациент"):
        assert word not in published.decode("utf-8")


def test_sequence_is_the_booking_revision() -> None:
    revised = dataclasses.replace(BOOKING, revision=3)
    assert "SEQUENCE:3" in _lines(booking_event(revised, now=NOW))
    cancelled = dataclasses.replace(revised, status=BookingStatus.CANCELLED, revision=4)
    assert "SEQUENCE:4" in _lines(booking_cancellation(cancelled, now=NOW))


def test_cancellation(published: bytes, cancelled: bytes) -> None:
    calendar = _parse(cancelled)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(calendar["PRODID"]) == PRODID
    event = _event(calendar)
    assert (
        str(event["UID"])
        == str(_event(_parse(published))["UID"])
        == f"booking-42-{INSTALLATION}@talon"
    )
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") == 1
    assert event.decoded("DTSTART") == BOOKING.starts_at
    assert "DTSTART;TZID=Asia/Yekaterinburg:20261203T082000" in _lines(cancelled)
    assert calendar.walk("VTIMEZONE")
    assert not event.walk("VALARM")
    assert "Отменено" in str(event["SUMMARY"])
    assert "K7M2-QX9P" in str(event["DESCRIPTION"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"starts_at": datetime(2026, 12, 3, 8, 20)}, "starts_at"),
        ({"ends_at": datetime(2026, 12, 3, 8, 40)}, "ends_at"),
        ({"ends_at": BOOKING.starts_at}, "after"),
        ({"timezone": "Mars/Olympus_Mons"}, "time zone"),
    ],
)
def test_bad_input_is_rejected(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        booking_event(dataclasses.replace(BOOKING, **change), now=NOW)
    with pytest.raises(ValueError, match=message):
        booking_cancellation(dataclasses.replace(CANCELLED, **change), now=NOW)


def test_naive_now_and_negative_revision_are_rejected() -> None:
    with pytest.raises(ValueError, match="now"):
        booking_event(BOOKING, now=datetime(2026, 12, 1, 9, 5))
    with pytest.raises(ValueError, match="now"):
        booking_cancellation(CANCELLED, now=datetime(2026, 12, 1, 9, 5))
    with pytest.raises(ValueError, match="negative"):
        booking_event(dataclasses.replace(BOOKING, revision=-1), now=NOW)
    with pytest.raises(ValueError, match="negative"):
        booking_cancellation(dataclasses.replace(CANCELLED, revision=-1), now=NOW)


def test_calendar_uid_is_stable_per_booking_and_differs_between_bookings() -> None:
    assert calendar_uid(42, INSTALLATION) == f"booking-42-{INSTALLATION}@talon"
    assert calendar_uid(42, INSTALLATION) == calendar_uid(42, INSTALLATION)
    assert calendar_uid(43, INSTALLATION) != calendar_uid(42, INSTALLATION)
    # The UID follows the booking, not what changes in it: a move keeps it, another booking
    # (even at the same time with the same ticket number) gets its own.
    day = timedelta(days=1)
    moved = dataclasses.replace(
        BOOKING, starts_at=BOOKING.starts_at + day, ends_at=BOOKING.ends_at + day, revision=1
    )
    other = dataclasses.replace(BOOKING, booking_id=43)
    uids = {
        name: str(_event(_parse(data))["UID"])
        for name, data in (
            ("published", booking_event(BOOKING, now=NOW)),
            ("moved", booking_event(moved, now=NOW)),
            ("cancelled", booking_cancellation(CANCELLED, now=NOW)),
            ("other", booking_event(other, now=NOW)),
        )
    }
    assert uids["published"] == uids["moved"] == uids["cancelled"] == calendar_uid(42, INSTALLATION)
    assert uids["other"] == calendar_uid(43, INSTALLATION) != uids["published"]


def _uid(data: bytes) -> str:
    return str(_event(_parse(data))["UID"])


def test_the_uid_names_the_installation_in_the_event_and_its_cancellation() -> None:
    published = _uid(ics.booking_event(BOOKING, now=NOW, installation=INSTALLATION))
    cancelled = _uid(ics.booking_cancellation(CANCELLED, now=NOW, installation=INSTALLATION))
    assert published == cancelled == f"booking-42-{INSTALLATION}@talon"
    # Booking 42 of another installation is another event.
    elsewhere = _uid(ics.booking_event(BOOKING, now=NOW, installation="another"))
    assert elsewhere == "booking-42-another@talon" != published
    with pytest.raises(ValueError, match="installation"):
        calendar_uid(42, "")


async def _installation_of(path: Path, *, recorded: bool = True) -> str:
    async with open_database(await databases.database_url(path)) as db:
        async with db.sessions() as session:
            if recorded:
                await record_installation(session, purpose=Purpose.BOT, now=NOW)
        # Read anew, as a later update would: the same id every time.
        async with db.sessions() as session:
            first = await installation_uid(session)
        async with db.sessions() as session:
            assert await installation_uid(session) == first
        return first


async def test_two_databases_give_booking_1_different_uids(tmp_path: Path) -> None:
    first = await _installation_of(tmp_path / "first.sqlite3")
    second = await _installation_of(tmp_path / "second.sqlite3")
    assert first != second
    booking_1 = visit_record(booking_id=1)
    uids = {
        _uid(ics.booking_event(booking_1, now=NOW, installation=installation))
        for installation in (first, second)
    }
    assert uids == {f"booking-1-{first}@talon", f"booking-1-{second}@talon"}
    # The same database opened again (a restart) keeps its id, so its bookings keep their UIDs.
    assert await _installation_of(tmp_path / "first.sqlite3") == first
    assert await _installation_of(tmp_path / "first.sqlite3", recorded=False) == first


async def test_a_database_without_its_installation_row_gives_no_uid(tmp_path: Path) -> None:
    with pytest.raises(NoInstallationError, match="installation record"):
        await _installation_of(tmp_path / "bare.sqlite3", recorded=False)


# ---- Language -------------------------------------------------------------------------------

CYRILLIC = re.compile(r"[\u0400-\u04FF]")
# What the file carries as given, whatever the language (Cyrillic in the test data).
DATA = (
    BOOKING.organization_name,
    BOOKING.organization_address,
    BOOKING.doctor_full_name,
    BOOKING.doctor_position,
    BOOKING.service_name,
)
SUMMARY_RU = (
    "Приём: Первичный приём врача-оториноларинголога — Римская-Корсакова Анна-Мария Вячеславовна"
)
SUMMARY_EN = (
    "Appointment: Первичный приём врача-оториноларинголога — "
    "Римская-Корсакова Анна-Мария Вячеславовна"
)
DOCTOR_LINE = "Врач-оториноларинголог: Римская-Корсакова Анна-Мария Вячеславовна"


def _texts(data: bytes) -> str:
    """Every text the file shows (summaries, descriptions, location), data values taken out."""
    calendar = _parse(data)
    parts = [
        str(component[name])
        for component in (*calendar.walk("VEVENT"), *calendar.walk("VALARM"))
        for name in ("SUMMARY", "DESCRIPTION", "LOCATION")
        if name in component
    ]
    joined = "\n".join(parts)
    for value in sorted(DATA, key=len, reverse=True):
        joined = joined.replace(value, "")
    return joined


def test_event_in_english() -> None:
    with use_locale("en"):
        data = booking_event(BOOKING, now=NOW)
    event = _event(_parse(data))
    assert str(event["SUMMARY"]) == SUMMARY_EN
    assert str(event["DESCRIPTION"]).split("\n") == [
        DOCTOR_LINE,
        "Ticket No. K7M2-QX9P",
        "Phone: +7 (343) 123-45-67",
        "Please arrive 10–15 minutes before your appointment.",
    ]
    (alarm,) = event.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == SUMMARY_EN
    own = _texts(data)
    assert not CYRILLIC.search(own), own
    assert "№" not in own


def test_cancellation_in_english() -> None:
    with use_locale("en"):
        data = booking_cancellation(CANCELLED, now=NOW)
    event = _event(_parse(data))
    assert str(event["SUMMARY"]) == f"Cancelled — {SUMMARY_EN}"
    assert str(event["DESCRIPTION"]).split("\n") == [
        "Booking cancelled. Ticket No. K7M2-QX9P is no longer valid.",
        DOCTOR_LINE,
        "Phone: +7 (343) 123-45-67",
    ]
    own = _texts(data)
    assert not CYRILLIC.search(own), own


def test_event_in_the_default_language_is_russian(published: bytes) -> None:
    event = _event(_parse(published))
    assert str(event["SUMMARY"]) == SUMMARY_RU
    assert str(event["DESCRIPTION"]).split("\n") == [
        DOCTOR_LINE,
        "Талон № K7M2-QX9P",
        "Телефон: +7 (343) 123-45-67",
        "Приходите за 10–15 минут до приёма.",
    ]
    (alarm,) = event.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == SUMMARY_RU


def test_cancellation_in_the_default_language_is_russian(cancelled: bytes) -> None:
    event = _event(_parse(cancelled))
    assert str(event["SUMMARY"]) == f"Отменено — {SUMMARY_RU}"
    assert str(event["DESCRIPTION"]).split("\n") == [
        "Запись отменена. Талон № K7M2-QX9P недействителен.",
        DOCTOR_LINE,
        "Телефон: +7 (343) 123-45-67",
    ]


def test_english_does_not_outlive_its_block() -> None:
    with use_locale("en"):
        english = booking_event(BOOKING, now=NOW)
    russian = booking_event(BOOKING, now=NOW)
    assert english != russian
    assert str(_event(_parse(russian))["SUMMARY"]) == SUMMARY_RU
    # Only the texts differ: the same event for a calendar (UID, times, sequence).
    for name in ("UID", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "LOCATION"):
        assert _event(_parse(english))[name] == _event(_parse(russian))[name]
