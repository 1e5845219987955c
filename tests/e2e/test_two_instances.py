"""Two real bot processes behind a round-robin front, on one PostgreSQL database and one Redis.

The set-up of every test: a fresh PostgreSQL database (tests/databases.py), a throwaway
redis-server (tests/redis_server.py), the stand-in Bot API server, and two bot processes
(bench/botproc.py, forked by a bench.driver.ForkServer) in webhook mode, each on a port of
its own, sharing the dialogues and per-account locks in Redis (one `privacy.state_key`). Both
call setWebhook with the front's URL and the same secret: the stand-in posts every update to
the front, a small aiohttp server here that forwards each POST to the instances in turn (same
headers, same body) and answers with the instance's status and body, as a reverse proxy
would. Each instance also runs the reminder dispatcher and the outbox dispatcher.

1. Both started at the same moment on an empty database (no prior migration): both come up
   (the migrations run under an advisory lock) and both answer updates. Three rounds, as one
   pair may by chance not overlap.
2. 500 accounts race for 50 free times (10 per time), each booking a remembered patient in one
   press: exactly 50 active bookings; each winner got its confirmation and its ticket once;
   each of the 450 losers is shown «this time was just taken» (`slot-taken-meanwhile`).
3. TALON_TWO_INSTANCES_REMINDERS (2000) reminders due at once: each chat gets its reminder
   exactly once, both instances sending (`per_second` 30, shared by the instances through
   Redis: about 70 s for 2000, most of this file's 2.5 minutes; set fewer for a quick run).
4. One instance killed (SIGKILL) mid-dispatch while the other runs, with a 3-second lease: the
   reminders it held are sent by the survivor once the lease has run out; nothing is lost, and
   a chat gets two only if its row is marked «resent after a crash».

PostgreSQL only (several instances need it): skipped without TALON_TEST_POSTGRES; CI runs it in
its PostgreSQL pass.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import re
import secrets
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import insert, select, text

from bench.clinic import insert_one_doctor, insert_patients
from bench.driver import ForkedBot, ForkServer
from bot.services.clock import ManualClock
from bot.services.reminders import RESENT_AFTER_CRASH
from bot.services.staff.search import ticket_form
from bot.standin.client import SimUser
from bot.standin.events import EventKind, ServerEvent
from bot.standin.harness import harness_settings, random_token
from bot.standin.server import StandInServer, StoredMessage, TgUser
from bot.startup import open_database, prepare_data, refresh_slots
from db.engine import create_engine
from db.engine import open_database as open_migrated
from db.migrate import HEAD_REVISION
from db.models import (
    Booking,
    BookingStatus,
    Organization,
    Reminder,
    ReminderState,
    Slot,
    full_name,
)
from tests import databases
from tests.databases import SyncReader
from tests.e2e.flow import ORG
from tests.factories import Factory
from tests.redis_server import redis_server

pytestmark = pytest.mark.skipif(
    not databases.on_postgres(),
    reason="several instances need PostgreSQL: run with TALON_TEST_POSTGRES (CI does)",
)

CLINIC = Path(__file__).with_name("clinic.toml")
# Tuesday 1 December 2026, 09:00 in Moscow; the race is for Wednesday's times.
START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
PATH = "/telegram/updates"
SECRET = "two-instances-secret-0123456789"
# One key for both instances: a dialogue sealed by one opens on the other.
STATE_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
WAIT = 120.0

# ---- the race --------------------------------------------------------------------------------
ACCOUNTS = 500
FIRST_USER = 710_000
SERVICE = "Приём специалиста"
POSITION = "Врач-специалист"
DOCTOR = f"{POSITION} — Гончарова В. С."
WEDNESDAY = 2
# 08:00–16:20 in 10-minute slots: 50 times, all on one page (`booking.slots_per_page`).
DAY = "ср 02.12 · 08:00–16:20"
TIMES = [f"{8 + m // 60:02d}:{m % 60:02d}" for m in range(0, 500, 10)]
BOOKED = "Вы успешно записались"
TAKEN = "это время только что заняли"
TICKET_IN_TEXT = re.compile(r"Талон № (\d{3} \d{3} \d{3}|\S+)")
TICKET_FILE = re.compile(r"talon-(.+)\.pdf")  # the number without its spaces: ticket_form

# ---- the reminders ---------------------------------------------------------------------------
# Tuesday 1 December 2026, 12:00 in Moscow: far from the quiet hours.
DUE = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
REMINDERS = int(os.environ.get("TALON_TWO_INSTANCES_REMINDERS", "2000"))
PER_SECOND = 30  # Telegram's ceiling, and the settings' maximum
FIRST_CHAT = 720_000
KILL_REMINDERS = 600
KILL_BATCH = 100  # rows an instance claims at once: what the killed one holds
KILL_AFTER = 120  # reminders delivered before the kill
HEARTBEAT = 0.5
LEASE = 3.0
FINAL = {ReminderState.SENT, ReminderState.FAILED, ReminderState.DROPPED, ReminderState.CANCELLED}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(
    condition: Callable[[], Awaitable[bool]], *, within: float, what: str | Callable[[], str]
) -> None:
    """Poll `condition` (the bots write the database in other processes) until it holds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            said = what if isinstance(what, str) else what()
            raise AssertionError(f"timed out after {within:.0f} s waiting for {said}")
        # A poll interval, not a fixed wait: it also lets the stand-in and the front serve.
        await asyncio.sleep(0.02)


# ---- the front ---------------------------------------------------------------------------------

# Hop-by-hop headers, and those the client sets for the body it sends.
NOT_FORWARDED = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class Front:
    """A round-robin reverse proxy: each POST goes to the next instance, same headers and
    body; the instance's status and body go back. An instance that can't be reached: 502."""

    targets: list[str]
    url: str = ""
    answers: list[Counter[int]] = field(default_factory=list)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.answers = [Counter() for _ in self.targets]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT))
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{PATH}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        index = next(self._turn) % len(self.targets)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED}
        try:
            async with self._session.post(
                self.targets[index] + request.path_qs, data=body, headers=headers
            ) as answer:
                payload = await answer.read()
                status = answer.status
                kind = answer.headers.get("Content-Type")
        except (aiohttp.ClientError, TimeoutError):
            self.answers[index][502] += 1
            return web.Response(status=502, text="instance unreachable")
        self.answers[index][status] += 1
        return web.Response(status=status, body=payload, headers={"Content-Type": kind or ""})

    def accepted(self, index: int) -> int:
        return self.answers[index][200]


@dataclass
class Cluster:
    server: StandInServer
    forks: ForkServer
    front: Front
    redis_url: str
    ports: list[int]

    def instance(self, n: int, *, db_url: str, now: datetime, **config: Any) -> ForkedBot:
        """Instance `n` (0 or 1): webhook mode on its own port, Redis, the shared state key,
        the reminder dispatcher (the outbox's always runs)."""
        return ForkedBot(
            self.server,
            self.forks,
            mode="talon",
            db_url=db_url,
            now=now.isoformat(),
            redis={"url": self.redis_url},
            privacy={"state_key": STATE_KEY},
            webhook={
                "host": "127.0.0.1",
                "port": self.ports[n],
                "path": PATH,
                "url": self.front.url,
                "secret": SECRET,
            },
            dispatch_reminders=True,
            **config,
        )


@contextlib.asynccontextmanager
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    ports = [free_port(), free_port()]
    front = Front([f"http://127.0.0.1:{port}" for port in ports])
    async with (
        redis_server(tmp_path) as redis_url,
        StandInServer(token=random_token()) as server,
        ForkServer() as forks,
    ):
        await front.start()
        try:
            yield Cluster(server, forks, front, redis_url, ports)
        finally:
            await front.stop()


@contextlib.asynccontextmanager
async def running(*bots: ForkedBot) -> AsyncIterator[tuple[ForkedBot, ...]]:
    """The bots started at the same moment; stopped at the end (a no-op for a killed one)."""
    try:
        await asyncio.gather(*(bot.start() for bot in bots))
        yield bots
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots), return_exceptions=True)


def check_clean(server: StandInServer) -> None:
    assert server.violations == [], server.violations[:3]
    assert server.handler_errors == [], server.handler_errors[:3]


# ---- 1. a start on an empty database -------------------------------------------------------


async def test_both_instances_started_at_once_on_an_empty_database_come_up_and_serve(
    tmp_path: Path,
) -> None:
    async with cluster(tmp_path) as c:
        for round_ in range(3):
            url = await databases.database_url(tmp_path / f"empty-{round_}.sqlite3")
            began = time.monotonic()
            bots = [c.instance(n, db_url=url, now=START) for n in range(2)]
            async with running(*bots):
                started = time.monotonic() - began
                assert c.server.webhook_url == c.front.url
                before = [c.front.accepted(n) for n in range(2)]
                users = [
                    SimUser(c.server, TgUser(id=700_000 + 10 * round_ + n, first_name="Пациент"))
                    for n in range(4)
                ]
                await asyncio.gather(*(user.send("/start") for user in users))
                for user in users:
                    assert user.bot_messages, "an update went unanswered"
                # Handled comes before the answer: wait for the answers too.
                await c.server.wait_for(lambda: c.server.pending_updates == 0)
                # Round robin: each instance handled (and answered 200 to) some of them.
                served = [c.front.accepted(n) - before[n] for n in range(2)]
                assert all(served), served
                engine = create_engine(url)
                try:
                    async with engine.connect() as conn:
                        version = await conn.scalars(
                            text("SELECT version_num FROM alembic_version")
                        )
                        assert version.all() == [HEAD_REVISION]
                        pids = await conn.scalars(text("SELECT pid FROM instances"))
                        assert sorted(pids.all()) == sorted(bot.pid for bot in bots)
                finally:
                    await engine.dispose()
            print(f"\nround {round_}: both up in {started:.2f} s, updates served {served}")
        check_clean(c.server)


# ---- 2. 500 accounts race for 50 times ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    user: SimUser
    patient_label: str
    time_label: str


async def build_race(tmp_path: Path, url: str) -> list[tuple[int, int]]:
    """The test clinic, a doctor with 50 times on Wednesday, 500 accounts each with a
    remembered patient and the consent already given; [(user id, n)]."""
    settings = harness_settings(data_dir=tmp_path, demo_file=CLINIC, database_url=url)
    clock = ManualClock(START)
    async with open_database(settings) as db:
        await prepare_data(db, settings=settings, clock=clock)
        async with db.sessions() as session:
            factory = Factory(session)
            org = await session.scalar(select(Organization).where(Organization.short_name == ORG))
            assert org is not None
            service = await factory.service(org, code="race", name=SERVICE)
            await factory.doctor(
                org,
                hours={WEDNESDAY: (clock_time(8), clock_time(16, 20))},
                slot_minutes=10,
                services=[service],
                code="race-doctor",
                last_name="Гончарова",
                first_name="Вера",
                middle_name="Сергеевна",
                position=POSITION,
            )
            pairs = await factory.remembered_accounts(
                user_ids=[FIRST_USER + n for n in range(ACCOUNTS)],
                organization_ids=[org.id],
                consent_version=settings.consent.version,
                now=START,
            )
        await refresh_slots(db, settings=settings, clock=clock)
    return [(user_id, user_id - FIRST_USER) for user_id in pairs]


async def walk_to_patient(account: Account) -> tuple[int, str]:
    """/start → organization → service → doctor → day → time: the screen asking who the
    patient is. Returns the button of the remembered patient (message id, data)."""
    user = account.user
    await user.send("/start")
    for label in (ORG, SERVICE, DOCTOR, DAY, account.time_label):
        await user.click(label)
    screen = user.last_bot_message
    for row in screen.inline_keyboard:
        for button in row:
            if button["text"] == account.patient_label:
                data = button.get("callback_data")
                assert isinstance(data, str)
                return screen.message_id, data
    raise AssertionError(f"no remembered patient's button for {user.user.id}")


@dataclass(frozen=True, slots=True)
class Told:
    confirmed: dict[str, int]  # ticket number → confirmations naming it
    tickets: dict[str, int]  # ticket number → PDF tickets


def told(messages: Sequence[StoredMessage]) -> Told:
    confirmed: Counter[str] = Counter()
    tickets: Counter[str] = Counter()
    for message in messages:
        if not message.from_bot:
            continue
        text_ = message.text or ""
        if BOOKED in text_ and (found := TICKET_IN_TEXT.search(text_)):
            confirmed[found.group(1)] += 1
        if message.document and (named := TICKET_FILE.fullmatch(message.document.file_name)):
            tickets[ticket_form(named.group(1))] += 1
    return Told(dict(confirmed), dict(tickets))


async def test_500_accounts_race_for_50_times_on_two_instances(tmp_path: Path) -> None:
    url = await databases.database_url(tmp_path / "race.sqlite3")
    accounts_made = await build_race(tmp_path, url)
    engine = create_engine(url)
    try:
        async with cluster(tmp_path) as c:
            accounts = [
                Account(
                    user=SimUser(c.server, TgUser(id=user_id, first_name="Пациент"), timeout=WAIT),
                    patient_label=full_name("Пациентов", f"Пациент{n}", None),
                    time_label=TIMES[n % len(TIMES)],
                )
                for user_id, n in accounts_made
            ]
            bots = [
                c.instance(n, db_url=url, now=START, booking={"slots_per_page": 50})
                for n in range(2)
            ]
            async with running(*bots):
                began = time.monotonic()
                buttons = await asyncio.gather(*(walk_to_patient(a) for a in accounts))
                walked = time.monotonic() - began
                before = [c.front.accepted(n) for n in range(2)]
                # Every last press at once.
                began = time.monotonic()
                presses = [
                    c.server.push_callback(a.user.user, message_id, data)[0]
                    for a, (message_id, data) in zip(accounts, buttons, strict=True)
                ]
                await asyncio.gather(*(c.server.wait_handled(u, timeout=WAIT) for u in presses))
                pressed = time.monotonic() - began
                await c.server.wait_for(lambda: c.server.pending_updates == 0)
                served = [c.front.accepted(n) - before[n] for n in range(2)]

                async def bookings() -> list[tuple[int | None, str, int]]:
                    async with engine.connect() as conn:
                        found = await conn.execute(
                            select(
                                Booking.telegram_chat_id, Booking.ticket_number, Booking.slot_id
                            ).where(Booking.status == BookingStatus.ACTIVE)
                        )
                        return [(chat, ticket, slot) for chat, ticket, slot in found]

                async def owed() -> int:
                    async with engine.connect() as conn:
                        return int(
                            await conn.scalar(
                                text(
                                    "SELECT count(*) FROM outbox"
                                    " WHERE state IN ('pending', 'sending')"
                                )
                            )
                            or 0
                        )

                booked = await bookings()
                by_chat = {chat: ticket for chat, ticket, _ in booked if chat is not None}

                async def everybody_told() -> bool:
                    if await owed():
                        return False
                    return all(
                        told(c.server.messages(chat)).tickets.get(ticket)
                        for chat, ticket in by_chat.items()
                    )

                await until(
                    everybody_told, within=WAIT, what="the winners' confirmations and tickets"
                )
                settled = time.monotonic() - began
            # Exactly 50 bookings, one per time, each for another account.
            assert len(booked) == len(TIMES)
            assert len({slot for _, _, slot in booked}) == len(TIMES)
            assert len(by_chat) == len(TIMES)
            winners = losers = 0
            for account, (message_id, _) in zip(accounts, buttons, strict=True):
                chat = account.user.user.id
                got = told(c.server.messages(chat, include_deleted=True))
                pressed_screen = c.server.message(chat, message_id)
                assert pressed_screen is not None
                if chat in by_chat:
                    winners += 1
                    ticket = by_chat[chat]
                    assert got.confirmed == {ticket: 1}, f"chat {chat}: {got.confirmed}"
                    assert got.tickets == {ticket: 1}, f"chat {chat}: {got.tickets}"
                    # The confirmation replaced the pressed screen.
                    assert BOOKED in (pressed_screen.text or "")
                else:
                    losers += 1
                    assert got == Told({}, {}), f"chat {chat} told of a booking it has not"
                    # The pressed screen became the day's times with «just taken».
                    assert TAKEN in (pressed_screen.text or ""), f"chat {chat}: not told"
            assert (winners, losers) == (len(TIMES), ACCOUNTS - len(TIMES))
            assert all(served), served
            check_clean(c.server)
            print(
                f"\n{ACCOUNTS} accounts for {len(TIMES)} times on two instances: dialogues "
                f"walked in {walked:.1f} s, the {ACCOUNTS} last presses handled in "
                f"{pressed:.1f} s (served {served[0]} + {served[1]}), everybody told in "
                f"{settled:.1f} s; {winners} booked, {losers} told the time was taken; "
                f"front answers {[dict(a) for a in c.front.answers]}"
            )
    finally:
        await engine.dispose()


# ---- 3 and 4. reminders ------------------------------------------------------------------------


async def populate_reminders(url: str, count: int) -> list[int]:
    """`count` chats, each with one active booking whose «2h» reminder is due at DUE; the
    chat ids. Written directly, on the database migrated here."""
    chats = [FIRST_CHAT + i for i in range(count)]
    ids = range(1, count + 1)
    async with open_migrated(url) as db, db.engine.begin() as conn:
        await insert_one_doctor(conn, code="two")
        # The visits two hours after the reminder is due, one doctor, a second apart.
        await conn.execute(
            insert(Slot),
            [
                {
                    "id": i,
                    "doctor_id": 1,
                    "starts_at": DUE + timedelta(hours=2, seconds=i),
                    "ends_at": DUE + timedelta(hours=2, seconds=i, minutes=20),
                    "is_open": True,
                }
                for i in ids
            ],
        )
        await insert_patients(conn, ids)
        await conn.execute(
            insert(Booking),
            [
                {
                    "id": i,
                    "ticket_number": f"TW-{i:06d}",
                    "slot_id": i,
                    "patient_id": i,
                    "service_id": 1,
                    "status": BookingStatus.ACTIVE,
                    "telegram_user_id": chat,
                    "telegram_chat_id": chat,
                    "created_at": DUE - timedelta(days=3),
                    "updated_at": DUE - timedelta(days=3),
                }
                for i, chat in zip(ids, chats, strict=True)
            ],
        )
        await conn.execute(
            insert(Reminder),
            [
                {
                    "id": i,
                    "booking_id": i,
                    "label": "2h",
                    "due_at": DUE,
                    "state": ReminderState.PLANNED,
                    "attempts": 0,
                }
                for i in ids
            ],
        )
    return chats


class Deliveries:
    """Messages the stand-in took, per chat, counted from its events as they come."""

    def __init__(self, server: StandInServer) -> None:
        self._server = server
        self._queue: asyncio.Queue[ServerEvent] = server.subscribe()
        self.per_chat: Counter[int] = Counter()
        self.last_chat: int | None = None

    def count(self) -> int:
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event.kind is EventKind.MESSAGE_SENT and event.chat_id is not None:
                self.per_chat[event.chat_id] += 1
                self.last_chat = event.chat_id
        return len(self.per_chat)

    def close(self) -> None:
        self._server.unsubscribe(self._queue)


@dataclass(frozen=True, slots=True)
class Row:
    reminder_id: int
    chat_id: int
    state: ReminderState
    note: str | None
    claimed_by: str | None


def read_rows(reader: SyncReader) -> list[Row]:
    found = reader.rows(
        "SELECT r.id, b.telegram_chat_id, r.state, r.last_error, r.claimed_by FROM reminders r"
        " JOIN bookings b ON b.id = r.booking_id"
    )
    return [Row(i, c, ReminderState(s), n, by) for i, c, s, n, by in found]


def instance_ids(reader: SyncReader, bots: Sequence[ForkedBot]) -> list[str]:
    """Each bot's instance id (its heartbeat's row, by the process's pid)."""
    by_pid = dict(reader.rows("SELECT pid, id FROM instances"))
    return [str(by_pid[bot.pid]) for bot in bots]


def reminder_config(**reminders: Any) -> dict[str, Any]:
    return {
        "reminders": {"per_second": PER_SECOND, "per_chat_interval_seconds": 0, **reminders},
        "instances": {"heartbeat_seconds": HEARTBEAT, "lease_seconds": LEASE},
    }


async def test_reminders_due_at_once_are_each_sent_once_by_two_instances(tmp_path: Path) -> None:
    url = await databases.database_url(tmp_path / "reminders.sqlite3")
    chats = await populate_reminders(url, REMINDERS)
    reader = SyncReader(url)
    try:
        async with cluster(tmp_path) as c:
            for chat in chats:
                c.server.add_user(TgUser(id=chat, first_name="Пациент"))
            deliveries = Deliveries(c.server)
            now = DUE + timedelta(seconds=30)
            # The default batch (500) for 2000; fewer reminders in smaller batches, so that a
            # short run still has both instances claim some.
            config = reminder_config(batch_size=min(500, max(1, REMINDERS // 4)))
            bots = [c.instance(n, db_url=url, now=now, **config) for n in range(2)]
            try:
                began = time.monotonic()
                async with running(*bots):
                    ids = instance_ids(reader, bots)
                    await c.server.wait_for(
                        lambda: deliveries.count() >= REMINDERS,
                        timeout=REMINDERS / PER_SECOND + WAIT,
                    )
                    sent = time.monotonic() - began

                    async def all_final() -> bool:
                        return all(r.state in FINAL for r in read_rows(reader))

                    await until(all_final, within=WAIT, what="every reminder marked")
                deliveries.count()
            finally:
                deliveries.close()
            rows = read_rows(reader)
            check_clean(c.server)
        assert {r.state for r in rows} == {ReminderState.SENT}
        assert set(deliveries.per_chat) == set(chats)
        assert set(deliveries.per_chat.values()) == {1}, "a chat got its reminder twice"
        by_instance = Counter(r.claimed_by for r in rows)
        assert set(by_instance) == set(ids), by_instance
        assert all(by_instance[i] for i in ids), "one instance sent them all"
    finally:
        reader.close()
    print(
        f"\n{REMINDERS} reminders due at once on two instances (per_second {PER_SECOND}): all "
        f"delivered in {sent:.1f} s ({REMINDERS / sent:.1f} a second together), each exactly "
        f"once; sent by the instances: {[by_instance[i] for i in ids]}"
    )


async def test_an_instance_killed_mid_dispatch_leaves_its_reminders_to_the_survivor(
    tmp_path: Path,
) -> None:
    url = await databases.database_url(tmp_path / "kill.sqlite3")
    chats = await populate_reminders(url, KILL_REMINDERS)
    reader = SyncReader(url)
    try:
        async with cluster(tmp_path) as c:
            for chat in chats:
                c.server.add_user(TgUser(id=chat, first_name="Пациент"))
            deliveries = Deliveries(c.server)
            now = DUE + timedelta(seconds=30)
            config = reminder_config(batch_size=KILL_BATCH)
            bots = [c.instance(n, db_url=url, now=now, **config) for n in range(2)]
            try:
                async with running(*bots):
                    victim, survivor = bots
                    ids = instance_ids(reader, bots)
                    row_of = {r.chat_id: r.reminder_id for r in read_rows(reader)}

                    def victims_send() -> bool:
                        """Past KILL_AFTER, and the message just taken is the victim's: its
                        row is `sending`, its answer not yet read (the worst moment)."""
                        if deliveries.count() < KILL_AFTER or deliveries.last_chat is None:
                            return False
                        [(holder,)] = reader.rows(
                            "SELECT claimed_by FROM reminders"
                            f" WHERE id = {row_of[deliveries.last_chat]}"
                        )
                        return bool(holder == ids[0])

                    await c.server.wait_for(victims_send, timeout=WAIT)
                    await victim.kill()
                    killed_at = time.monotonic()
                    at_kill = read_rows(reader)
                    held = {
                        r.reminder_id: r
                        for r in at_kill
                        if r.claimed_by == ids[0]
                        and r.state in (ReminderState.CLAIMED, ReminderState.SENDING)
                    }
                    sending = sum(r.state is ReminderState.SENDING for r in held.values())
                    assert held, "the victim held no reminder when it was killed"

                    async def taken_over() -> bool:
                        rows = {r.reminder_id: r for r in read_rows(reader)}
                        return all(rows[i].claimed_by != ids[0] for i in held)

                    await until(taken_over, within=WAIT, what="the survivor to take them over")
                    takeover = time.monotonic() - killed_at

                    async def all_final() -> bool:
                        return all(r.state in FINAL for r in read_rows(reader)) and (
                            deliveries.count() >= KILL_REMINDERS
                        )

                    await until(all_final, within=WAIT, what="every reminder sent")
                    assert survivor.pid  # still running
                deliveries.count()
            finally:
                deliveries.close()
            rows = {r.reminder_id: r for r in read_rows(reader)}
            check_clean(c.server)
        # Nothing lost: every chat reminded, every row sent.
        assert {r.state for r in rows.values()} == {ReminderState.SENT}
        assert set(deliveries.per_chat) == set(chats)
        # What the victim held went to the survivor, not before the lease had run out: the
        # victim's last heartbeat was at most HEARTBEAT before the kill.
        assert all(rows[i].claimed_by == ids[1] for i in held)
        assert takeover >= LEASE - HEARTBEAT - 0.1, takeover
        # A duplicate only where a send had started: its row says so.
        duplicated = [chat for chat, n in deliveries.per_chat.items() if n > 1]
        for chat in duplicated:
            row = rows[row_of[chat]]
            assert row.note == RESENT_AFTER_CRASH, f"chat {chat} got two, its row not noted"
            assert deliveries.per_chat[chat] == 2
        noted = sum(r.note == RESENT_AFTER_CRASH for r in rows.values())
        assert len(duplicated) <= noted <= sending
        sent_by = Counter(r.claimed_by for r in rows.values())
    finally:
        reader.close()
    print(
        f"\nkill -9 of one of two instances after {KILL_AFTER} of {KILL_REMINDERS} reminders: "
        f"it held {len(held)} ({sending} sending); the survivor took them over "
        f"{takeover:.1f} s after the kill (lease {LEASE:.0f} s); {len(duplicated)} duplicates, "
        f"{noted} rows noted as resent; sent by victim/survivor: "
        f"{sent_by[ids[0]]}/{sent_by[ids[1]]}"
    )
