from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from bot.services.instances import begin_new_instance
from bot.services.reminders import (
    RESENT_AFTER_CRASH,
    Released,
    cancel_for_booking,
    claim_due,
    finish,
    release_in_flight,
    start_sending,
    unstart,
)
from bot.services.slots import generate_slots
from db.models import Reminder, ReminderState, Slot
from tests.factories import Factory

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


async def reminders_for_one_booking(factory: Factory, *dues: datetime) -> list[Reminder]:
    org = await factory.organization()
    await factory.doctor(org, hours={3: (time(8), time(9))}, slot_minutes=60)
    await generate_slots(factory.session, now=NOW, horizon_days=7)
    slot = await factory.session.scalar(select(Slot))
    assert slot is not None
    booking = await factory.booking(slot=slot)
    rows = [
        Reminder(booking_id=booking.id, label=f"r{n}", due_at=due) for n, due in enumerate(dues)
    ]
    factory.session.add_all(rows)
    await factory.session.commit()
    return rows


async def states(factory: Factory) -> list[ReminderState]:
    factory.session.expire_all()
    return list((await factory.session.scalars(select(Reminder.state).order_by(Reminder.id))).all())


async def test_only_due_planned_rows_are_claimed_and_only_once(factory: Factory) -> None:
    rows = await reminders_for_one_booking(
        factory, NOW - timedelta(minutes=1), NOW + timedelta(hours=1)
    )
    first = await claim_due(factory.session, now=NOW, limit=100)
    second = await claim_due(factory.session, now=NOW, limit=100)
    assert first == [rows[0].id]
    assert second == []
    assert await states(factory) == [ReminderState.CLAIMED, ReminderState.PLANNED]


async def test_finish_marks_sent_and_counts_the_attempt(factory: Factory) -> None:
    rows = await reminders_for_one_booking(factory, NOW)
    row_id = rows[0].id
    claimed = await claim_due(factory.session, now=NOW, limit=10)
    await finish(factory.session, reminder_ids=claimed, state=ReminderState.SENT, now=NOW)
    factory.session.expire_all()
    row = await factory.session.get(Reminder, row_id)
    assert row is not None
    assert row.state is ReminderState.SENT
    assert row.sent_at == NOW
    assert row.attempts == 1


async def after_a_crash(factory: Factory) -> Released:
    """What a new process finds at its start: the claims of the one that died."""
    begin_new_instance()
    return await release_in_flight(factory.session, lease=timedelta(seconds=30))


async def test_rows_in_flight_at_a_crash_are_tried_again(factory: Factory) -> None:
    await reminders_for_one_booking(factory, NOW, NOW)
    await claim_due(factory.session, now=NOW, limit=10)
    assert await after_a_crash(factory) == Released(claimed=2, started=0)
    assert await states(factory) == [ReminderState.PLANNED, ReminderState.PLANNED]
    factory.session.expire_all()
    # Never sent: nothing marks them as possible duplicates.
    assert set((await factory.session.scalars(select(Reminder.last_error))).all()) == {None}


async def test_a_send_started_at_a_crash_is_sent_again_and_marked_as_maybe_twice(
    factory: Factory,
) -> None:
    rows = await reminders_for_one_booking(factory, NOW, NOW)
    started_id, waiting_id = rows[0].id, rows[1].id
    await claim_due(factory.session, now=NOW, limit=10)
    assert await start_sending(factory.session, reminder_ids=[started_id]) == [started_id]
    assert await states(factory) == [ReminderState.SENDING, ReminderState.CLAIMED]

    assert await after_a_crash(factory) == Released(claimed=1, started=1)
    assert await states(factory) == [ReminderState.PLANNED, ReminderState.PLANNED]
    # Sent again after the restart: the note stays on the sent row, the other has none.
    again = await claim_due(factory.session, now=NOW, limit=10)
    await start_sending(factory.session, reminder_ids=again)
    await finish(factory.session, reminder_ids=again, state=ReminderState.SENT, now=NOW)
    factory.session.expire_all()
    notes = {row.id: row.last_error for row in await factory.session.scalars(select(Reminder))}
    assert notes == {started_id: RESENT_AFTER_CRASH, waiting_id: None}


async def test_a_refused_send_is_no_longer_counted_as_started(factory: Factory) -> None:
    rows = await reminders_for_one_booking(factory, NOW)
    await claim_due(factory.session, now=NOW, limit=10)
    await start_sending(factory.session, reminder_ids=[rows[0].id])
    await unstart(factory.session, reminder_ids=[rows[0].id])  # a 429: nothing delivered
    assert await states(factory) == [ReminderState.CLAIMED]
    assert await after_a_crash(factory) == Released(claimed=1, started=0)


async def test_a_row_cancelled_after_its_claim_is_never_started(factory: Factory) -> None:
    rows = await reminders_for_one_booking(factory, NOW)
    await claim_due(factory.session, now=NOW, limit=10)
    await cancel_for_booking(factory.session, booking_id=rows[0].booking_id)
    await factory.session.commit()
    assert await start_sending(factory.session, reminder_ids=[rows[0].id]) == []
    assert await states(factory) == [ReminderState.CANCELLED]


async def test_cancelled_booking_keeps_no_planned_reminder(factory: Factory) -> None:
    rows = await reminders_for_one_booking(factory, NOW + timedelta(hours=3))
    await cancel_for_booking(factory.session, booking_id=rows[0].booking_id)
    await factory.session.commit()
    assert await states(factory) == [ReminderState.CANCELLED]
    assert await claim_due(factory.session, now=NOW + timedelta(days=1), limit=10) == []
