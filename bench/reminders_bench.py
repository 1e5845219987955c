"""Reminder dispatch benchmark: N due reminders against the stand-in Bot API server.

Plans ``--count`` due reminders (one booking, patient and chat each) in a temporary SQLite
database, runs ``ReminderDispatcher.run_once()`` once against the stand-in server with
Telegram-like flood control switched on, and reports:

* the achieved sending rate as a fraction of the configured ceiling (goal >= 0.95);
* lost reminders (due, never delivered; goal 0) and duplicated ones (a chat that got the
  same reminder more than once; goal 0);
* 429 answers, other API errors, stand-in violations, database states and peak memory.

Run by hand, not by pytest::

    python -m bench.reminders_bench             # 10,000 reminders at 30/s, about 5.5 minutes
    python -m bench.reminders_bench --count 300 # smoke check, about 10 seconds

The exit status is 0 when every goal is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from pydantic import SecretStr
from sqlalchemy import func, insert, select

from bench.clinic import insert_one_doctor
from bot.app import create_bot
from bot.config import ReminderSettings, Settings, TelegramSettings
from bot.delivery.reminders import ReminderDispatcher, RunReport
from bot.services.clock import ManualClock
from bot.standin.server import StandInServer, TgUser
from db.engine import Database, open_database
from db.models import (
    Booking,
    BookingStatus,
    Patient,
    Reminder,
    ReminderState,
    Slot,
)

TOKEN = "123456789:BENCH-TOKEN"
TZ_NAME = "Europe/Moscow"
# Tuesday 1 December 2026, 12:00 in Moscow: well outside the default quiet hours (21:00-08:00).
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo(TZ_NAME))
CHAT_BASE = 500_000_000
LABEL = "2h"
RATE_GOAL = 0.95
PROGRESS_EVERY_SECONDS = 30.0

logger = logging.getLogger("bench.reminders")


@dataclass
class SendProbe(BaseRequestMiddleware):
    """Bot-side view of every Bot API call: accepted sendMessage moments, 429s, other errors."""

    accepted_at: list[float] = field(default_factory=list)
    retry_after: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.retry_after += 1
            raise
        except TelegramAPIError as error:
            self.errors[type(error).__name__] += 1
            raise
        if isinstance(method, SendMessage):
            self.accepted_at.append(time.perf_counter())
        return response


@dataclass(frozen=True)
class Chat:
    chat_id: int
    ticket: str


async def populate(db: Database, *, count: int, now: datetime) -> list[Chat]:
    """One organization, doctor and service; `count` slots, patients, bookings and due
    reminders, one distinct chat each, inserted with Core executemany."""
    due_at = now - timedelta(minutes=1)
    # The "2h" reminder of a visit two hours after its due moment. One doctor cannot hold two
    # slots at the same moment, so visits are one second apart (13:59:00 to about 16:46 local
    # for 10,000): all daytime, all in the future, which is all the dispatcher looks at.
    first_visit = due_at + timedelta(hours=2)
    chats = [Chat(chat_id=CHAT_BASE + i, ticket=f"BN-{i:06d}") for i in range(1, count + 1)]
    slots = [
        {
            "id": i,
            "doctor_id": 1,
            "starts_at": first_visit + timedelta(seconds=i - 1),
            "ends_at": first_visit + timedelta(seconds=i - 1, minutes=20),
            "is_open": True,
        }
        for i in range(1, count + 1)
    ]
    patients = [
        {
            "id": i,
            "last_name": "Пациентов",
            "first_name": "Пациент",
            "middle_name": f"№ {i}",
            "birth_date": date(1980, 1, 1) + timedelta(days=i % 10_000),
            "oms_number": f"{i:016d}",
        }
        for i in range(1, count + 1)
    ]
    bookings = [
        {
            "id": i,
            "ticket_number": chat.ticket,
            "slot_id": i,
            "patient_id": i,
            "service_id": 1,
            "status": BookingStatus.ACTIVE,
            "telegram_user_id": chat.chat_id,
            "telegram_chat_id": chat.chat_id,
            "created_at": now - timedelta(days=3),
            "updated_at": now - timedelta(days=3),
        }
        for i, chat in enumerate(chats, start=1)
    ]
    reminders = [
        {
            "id": i,
            "booking_id": i,
            "label": LABEL,
            "due_at": due_at,
            "state": ReminderState.PLANNED,
            "attempts": 0,
        }
        for i in range(1, count + 1)
    ]
    async with db.engine.begin() as conn:
        await insert_one_doctor(conn, code="bench", timezone=TZ_NAME)
        await conn.execute(insert(Slot), slots)
        await conn.execute(insert(Patient), patients)
        await conn.execute(insert(Booking), bookings)
        await conn.execute(insert(Reminder), reminders)
    return chats


async def reminder_states(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Reminder.state, func.count()).group_by(Reminder.state).order_by(Reminder.state)
        )
        return {str(state): int(n) for state, n in rows.all()}


async def progress(probe: SendProbe, total: int, started: float) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY_SECONDS)
        done = len(probe.accepted_at)
        print(
            f"  … {done}/{total} sent after {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def run(
    *, count: int, rate: float, batch_size: int | None, concurrency: int | None
) -> dict[str, Any]:
    overrides: dict[str, Any] = {"per_second": rate}
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    if concurrency is not None:
        overrides["concurrency"] = concurrency
    reminder_settings = ReminderSettings(**overrides)
    clock = ManualClock(NOW)
    # A little above the ceiling: the server answers 429 only if the bot really exceeds it.
    server = StandInServer(token=TOKEN, per_chat_rate=1.0, global_rate=rate + 1)
    probe = SendProbe()

    with tempfile.TemporaryDirectory(prefix="talon-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        setup_started = time.perf_counter()
        async with server, open_database(url) as db:
            chats = await populate(db, count=count, now=clock.now())
            for chat in chats:
                server.add_user(TgUser(id=chat.chat_id, first_name=f"Patient {chat.chat_id}"))
            setup_seconds = time.perf_counter() - setup_started
            rss_after_setup = peak_rss_mib()

            settings = Settings(
                telegram=TelegramSettings(token=SecretStr(TOKEN), api_base=server.base_url),
                reminders=reminder_settings,
            )
            bot = create_bot(settings)
            bot.session.middleware(probe)
            try:
                dispatcher = ReminderDispatcher(
                    db=db, bot=bot, clock=clock, settings=reminder_settings
                )
                await dispatcher.recover()
                print(
                    f"setup: {count} due reminders in {setup_seconds:.1f} s; "
                    f"dispatching at {rate:g}/s (about {count / rate:.0f} s)…",
                    file=sys.stderr,
                    flush=True,
                )
                started = time.perf_counter()
                ticker = asyncio.create_task(progress(probe, count, started))
                try:
                    report = await dispatcher.run_once()
                    await dispatcher.drain()
                finally:
                    ticker.cancel()
                wall_seconds = time.perf_counter() - started
            finally:
                await bot.session.close()
            states = await reminder_states(db)
        return summarize(
            count=count,
            rate=rate,
            settings=reminder_settings,
            server=server,
            probe=probe,
            chats=chats,
            states=states,
            report=report,
            wall_seconds=wall_seconds,
            setup_seconds=setup_seconds,
            rss_after_setup=rss_after_setup,
        )


def summarize(
    *,
    count: int,
    rate: float,
    settings: ReminderSettings,
    server: StandInServer,
    probe: SendProbe,
    chats: Sequence[Chat],
    states: dict[str, int],
    report: RunReport,
    wall_seconds: float,
    setup_seconds: float,
    rss_after_setup: float,
) -> dict[str, Any]:
    per_chat = [server.messages(chat.chat_id) for chat in chats]
    delivered = sum(len(messages) for messages in per_chat)
    lost = sum(1 for messages in per_chat if not messages)
    duplicated = sum(1 for messages in per_chat if len(messages) > 1)
    # Each chat has exactly one booking: its message must name that booking's ticket.
    wrong_ticket = sum(
        1
        for chat, messages in zip(chats, per_chat, strict=True)
        if any(chat.ticket not in (m.text or "") for m in messages)
    )
    stamps = probe.accepted_at
    window = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    achieved = (len(stamps) - 1) / window if window > 0 else 0.0
    dates = [m.date for messages in per_chat for m in messages]
    server_window = max(dates) - min(dates) if dates else 0
    sent_in_db = states.get(ReminderState.SENT.value, 0)
    return {
        "count": count,
        "ceiling_per_s": rate,
        "batch_size": settings.batch_size,
        "concurrency": settings.concurrency,
        "delivered": delivered,
        "lost": lost,
        "duplicated": duplicated,
        "wrong_ticket": wrong_ticket,
        "rate_per_s": round(achieved, 3),
        "rate_fraction": round(achieved / rate, 4),
        "send_window_s": round(window, 2),
        "server_date_window_s": server_window,
        "run_once_wall_s": round(wall_seconds, 2),
        "wall_rate_fraction": round(delivered / wall_seconds / rate, 4) if wall_seconds else 0.0,
        "http_429": probe.retry_after,
        "other_api_errors": dict(probe.errors),
        "violations": len(server.violations),
        "db_states": states,
        "db_not_sent": count - sent_in_db,
        "run_report": {
            "sent": report.sent,
            "failed": report.failed,
            "dropped": report.dropped,
            "deferred": report.deferred,
        },
        "setup_s": round(setup_seconds, 2),
        "peak_rss_mib_after_setup": round(rss_after_setup, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "goals_met": goals_met(achieved / rate, lost, duplicated, wrong_ticket, count - sent_in_db),
    }


def goals_met(fraction: float, lost: int, duplicated: int, wrong: int, not_sent: int) -> bool:
    return fraction >= RATE_GOAL and lost == 0 and duplicated == 0 and wrong == 0 and not not_sent


def print_table(summary: dict[str, Any]) -> None:
    def goal(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rows = [
        ("reminders due", f"{summary['count']}", ""),
        ("delivered messages", f"{summary['delivered']}", ""),
        ("lost", f"{summary['lost']}", goal(summary["lost"] == 0)),
        ("duplicated", f"{summary['duplicated']}", goal(summary["duplicated"] == 0)),
        (
            "wrong ticket in message",
            f"{summary['wrong_ticket']}",
            goal(not summary["wrong_ticket"]),
        ),
        ("DB rows not `sent`", f"{summary['db_not_sent']}", goal(not summary["db_not_sent"])),
        ("DB states", ", ".join(f"{k}={v}" for k, v in summary["db_states"].items()), ""),
        ("ceiling", f"{summary['ceiling_per_s']:g} msg/s", ""),
        ("achieved rate", f"{summary['rate_per_s']:.3f} msg/s", ""),
        (
            "rate / ceiling",
            f"{summary['rate_fraction']:.4f}",
            goal(summary["rate_fraction"] >= RATE_GOAL),
        ),
        ("first→last send", f"{summary['send_window_s']:.2f} s", ""),
        ("run_once wall time", f"{summary['run_once_wall_s']:.2f} s", ""),
        ("delivered / wall / ceiling", f"{summary['wall_rate_fraction']:.4f}", ""),
        ("429 answers", f"{summary['http_429']}", ""),
        ("other API errors", f"{sum(summary['other_api_errors'].values())}", ""),
        ("stand-in violations", f"{summary['violations']}", ""),
        ("setup (bulk insert)", f"{summary['setup_s']:.2f} s", ""),
        ("peak RSS", f"{summary['peak_rss_mib']:.1f} MiB", ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value:>{value_width}}  {verdict}".rstrip())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reminders_bench",
        description="Dispatch N due reminders against the stand-in Bot API server.",
    )
    parser.add_argument("--count", type=int, default=10_000, help="due reminders (10000)")
    parser.add_argument(
        "--rate", type=float, default=30.0, help="reminder ceiling, messages/s (30; at most 30)"
    )
    parser.add_argument("--batch-size", type=int, help="override ReminderSettings.batch_size")
    parser.add_argument("--concurrency", type=int, help="override ReminderSettings.concurrency")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    summary = asyncio.run(
        run(
            count=args.count,
            rate=args.rate,
            batch_size=args.batch_size,
            concurrency=args.concurrency,
        )
    )
    print_table(summary)
    print(json.dumps(summary, ensure_ascii=False, separators=(",", ":")))
    return 0 if summary["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
