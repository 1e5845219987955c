"""How many SQL statements a click of the booking dialogue costs, counted at the driver.

Each statement is a round trip through the async driver (several hundred microseconds of
CPU), so the count is what keeps a click cheap. These budgets fail when a change brings back
a query per item (N+1), a second read of the dialogue, or an uncached lookup of reference
data; raise one only with a reason.

Every update that writes also records itself as handled (one INSERT into handled_updates,
in the same transaction as the dialogue's upsert): a redelivered update is then recognised
(bot/unit.py). That is the "+ handled" below.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from bot.standin.harness import BotHarness
from tests.e2e.flow import DOCTOR, ORG, SERVICE, WEDNESDAY


@contextmanager
def counted(harness: BotHarness) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    engine = harness.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_click_on_the_day_grid_costs_few_statements(harness: BotHarness) -> None:
    user = harness.user(1001, "Пётр")
    await user.send("/start")
    await user.click(ORG)
    await user.click(SERVICE)
    with counted(harness) as statements:
        await user.click(DOCTOR)
    assert "Выберите день" in user.last_bot_message.text
    # The account's facts and dialogue (one SELECT), the doctor's days and hours, and the
    # dialogue written back (one upsert) + handled. Organizations, services and doctors come
    # from the in-memory reference data.
    assert len(statements) <= 5, statements
    assert sum("handled_updates" in s for s in statements) == 2, statements  # checked, recorded
    assert sum("fsm_states" in s for s in statements) == 2, statements  # one read, one write
    assert not any(s.lstrip().startswith("SELECT doctors.") for s in statements), statements


async def test_a_click_on_a_day_costs_few_statements(harness: BotHarness) -> None:
    user = harness.user(1001, "Пётр")
    await user.send("/start")
    for label in (ORG, SERVICE, DOCTOR):
        await user.click(label)
    with counted(harness) as statements:
        await user.click(WEDNESDAY)
    assert "08:00" in user.buttons()[0]
    # Facts, the day's slots, the upsert + handled.
    assert len(statements) <= 4, statements


async def test_list_clicks_read_no_reference_tables(harness: BotHarness) -> None:
    user = harness.user(1001, "Пётр")
    await user.send("/start")  # the first update may load the reference data
    for label in (ORG, SERVICE):
        with counted(harness) as statements:
            await user.click(label)
        # Only the account's facts and the dialogue's upsert + handled.
        assert len(statements) == 3, (label, statements)
