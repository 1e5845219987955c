"""Per-patient limits hold when many accounts book for one patient at the same moment.

Every account here knows the same registry patient's data, walks the whole dialogue up to
the last message (the birth date, which books), and then all of them send it at once: the
bot handles the updates concurrently, each in its own transaction on its own connection.
Only one booking per doctor, and five in all, may come out of it; every other account is
told which limit it hit.
"""

from __future__ import annotations

import asyncio
from datetime import time

from sqlalchemy import func, select

from bot.services.booking import LimitReason
from bot.services.catalog import bump_reference_version
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from bot.standin.html import parse_html
from bot.startup import refresh_slots
from bot.texts import refusal
from bot.usecases.outcomes import OverLimit
from db.models import Booking, BookingStatus, Doctor, Organization, Patient, Slot
from tests.e2e.flow import PETROV, open_day
from tests.factories import Factory

ACCOUNTS = 10
SURGEON = {"service": "Приём хирурга", "doctor": "Врач-хирург — Петренко О. И."}
SURGERY_DAY = "ср 02.12 · 08:00–20:00"
# Ten different free times of Petrenko's Wednesday, all on the first page of times.
SURGERY_TIMES = [f"{h:02d}:{m:02d}" for h in (8, 9, 10) for m in (0, 15, 30, 45)][:ACCOUNTS]
# The extra doctors of the second test: each works Wednesday 08:00–09:00 in 30-minute slots.
EXTRA_DAY = "ср 02.12 · 08:00–09:00"
WEDNESDAY = 2
LAST_NAMES = [
    "Алексеева",
    "Борисова",
    "Волкова",
    "Григорьева",
    "Дмитриева",
    "Егорова",
    "Жукова",
    "Зайцева",
    "Козлова",
    "Лебедева",
    "Макарова",
]
PER_SERVICE = 6  # below the 8 doctors a page shows, so every doctor is one press away


def refusal_text(reason: LimitReason, detail: str) -> str:
    """The refusal as the chat shows it: the bot's own rendering, HTML applied."""
    return parse_html(refusal(OverLimit(reason, detail)))[0]


async def walk_to_the_last_step(user: SimUser, *, time_label: str, **where: str) -> None:
    """Everything up to, not including, the birth date that books."""
    await open_day(user, **where)
    await user.click(time_label)
    await user.click("Принимаю")
    await user.send(PETROV["oms"])
    await user.send(PETROV["document"])
    assert "Шаг 3 из 3" in (user.last_bot_message.text or "")


async def race(users: list[SimUser]) -> dict[int, list[str]]:
    """All the accounts send the birth date at once; what each chat got afterwards."""
    seen = {user.user.id: len(user.bot_messages) for user in users}
    await asyncio.gather(*(user.send(PETROV["birth_date"]) for user in users))
    return {
        user.user.id: [m.text or "" for m in user.bot_messages[seen[user.user.id] :]]
        for user in users
    }


async def active_bookings(harness: BotHarness) -> list[Booking]:
    async with harness.database.sessions() as session:
        rows = await session.scalars(
            select(Booking).where(Booking.status == BookingStatus.ACTIVE).order_by(Booking.id)
        )
        return list(rows.all())


def assert_refused(
    replies: dict[int, list[str]], *, winners: set[int], expected: str, losers: int
) -> None:
    """Every account that booked nothing was told the limit; none that booked was."""
    refused = {user_id for user_id, texts in replies.items() if expected in texts}
    assert len(refused) == losers, replies
    assert refused.isdisjoint(winners)
    assert refused | winners == set(replies)


async def test_ten_accounts_one_patient_one_doctor_book_once(harness: BotHarness) -> None:
    users = [harness.user(8100 + n, "Пётр") for n in range(ACCOUNTS)]
    # The walks are independent accounts: run them side by side to keep the test fast.
    await asyncio.gather(
        *(
            walk_to_the_last_step(user, time_label=label, **SURGEON, day=SURGERY_DAY)
            for user, label in zip(users, SURGERY_TIMES, strict=True)
        )
    )

    replies = await race(users)

    bookings = await active_bookings(harness)
    assert len(bookings) == 1, f"{len(bookings)} active bookings with one doctor"
    [booking] = bookings
    assert booking.telegram_user_id is not None
    async with harness.database.sessions() as session:
        doctor = await session.scalar(select(Doctor).where(Doctor.code == "petrenko"))
        assert doctor is not None
    expected = refusal_text(LimitReason.SAME_DOCTOR, doctor.short_name)
    assert_refused(
        replies, winners={booking.telegram_user_id}, expected=expected, losers=ACCOUNTS - 1
    )


async def add_extra_doctors(harness: BotHarness) -> list[tuple[str, str]]:
    """Eleven more doctors at the first polyclinic, in two new services, with their slots;
    as (service, doctor button) pairs. Added as an import would: the running bot reloads
    its cached reference data at its next update."""
    buttons: list[tuple[str, str]] = []
    async with harness.database.sessions() as session:
        factory = Factory(session)
        org = await session.scalar(select(Organization).where(Organization.code == "gp1"))
        assert org is not None
        services = [
            await factory.service(org, code=f"race{n}", name=f"Приём специалиста {n}")
            for n in (1, 2)
        ]
        for n, last_name in enumerate(LAST_NAMES):
            service = services[n // PER_SERVICE]
            doctor = await factory.doctor(
                org,
                hours={WEDNESDAY: (time(8), time(9))},
                slot_minutes=30,
                services=[service],
                code=f"race-doctor{n}",
                last_name=last_name,
                first_name="Вера",
                middle_name="Сергеевна",
                position="Врач-специалист",
            )
            buttons.append((service.name, f"Врач-специалист — {doctor.short_name}"))
        await bump_reference_version(session)
        await session.commit()
    await refresh_slots(harness.database, settings=harness.settings, clock=harness.clock)
    return buttons


async def book_directly(harness: BotHarness, *, doctor_codes: list[str]) -> None:
    """Petrov's earlier upcoming bookings, one with each doctor, made straight in the
    database: how they came about does not matter to the limit."""
    async with harness.database.sessions() as session:
        factory = Factory(session)
        patient = await session.scalar(select(Patient).where(Patient.last_name == "Петров"))
        assert patient is not None
        for code in doctor_codes:
            slot = await session.scalar(
                select(Slot)
                .join(Doctor, Doctor.id == Slot.doctor_id)
                .where(Doctor.code == code, Slot.starts_at > harness.clock.now())
                .order_by(Slot.starts_at.desc())
                .limit(1)
            )
            assert slot is not None
            await factory.booking(slot=slot, patient=patient)


async def test_ten_accounts_one_patient_ten_doctors_stop_at_five(harness: BotHarness) -> None:
    extra = await add_extra_doctors(harness)
    # Four upcoming bookings already, with four different doctors; the fifth is the last.
    await book_directly(harness, doctor_codes=["ivanova", "petrenko", "smirnov", "race-doctor10"])
    max_active = harness.settings.booking.max_active_bookings
    assert max_active == 5
    racing = extra[:ACCOUNTS]
    users = [harness.user(8200 + n, "Пётр") for n in range(ACCOUNTS)]
    await asyncio.gather(
        *(
            walk_to_the_last_step(
                user, time_label="08:00", service=service, doctor=doctor, day=EXTRA_DAY
            )
            for user, (service, doctor) in zip(users, racing, strict=True)
        )
    )

    replies = await race(users)

    bookings = await active_bookings(harness)
    assert len(bookings) == max_active, f"{len(bookings)} active bookings, at most {max_active}"
    winners = {b.telegram_user_id for b in bookings if b.telegram_user_id is not None}
    assert len(winners) == 1
    expected = refusal_text(LimitReason.TOO_MANY, str(max_active))
    assert_refused(replies, winners=winners, expected=expected, losers=ACCOUNTS - 1)
    async with harness.database.sessions() as session:
        doctors = await session.scalar(
            select(func.count(func.distinct(Slot.doctor_id)))
            .join(Booking, Booking.slot_id == Slot.id)
            .where(Booking.status == BookingStatus.ACTIVE)
        )
    assert doctors == max_active  # one per doctor still holds among the five
