"""Ticket numbers to dictate over the phone: digits in threes, found however they are typed.

New tickets are "482 917 305" (bot/services/booking.py); older "LTQ5-VD92" ones stay valid.
The registry's /find (bot/services/staff/search.py) takes either, with or without spaces and
dashes, in any case; the patient's files are named by the number without spaces.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.delivery.documents import file_stem
from bot.services import booking_changes
from bot.services.booking import BookingLimits, new_ticket_number
from bot.services.reminder_policy import ReminderPolicy
from bot.services.staff.access import StaffAccess
from bot.services.staff.search import find_bookings, find_ticket, ticket_form
from bot.usecases import patient as patient_usecases
from bot.usecases.outcomes import Account, Changed, Rules
from db.models import Booking, Doctor, Slot, StaffRole
from tests.factories import Factory, visit_record

NEW_FORM = re.compile(r"[1-9][0-9]{2} [0-9]{3} [0-9]{3}")
DRAWS = 1000
EVERYWHERE = StaffAccess(1, StaffRole.ADMIN, ())


# ---- a new number ----------------------------------------------------------------------------


def test_a_new_ticket_number_is_three_groups_of_three_digits_never_led_by_zero() -> None:
    for _ in range(DRAWS):
        number = new_ticket_number()
        assert NEW_FORM.fullmatch(number), number
        assert len(number) <= 16  # the column is String(16)


def test_new_ticket_numbers_are_drawn_at_random() -> None:
    numbers = [new_ticket_number() for _ in range(DRAWS)]
    # Out of 900 million, a repeat among a thousand draws is about a 1 in 1800 chance; three
    # repeats would take a broken generator.
    assert len(set(numbers)) >= DRAWS - 2
    assert {n[0] for n in numbers} == set("123456789")
    for position in (1, 2, 4, 5, 6, 8, 9, 10):
        assert {n[position] for n in numbers} == set("0123456789"), position


@pytest.mark.parametrize(
    ("drawn", "number"), [(0, "100 000 000"), (900_000_000 - 1, "999 999 999")]
)
def test_a_new_ticket_number_spans_100_000_000_to_999_999_999(
    monkeypatch: pytest.MonkeyPatch, drawn: int, number: str
) -> None:
    bounds: list[int] = []

    def randbelow(bound: int) -> int:
        bounds.append(bound)
        return drawn

    monkeypatch.setattr(secrets, "randbelow", randbelow)
    assert new_ticket_number() == number
    assert bounds == [900_000_000]  # from `secrets`, over every allowed number


# ---- the canonical form ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "482 917 305",
        "482917305",
        "482-917-305",
        "482 917305",
        " 482 917 305 ",
        "482  917 - 305",
        "482–917–305",  # a phone's autocorrected dash
        "\u00a0482\u00a0917\u00a0305\n",  # pasted with no-break spaces
    ],
)
def test_a_new_number_typed_any_way_is_its_stored_form(typed: str) -> None:
    assert ticket_form(typed) == "482 917 305"


@pytest.mark.parametrize(
    "typed", ["LTQ5-VD92", "ltq5vd92", "LTQ5 VD92", " ltq5-vd92 ", "Ltq5Vd92", "LTQ5 - VD92"]
)
def test_an_old_number_typed_any_way_is_its_stored_form(typed: str) -> None:
    assert ticket_form(typed) == "LTQ5-VD92"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("7788899730000765", "7788899730000765"),  # a 16-digit OMS number stays as typed
        ("48291730", "4829-1730"),  # eight characters: an old number's length
        ("4829173051", "4829173051"),  # ten digits: no ticket's length
        ("48291730５", "48291730５"),  # a full-width digit is not a ticket's
        ("Петров", "ПЕТРОВ"),
        ("Кузнецов", "КУЗНЕЦОВ"),  # eight letters, but not an old number's alphabet
        ("T-0001", "T-0001"),  # an imported number
    ],
)
def test_anything_else_is_only_trimmed_and_upper_cased(typed: str, kept: str) -> None:
    assert ticket_form(typed) == kept


def test_the_files_are_named_by_the_number_without_spaces() -> None:
    assert file_stem(visit_record(ticket_number="482 917 305")) == "talon-482917305"
    assert file_stem(visit_record(ticket_number="LTQ5-VD92")) == "talon-LTQ5-VD92"


# ---- the registry's search ------------------------------------------------------------------


async def _doctor(factory: Factory) -> Doctor:
    org = await factory.organization(code="gp1")
    return await factory.doctor(org, hours={d: (time(8), time(12)) for d in range(7)})


async def _slots(factory: Factory, doctor: Doctor, count: int) -> list[Slot]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    slots = [
        Slot(
            doctor_id=doctor.id,
            starts_at=start + timedelta(minutes=20 * n),
            ends_at=start + timedelta(minutes=20 * (n + 1)),
        )
        for n in range(count)
    ]
    factory.session.add_all(slots)
    await factory.session.commit()
    return slots


async def test_find_takes_new_and_old_numbers_however_typed(factory: Factory) -> None:
    doctor = await _doctor(factory)
    new_slot, old_slot = await _slots(factory, doctor, 2)
    new = await factory.booking(slot=new_slot)
    old = await factory.booking(slot=old_slot)
    old.ticket_number = "LTQ5-VD92"
    await factory.session.commit()
    digits = new.ticket_number.replace(" ", "")
    groups = new.ticket_number.split(" ")
    for typed, wanted in (
        (new.ticket_number, new),
        (digits, new),
        ("-".join(groups), new),
        (f"{groups[0]} {groups[1]}{groups[2]}", new),
        (f"  {new.ticket_number}  ", new),
        ("LTQ5-VD92", old),
        ("ltq5vd92", old),
        ("LTQ5 VD92", old),
    ):
        found = await find_bookings(factory.session, query=typed, access=EVERYWHERE)
        assert [b.id for b in found] == [wanted.id], typed
        ticket = await find_ticket(factory.session, query=typed, access=EVERYWHERE)
        assert ticket is not None
        assert ticket.id == wanted.id, typed


async def test_a_nine_digit_oms_number_still_finds_its_patient(factory: Factory) -> None:
    # Older OMS policies have 6 to 16 digits: nine digits are a ticket's and an OMS's length.
    doctor = await _doctor(factory)
    [slot] = await _slots(factory, doctor, 1)
    patient = await factory.patient(oms="123456789")
    booking = await factory.booking(slot=slot, patient=patient)
    for typed in ("123456789", "123 456 789"):
        found = await find_bookings(factory.session, query=typed, access=EVERYWHERE)
        assert [b.id for b in found] == [booking.id], typed
        # … but it is no ticket number.
        assert await find_ticket(factory.session, query=typed, access=EVERYWHERE) is None


async def test_find_ticket_keeps_to_the_staff_members_organizations(factory: Factory) -> None:
    doctor = await _doctor(factory)
    [slot] = await _slots(factory, doctor, 1)
    booking = await factory.booking(slot=slot)
    elsewhere = StaffAccess(2, StaffRole.REGISTRAR, ("gp2",))
    assert await find_ticket(factory.session, query=booking.ticket_number, access=elsewhere) is None
    here = StaffAccess(2, StaffRole.REGISTRAR, ("gp1",))
    found = await find_ticket(factory.session, query=booking.ticket_number, access=here)
    assert found is not None
    assert found.id == booking.id


# ---- a clash is drawn again ------------------------------------------------------------------


async def test_a_clashing_number_is_drawn_again(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = await _doctor(factory)
    taken_slot, free_slot = await _slots(factory, doctor, 2)
    taken = (await factory.booking(slot=taken_slot)).ticket_number
    drawn: Iterator[str] = iter([taken, "123 456 789"])
    monkeypatch.setattr(booking_changes, "new_ticket_number", lambda: next(drawn))
    patient = await factory.patient(oms="7788899730000765")
    await factory.session.refresh(doctor, ["services"])
    outcome = await patient_usecases.book(
        factory.session,
        slot_id=free_slot.id,
        service_id=doctor.services[0].id,
        patient_id=patient.id,
        account=Account(user_id=501, chat_id=501),
        now=datetime.now(UTC),
        rules=Rules(
            reminders=ReminderPolicy(),
            limits=BookingLimits(),
            cutoff=timedelta(0),
            horizon_days=30,
        ),
    )
    assert isinstance(outcome, Changed), outcome
    assert outcome.visit.ticket_number == "123 456 789"
    numbers = (await factory.session.scalars(select(Booking.ticket_number))).all()
    assert sorted(numbers) == sorted([taken, "123 456 789"])
    assert next(drawn, None) is None  # drawn exactly twice
