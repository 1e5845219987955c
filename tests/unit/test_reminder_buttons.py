"""A reminder offers only what works when it is sent: for every configured default offset,
the buttons built at the reminder's due time are exactly the actions the bot then accepts.

Cancelling is possible until the visit starts (it frees the time); only a move stops at the
cut-off, so a reminder sent within it has no «Перенести». The presses go through the
reminder handler's own dispatch (`_apply`) into the real use cases on a real database.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from bot.config import BookingSettings, ReminderSettings
from bot.handlers.reminders import _apply
from bot.keyboards import reminders as kb
from bot.keyboards.callbacks import ReminderAction
from bot.services.booking import ChangeRefusal
from bot.services.reminder_plan import plan_reminders
from bot.services.reminders import DueReminder
from bot.services.slots import generate_slots
from bot.services.visits import VisitRecord, load_visit
from bot.usecases.outcomes import Account, Changed, Refused, Rules
from db.models import Booking, Slot
from tests.factories import Factory

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
USER = 5101
# Every button a reminder could carry; `xy` is the «Да, отменить» its cancel asks for.
ACTIONS = ("ok", "x", "mv")


def default_rules() -> Rules:
    booking, reminders = BookingSettings(), ReminderSettings()
    return Rules(
        reminders=reminders.policy,
        limits=booking.limits,
        cutoff=booking.change_cutoff,
        horizon_days=booking.horizon_days,
    )


async def booked_visits(factory: Factory, count: int) -> list[Booking]:
    """`count` bookings of this account, each at midday on its own day, from the third day
    on (so that no default offset reaches back before NOW)."""
    org = await factory.organization(timezone="Europe/Moscow")
    await factory.doctor(org, hours={d: (time(12), time(13)) for d in range(7)}, slot_minutes=60)
    await generate_slots(factory.session, now=NOW, horizon_days=14)
    slots = (
        await factory.session.scalars(
            select(Slot).where(Slot.starts_at >= NOW + timedelta(days=2)).order_by(Slot.starts_at)
        )
    ).all()
    assert len(slots) >= count
    bookings = []
    for slot in slots[:count]:
        booking = await factory.booking(slot=slot)
        booking.telegram_user_id = booking.telegram_chat_id = USER
        bookings.append(booking)
    await factory.session.commit()
    return bookings


async def accepted(
    factory: Factory, visit: VisitRecord, action: str, *, now: datetime, rules: Rules
) -> bool:
    """Whether the press of `action` on the visit's reminder at `now` would go through."""
    outcome = await _apply(
        factory.session,
        pressed=ReminderAction(b=visit.booking_id, sl=visit.slot_id, a=action),
        account=Account(user_id=USER, chat_id=USER),
        now=now,
        rules=rules,
    )
    return isinstance(outcome, Changed)


async def test_every_default_reminder_offers_exactly_the_actions_accepted_when_it_is_sent(
    factory: Factory,
) -> None:
    rules = default_rules()
    offsets = rules.reminders.offsets
    session = factory.session
    checked = []
    for offset, booking in zip(offsets, await booked_visits(factory, len(offsets)), strict=True):
        visit = await load_visit(session, booking_id=booking.id)
        assert visit is not None
        [due] = [
            planned
            for planned in plan_reminders(
                visit=visit.starts_at,
                tz_name=visit.timezone,
                offsets=offsets,
                quiet=rules.reminders.quiet,
                planned_at=NOW,
            )
            if planned.label == offset.label
        ]
        item = DueReminder(
            reminder_id=booking.id,
            label=due.label,
            due_at=due.due_at,
            attempts=0,
            chat_id=USER,
            chat_unreachable=False,
            language="ru",
            record=visit,
        )
        markup = kb.reminder([item], now=due.due_at, move_cutoff=rules.cutoff)
        [row] = markup.inline_keyboard
        offered = {
            ReminderAction.unpack(button.callback_data or "").a: button.text for button in row
        }
        at = due.due_at
        accepting = {
            action
            for action in ACTIONS
            if await accepted(factory, visit, action, now=at, rules=rules)
        }
        assert set(offered) == accepting, f"{offset.label} reminder at {due.due_at}"
        # Whatever the offset: confirm and cancel are always there, and the cancel it asks
        # about goes through (the slot is freed).
        assert {"ok", "x"} <= set(offered), offset.label
        cancelled = await accepted(factory, visit, "xy", now=at, rules=rules)
        assert cancelled, f"cancel refused from the {offset.label} reminder"
        # A move is offered only while the visit is more than the cut-off away.
        assert ("mv" in offered) == (visit.starts_at - due.due_at > rules.cutoff), offset.label
        checked.append((offset.label, "mv" in offered))

    assert [label for label, _ in checked] == [offset.label for offset in offsets]
    # The defaults reach both sides of the cut-off: with them (24 h and 2 h, and a 2-hour
    # cut-off) the last reminder must not offer a move, the first must.
    if any(o.before <= rules.cutoff for o in offsets):
        assert any(not movable for _, movable in checked)
    if any(o.before > rules.cutoff for o in offsets):
        assert any(movable for _, movable in checked)


async def test_a_cancel_is_accepted_until_the_visit_starts_and_a_move_not_past_the_cut_off(
    factory: Factory,
) -> None:
    rules = default_rules()
    account = Account(user_id=USER, chat_id=USER)
    [booking] = await booked_visits(factory, 1)
    visit = await load_visit(factory.session, booking_id=booking.id)
    assert visit is not None
    minute_before = visit.starts_at - timedelta(minutes=1)

    def pressed(action: str) -> ReminderAction:
        return ReminderAction(b=visit.booking_id, sl=visit.slot_id, a=action)

    move = await _apply(
        factory.session, pressed=pressed("mv"), account=account, now=minute_before, rules=rules
    )
    assert isinstance(move, Refused)
    assert move.reason is ChangeRefusal.TOO_LATE
    assert move.phone == visit.organization_phone
    cancel = await _apply(
        factory.session, pressed=pressed("xy"), account=account, now=minute_before, rules=rules
    )
    assert isinstance(cancel, Changed)
