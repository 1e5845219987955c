"""kill -9 of the real bot process during reminder dispatch loses nothing, duplicates nothing
but what was being sent.

One database, one stand-in server, and a bot process (bench/botproc.py, forked by a
bench.driver.ForkServer so that a start costs no aiogram import) started once per trial. The
reminders of trial `t` fall due at BASE + t minutes and bot `t`'s clock stands just after:
each start first recovers what the previous bot left (those reminders were due earlier, so
they go out first), then dispatches its own, and is killed with SIGKILL half-way:

* even trials: at the moment the stand-in receives one of its messages, that is while the
  bot waits for Telegram's answer (the worst moment: the row is `sending`, the message
  delivered, the mark not yet written);
* odd trials: between two messages, while claimed rows wait for their turn in the limiter
  and none is being sent.

After each restart, once every reminder of the killed trial is final: each active booking's
chat got its reminder (one message per chat and day, a digest for two visits), a cancelled
booking's chat got none, and a chat that got two has every row noted as resent after a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.clinic import insert_one_doctor, insert_patients
from bench.driver import ForkedBot, ForkServer
from bot.services.reminders import RESENT_AFTER_CRASH
from bot.standin.harness import random_token
from bot.standin.server import StandInServer, TgUser
from db.engine import open_database
from db.models import (
    Booking,
    BookingStatus,
    Reminder,
    ReminderState,
    Slot,
)
from tests import databases
from tests.databases import SyncReader

# Tuesday 1 December 2026, 12:00 in Moscow: far from the quiet hours.
BASE = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
TRIALS = 10
SINGLE = 7  # chats with one booking per trial
DIGEST = 3  # chats with two bookings on the same day: one message for both
# Slow enough that a trial's ten messages take about half a second, so the kill lands in
# the middle; a stand-in answers in a few milliseconds, far less than this spacing.
PER_SECOND = 20
FINAL = {ReminderState.SENT, ReminderState.FAILED, ReminderState.DROPPED, ReminderState.CANCELLED}
WAIT = 20.0


@dataclass(frozen=True, slots=True)
class Chat:
    chat_id: int
    trial: int
    active: bool  # False: its only booking was cancelled; no reminder may reach it


@dataclass
class Seen:
    duplicated: int = 0  # chats that got their reminder twice (all explained)
    noted: int = 0  # rows recovered as "send had started" (possible duplicates)


async def populate(url: str) -> list[Chat]:
    """Per trial: 7 + 3 chats to remind (13 rows) and one cancelled booking's chat."""
    chats: list[Chat] = []
    bookings: list[tuple[int, int, bool]] = []  # (trial, chat, active)
    for trial in range(TRIALS):
        for n in range(SINGLE + DIGEST + 1):
            chat = Chat(chat_id=900_000 + trial * 100 + n, trial=trial, active=n <= SINGLE + 2)
            chats.append(chat)
            visits = 2 if SINGLE <= n < SINGLE + DIGEST else 1
            bookings += [(trial, chat.chat_id, chat.active)] * visits
    async with open_database(url) as db, db.engine.begin() as conn:
        await insert_one_doctor(conn, code="kill")
        rows = list(enumerate(bookings, start=1))
        # The "2h" reminder: the visit two hours after it is due, one doctor, a second apart.
        await conn.execute(
            insert(Slot),
            [
                {
                    "id": i,
                    "doctor_id": 1,
                    "starts_at": due(trial) + timedelta(hours=2, seconds=i),
                    "ends_at": due(trial) + timedelta(hours=2, seconds=i, minutes=20),
                    "is_open": True,
                }
                for i, (trial, _, _) in rows
            ],
        )
        await insert_patients(conn, (i for i, _ in rows))
        await conn.execute(
            insert(Booking),
            [
                {
                    "id": i,
                    "ticket_number": f"KL-{i:06d}",
                    "slot_id": i,
                    "patient_id": i,
                    "service_id": 1,
                    "status": BookingStatus.ACTIVE if active else BookingStatus.CANCELLED,
                    "telegram_user_id": chat_id,
                    "telegram_chat_id": chat_id,
                    "created_at": BASE - timedelta(days=3),
                    "updated_at": BASE - timedelta(days=3),
                }
                for i, (_, chat_id, active) in rows
            ],
        )
        await conn.execute(
            insert(Reminder),
            [
                {
                    "id": i,
                    "booking_id": i,
                    "label": "2h",
                    "due_at": due(trial),
                    "state": ReminderState.PLANNED,
                    "attempts": 0,
                }
                for i, (trial, _, _) in rows
            ],
        )
    return chats


def due(trial: int) -> datetime:
    return BASE + timedelta(minutes=trial)


@dataclass(frozen=True, slots=True)
class Row:
    chat_id: int
    state: ReminderState
    note: str | None


def read_rows(reader: SyncReader) -> list[Row]:
    """The reminders as the bot left them, read beside the bot (on SQLite, WAL lets it read)."""
    found = reader.rows(
        "SELECT b.telegram_chat_id, r.state, r.last_error FROM reminders r"
        " JOIN bookings b ON b.id = r.booking_id"
    )
    return [Row(chat_id=c, state=ReminderState(s), note=n) for c, s, n in found]


async def wait_db(
    condition: Callable[[], bool], *, within: float, what: str, rows: Callable[[], list[Row]]
) -> None:
    """Poll the database file until `condition` holds (the bot writes it in another process)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            states = dict(Counter(r.state.value for r in rows()))
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}: {states}")
        # A poll interval, not a fixed wait: it also lets the stand-in (this loop) serve.
        await asyncio.sleep(0.002)


def check(
    chats: list[Chat], rows: list[Row], server: StandInServer, seen: Seen | None = None
) -> None:
    """Every reminder final; nothing lost; a duplicate only where a send had started."""
    by_chat: dict[int, list[Row]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    for chat in chats:
        mine = by_chat[chat.chat_id]
        got = len(server.messages(chat.chat_id))
        states = Counter(r.state for r in mine)
        if not chat.active:
            assert got == 0, f"chat {chat.chat_id}: a cancelled booking was reminded"
            assert set(states) == {ReminderState.CANCELLED}, states
            continue
        assert set(states) == {ReminderState.SENT}, f"chat {chat.chat_id}: {states}"
        assert got >= 1, f"chat {chat.chat_id} (trial {chat.trial}): reminder lost"
        noted = [r for r in mine if r.note == RESENT_AFTER_CRASH]
        if got > 1:
            assert len(noted) == len(mine), (
                f"chat {chat.chat_id} (trial {chat.trial}) got {got} reminders, but its send "
                "was not recorded as started at the crash"
            )
        if seen is not None:
            seen.noted += len(noted)
            seen.duplicated += got - 1


async def test_kill_9_during_dispatch_loses_nothing_and_duplicates_only_started_sends(
    tmp_path: Path,
) -> None:
    url = await databases.database_url(tmp_path / "talon.sqlite3")
    chats = await populate(url)
    seen = Seen()
    reader = SyncReader(url)
    try:
        async with (
            StandInServer(token=random_token()) as server,
            ForkServer() as forks,
        ):
            for chat in chats:
                server.add_user(TgUser(id=chat.chat_id, first_name="Пациент"))

            def trial_chats(trial: int) -> list[Chat]:
                return [c for c in chats if c.trial == trial]

            def delivered(trial: int) -> int:
                return sum(1 for c in trial_chats(trial) if server.messages(c.chat_id))

            def rows_of(trials: range) -> list[Row]:
                ids = {c.chat_id for t in trials for c in trial_chats(t)}
                return [r for r in read_rows(reader) if r.chat_id in ids]

            async def restart_checks(trial: int) -> None:
                """The earlier trials' reminders all end up final, and the last one is checked."""
                earlier = range(trial)
                await wait_db(
                    lambda: all(r.state in FINAL for r in rows_of(earlier)),
                    within=WAIT,
                    what=f"the reminders of trials before {trial} to be final (claimed ones lost)",
                    rows=lambda: rows_of(earlier),
                )
                if trial:
                    # The trial killed last; the earlier ones are final and cannot change.
                    killed = range(trial - 1, trial)
                    check(trial_chats(trial - 1), rows_of(killed), server, seen)

            async def kill_half_way(bot: ForkedBot, trial: int) -> None:
                # Even trials: killed right as the stand-in stores a message, before the bot has
                # read the answer and marked it sent.
                half = 3 + trial % 4
                await server.wait_for(lambda: delivered(trial) >= half, timeout=WAIT)
                if trial % 2:

                    def between_sends() -> bool:
                        states = Counter(r.state for r in rows_of(range(trial, trial + 1)))
                        # Claimed rows normally still wait their turn here; on a loaded machine the
                        # trial may have finished meanwhile, which is still no send under way.
                        return states[ReminderState.SENDING] == 0

                    await wait_db(
                        between_sends,
                        within=WAIT,
                        what=f"a moment between two sends in trial {trial}",
                        rows=lambda: rows_of(range(trial, trial + 1)),
                    )
                await bot.kill()

            for trial in range(TRIALS + 1):
                bot = ForkedBot(
                    server,
                    forks,
                    mode="talon",
                    db_url=url,
                    now=(due(trial) + timedelta(seconds=30)).isoformat(),
                    dispatch_reminders=True,
                    reminders={"per_second": PER_SECOND},
                    # On PostgreSQL a killed bot's claims wait for its lease (SQLite: taken
                    # back at the next start): a short one keeps the trials quick.
                    instances={"heartbeat_seconds": 0.5, "lease_seconds": 2},
                )
                await bot.start()  # `ready` comes after `recover`
                try:
                    await restart_checks(trial)
                    if trial < TRIALS:
                        await kill_half_way(bot, trial)
                finally:
                    await bot.stop()  # a no-op after the kill
            # Once more, everything: nothing sent late to an earlier trial's chats either.
            check(chats, read_rows(reader), server)
    finally:
        reader.close()
    print(
        f"\n{TRIALS} kills: {seen.duplicated} duplicate reminders, "
        f"{seen.noted} rows recovered as 'send had started'"
    )
    # The worst-moment kills did catch sends under way: the test exercises that window.
    assert seen.noted >= 1
