"""Calendar files (.ics) for a booking: the visit to add to a calendar, and its cancellation.

The files say where and when, with whom and which ticket; never who the patient is (no name,
no OMS policy number): they are forwarded, synced to cloud calendars and shown on lock screens.
Their texts (bot/locales/<language>/documents.ftl, keys calendar-…) are in the current language.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, Timezone

from bot.i18n import t
from bot.services.visits import VisitRecord

__all__ = ["PRODID", "booking_cancellation", "booking_event", "calendar_uid"]

PRODID: Final = "-//Talon//Talon booking bot//RU"
_REMIND_BEFORE: Final = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class _Visit:
    uid: str
    ticket_number: str
    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo
    organization_name: str
    organization_address: str
    organization_phone: str
    doctor_full_name: str
    doctor_position: str
    service_name: str
    room: str | None
    visit_notes: str | None
    sequence: int
    now: datetime


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {name!r}") from exc


def calendar_uid(booking_id: int, installation: str) -> str:
    """Stable per booking: a calendar updates (or cancels) the event it already has.

    `installation` is the database's installation id (bot/services/installation.py
    `installation_uid`): booking 1 of one registry and booking 1 of another are different
    events in a patient's calendar.
    """
    if not installation:
        raise ValueError("the installation id must not be empty")
    return f"booking-{booking_id}-{installation}@talon"


def _visit(visit: VisitRecord, *, now: datetime, installation: str) -> _Visit:
    # A naive datetime would be read in the server's zone and move the visit by hours.
    for name, value in (("starts_at", visit.starts_at), ("ends_at", visit.ends_at), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if visit.ends_at <= visit.starts_at:
        raise ValueError("ends_at must be after starts_at")
    if visit.revision < 0:
        raise ValueError("sequence must not be negative")
    zone = _zone(visit.timezone)
    return _Visit(
        uid=calendar_uid(visit.booking_id, installation),
        ticket_number=visit.ticket_number,
        starts_at=visit.starts_at.astimezone(zone),
        ends_at=visit.ends_at.astimezone(zone),
        zone=zone,
        organization_name=visit.organization_name,
        organization_address=visit.organization_address,
        organization_phone=visit.organization_phone,
        doctor_full_name=visit.doctor_full_name,
        doctor_position=visit.doctor_position,
        service_name=visit.service_name,
        room=visit.room,
        visit_notes=visit.visit_notes,
        # The booking's revision rises at every change: the event's SEQUENCE.
        sequence=visit.revision,
        now=now.astimezone(UTC),
    )


@functools.lru_cache(maxsize=64)
def _vtimezone(zone_key: str, tzid: str, first_year: int, last_year: int) -> Timezone:
    # Building a VTIMEZONE walks the zone's transitions (~10 ms); the component is only ever
    # serialized, never handed out or changed, so one object can serve every file.
    return Timezone.from_tzinfo(
        ZoneInfo(zone_key),
        tzid=tzid,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year, 1, 1),
    )


def _calendar(method: str, visit: _Visit, event: Event) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    # RFC 5545 wants a VTIMEZONE for every TZID used, with the same TZID. A UTC zone is
    # written as "...Z" with no TZID, and then there is nothing to describe.
    tzid = event["DTSTART"].params.get("TZID")
    if tzid:
        # From the year before the visit to a year past it: the visit, its reminder and a
        # calendar's view around them, with the DST rules where the zone has any.
        calendar.add_component(
            _vtimezone(visit.zone.key, tzid, visit.starts_at.year - 1, visit.ends_at.year + 2)
        )
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def _event(visit: _Visit, *, summary: str, description: str, status: str) -> Event:
    event = Event()
    event.add("uid", visit.uid)
    event.add("dtstamp", visit.now)
    event.add("dtstart", visit.starts_at)
    event.add("dtend", visit.ends_at)
    event.add("sequence", visit.sequence)
    event.add("status", status)
    event.add("summary", summary)
    # The room first: a phone's calendar shows the start of the location in its day view.
    place = (visit.room, visit.organization_name, visit.organization_address)
    event.add("location", ", ".join(part for part in place if part))
    event.add("description", description)
    return event


def _summary(visit: _Visit) -> str:
    return t("calendar-summary", service=visit.service_name, doctor=visit.doctor_full_name)


def _doctor(visit: _Visit) -> str:
    return t("calendar-doctor", position=visit.doctor_position, doctor=visit.doctor_full_name)


def booking_event(record: VisitRecord, *, now: datetime, installation: str) -> bytes:
    """The visit as an .ics file (METHOD:PUBLISH) with a reminder two hours before.

    The UID is stable per booking (and names the installation, `calendar_uid`) and the
    SEQUENCE is the booking's revision, so that a calendar updates the event it already has
    after a move.
    """
    visit = _visit(record, now=now, installation=installation)
    summary = _summary(visit)
    description = "\n".join(
        (
            _doctor(visit),
            t("calendar-ticket", ticket=visit.ticket_number),
            t("calendar-phone", phone=visit.organization_phone),
            t("calendar-arrive-early"),
            *([visit.visit_notes] if visit.visit_notes else []),
        )
    )
    event = _event(visit, summary=summary, description=description, status="CONFIRMED")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -_REMIND_BEFORE)
    alarm.add("description", summary)
    event.add_component(alarm)
    return _calendar("PUBLISH", visit, event)


def booking_cancellation(record: VisitRecord, *, now: datetime, installation: str) -> bytes:
    """The cancellation of the event `booking_event` made (METHOD:CANCEL, STATUS:CANCELLED),
    with the same UID and the revision the cancellation raised as SEQUENCE."""
    visit = _visit(record, now=now, installation=installation)
    description = "\n".join(
        (
            t("calendar-cancelled", ticket=visit.ticket_number),
            _doctor(visit),
            t("calendar-phone", phone=visit.organization_phone),
        )
    )
    event = _event(
        visit,
        summary=t("calendar-cancelled-summary", summary=_summary(visit)),
        description=description,
        status="CANCELLED",
    )
    return _calendar("CANCEL", visit, event)
