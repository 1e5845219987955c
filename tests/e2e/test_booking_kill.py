"""kill -9 of the real bot process during a burst of 50 confirmations: after the restart every
booking's success message and PDF ticket arrive exactly once (twice only inside the documented
window, on a row marked `resent`), no patient is told of a booking that has no row, and no
confirmation is lost.

Set up once: the test clinic plus 50 registry patients and 50 free times, and 50 accounts each
walked through the real dialogue (bench/botproc.py in its own process, on the stand-in Bot API
server) up to the birth-date prompt, each for its own patient and time. The identity values
typed on the way are sealed with a fixed key (the bot's `privacy.state_key`), so they open in
every later bot process. The stopped database is kept as a template.

Each trial restores the template, starts a bot process on the same stand-in (the prompts it
edits still exist there), lets all 50 accounts send their birth date at once and SIGKILLs the
bot once the stand-in has taken a drawn number of the bot's messages (seeded: a failure can
be replayed with TALON_KILL_SEED): while the updates identify (before any booking), as the
bookings commit (mid-burst), or during the confirmations' and tickets' sends. A new process
then recovers the outbox and gets the updates that were not finished again (bot/polling.py).
Once everybody is booked, the outbox is empty and Telegram holds no update, the chats are
read, counting only what this trial sent: a copy must be one sent before the kill and one
after it, on a `resent` row; the confirmation comes before the ticket.

TALON_KILL_TRIALS sets the number of trials (10); bench/kill_bench.py runs more.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import re
import secrets
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.driver import ForkedBot, ForkServer
from bot.config import ReminderSettings
from bot.services.clock import ManualClock
from bot.services.staff.search import ticket_form
from bot.standin.client import SimUser
from bot.standin.events import EventKind, ServerEvent
from bot.standin.harness import harness_settings, random_token
from bot.standin.server import StandInServer, StoredMessage, TgUser, Violation
from bot.startup import open_database, prepare_data, refresh_slots
from db.models import BookingStatus, Organization, OutboxState
from tests.e2e.flow import ORG
from tests.factories import Factory

# The test clinic and its clock, as tests/e2e/conftest.py has them (not imported from
# there: this test runs on a SQLite file whatever database the rest of the suite uses).
CLINIC = Path(__file__).with_name("clinic.toml")
START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))  # a Tuesday
PATIENTS = 50
TRIALS = int(os.environ.get("TALON_KILL_TRIALS", "10"))
SEED = int(os.environ.get("TALON_KILL_SEED", "20261201"))
FIRST_USER = 9100
SERVICE = "Приём специалиста"
POSITION = "Врач-специалист"
DOCTORS = ("Алексеева", "Борисова", "Волкова")
WEDNESDAY = 2
# 08:00–14:00 in 20-minute slots: 18 times a doctor, all on the first page of times (24).
DAY = "ср 02.12 · 08:00–14:00"
PER_DOCTOR = 18
TIMES = [f"{8 + m // 60:02d}:{m % 60:02d}" for m in range(0, 6 * 60, 20)]
# The bot's messages the stand-in takes in an undisturbed trial: each typed birth date
# deleted (first thing in its update), then each confirmation and ticket sent (the old
# prompt's keyboard is gone after the first trial, so its edit is not counted).
MESSAGES_PER_TRIAL = PATIENTS * 3
COUNTED = {EventKind.MESSAGE_SENT, EventKind.MESSAGE_DELETED}
# Where the kill lands, by trial in turn, as the number of those messages taken before it:
# while the updates identify (before any booking), as the first confirmations go out
# (bookings committing, mid-burst), and during the confirmations' and tickets' sends.
KILL_BANDS = ((0, PATIENTS), (PATIENTS, PATIENTS + 20), (PATIENTS + 20, MESSAGES_PER_TRIAL))
# Outbox rows of a dead process are paced by the dispatcher: as fast as Telegram allows.
PER_SECOND = 30
WAIT = 60.0
BOOKED = "Вы успешно записались"
TICKET_IN_TEXT = re.compile(r"Талон № (\d{3} \d{3} \d{3}|\S+)")
TICKET_FILE = re.compile(r"talon-(.+)\.pdf")  # the number without its spaces: ticket_form
# What Telegram answers a redelivered update's repeated call; the bot takes both in stride.
EXPECTED_REFUSALS = {
    ("editMessageReplyMarkup", "message is not modified"),
    ("deleteMessage", "message to delete not found"),
}


@dataclass(frozen=True, slots=True)
class Person:
    """An account, the registry patient it books for, and the time it chose."""

    user_id: int
    oms: str
    document: str
    birth_date: str
    doctor: str  # the doctor's button
    time_label: str


@dataclass(frozen=True, slots=True)
class Booked:
    booking_id: int
    ticket: str
    patient_id: int
    chat_id: int


@dataclass(frozen=True, slots=True)
class Row:
    booking_id: int
    kind: str
    state: str
    resent: bool


@dataclass(frozen=True, slots=True)
class AtKill:
    """What the killed process had committed when it died."""

    kill_after: int  # the bot's messages the stand-in had taken
    booked: int
    unsent: int  # outbox rows pending or sending
    sending: int


@dataclass
class Summary:
    trials: int = 0
    lost: int = 0
    duplicates: int = 0  # extra copies seen, every one on a `resent` row
    resent_rows: int = 0  # rows taken back as "its send had started"
    kills: list[AtKill] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"kill -9 during {PATIENTS} bookings: {self.trials} trials, {self.lost} lost, "
            f"{self.duplicates} duplicates (all in the documented window), "
            f"{self.resent_rows} rows resent after a kill"
        )


def people() -> list[Person]:
    """50 accounts; each has its own patient (made-up identity values) and its own time."""
    doctors = [f"{POSITION} — {name} В. С." for name in DOCTORS]
    return [
        Person(
            user_id=FIRST_USER + n,
            oms=f"{5_100_000_000 + n}",
            document=f"{610_000 + n}",
            birth_date=(date(1970, 1, 1) + timedelta(days=211 * n)).strftime("%d.%m.%Y"),
            doctor=doctors[n // PER_DOCTOR],
            time_label=TIMES[n % PER_DOCTOR],
        )
        for n in range(PATIENTS)
    ]


# ---- the database --------------------------------------------------------------------------


async def build_clinic(workdir: Path, persons: list[Person]) -> str:
    """The test clinic, three more doctors with 54 times, the 50 patients; the database URL."""
    settings = harness_settings(
        data_dir=workdir,
        demo_file=CLINIC,
        reminders=ReminderSettings(per_chat_interval_seconds=0),
    )
    clock = ManualClock(START)
    async with open_database(settings) as db:
        await prepare_data(db, settings=settings, clock=clock)
        async with db.sessions() as session:
            await add_specialists(Factory(session))
            for person in persons:
                await Factory(session).patient(
                    oms=person.oms,
                    passport=person.document,
                    birth_date=datetime.strptime(person.birth_date, "%d.%m.%Y").date(),
                )
        await refresh_slots(db, settings=settings, clock=clock)
    return settings.database.url


async def add_specialists(factory: Factory) -> None:
    """A service of the first polyclinic with three doctors, Wednesday 08:00–14:00 each."""
    org = await factory.session.scalar(select(Organization).where(Organization.short_name == ORG))
    assert org is not None
    service = await factory.service(org, code="kill", name=SERVICE)
    for n, last_name in enumerate(DOCTORS):
        await factory.doctor(
            org,
            hours={WEDNESDAY: (clock_time(8), clock_time(14))},
            slot_minutes=20,
            services=[service],
            code=f"kill-doctor{n}",
            last_name=last_name,
            first_name="Вера",
            middle_name="Сергеевна",
            position=POSITION,
        )


def db_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite+aiosqlite:///"))


def save_template(url: str, template: Path) -> None:
    """A consistent copy of the stopped bot's database (SQLite's backup: WAL included)."""
    with (
        contextlib.closing(sqlite3.connect(db_file(url))) as source,
        contextlib.closing(sqlite3.connect(template)) as target,
    ):
        source.backup(target)


def restore(template: Path, url: str) -> None:
    live = db_file(url)
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, live)


def reading(url: str) -> sqlite3.Connection:
    """A connection that only reads, beside the running bot (WAL lets it). Not `mode=ro`: a
    read-only connection can't build the WAL index itself, and failed now and then with
    "file is not a database" right after a restart."""
    conn = sqlite3.connect(db_file(url))
    conn.execute("PRAGMA query_only = ON")
    return conn


def read_bookings(url: str) -> list[Booked]:
    """Active bookings, read while the bot runs (its open connections keep the WAL)."""
    with contextlib.closing(reading(url)) as conn:
        found = conn.execute(
            "SELECT id, ticket_number, patient_id, telegram_chat_id FROM bookings WHERE status = ?",
            (BookingStatus.ACTIVE.value,),
        ).fetchall()
    return [Booked(*row) for row in found]


def read_outbox(url: str) -> list[Row]:
    with contextlib.closing(reading(url)) as conn:
        found = conn.execute("SELECT booking_id, kind, state, resent FROM outbox").fetchall()
    return [Row(b, k, s, bool(r)) for b, k, s, r in found]


def at_kill(url: str, scratch: Path, kill_after: int) -> AtKill:
    """Read from a copy of the files the dead process left: a read-only connection cannot
    replay their WAL, and a writable one on the live file would do the next bot's recovery."""
    copy = scratch / "at-kill.sqlite3"
    for suffix in ("", "-wal"):
        source = Path(f"{db_file(url)}{suffix}")
        target = Path(f"{copy}{suffix}")
        target.unlink(missing_ok=True)
        if source.exists():
            shutil.copyfile(source, target)
    Path(f"{copy}-shm").unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        booked = conn.execute(
            "SELECT count(*) FROM bookings WHERE status = ?", (BookingStatus.ACTIVE.value,)
        ).fetchone()[0]
        states = Counter(
            dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        )
    return AtKill(
        kill_after=kill_after,
        booked=booked,
        unsent=states[OutboxState.PENDING.value] + states[OutboxState.SENDING.value],
        sending=states[OutboxState.SENDING.value],
    )


# ---- the dialogue up to the last step -----------------------------------------------------


async def walk_to_birth_date(user: SimUser, person: Person) -> None:
    """The real dialogue up to, not including, the birth date that books."""
    await user.send("/start")
    for button in (ORG, SERVICE, person.doctor, DAY, person.time_label, "Принимаю"):
        await user.click(button)
    await user.send(person.oms)
    await user.send(person.document)
    assert "Шаг 3 из 3" in (user.last_bot_message.text or "")


# ---- one trial -----------------------------------------------------------------------------


@dataclass
class Rig:
    """What every trial shares: the stand-in, the fork server, the bot's configuration."""

    server: StandInServer
    forks: ForkServer
    url: str
    template: Path
    persons: list[Person]
    state_key: str

    def bot(self) -> ForkedBot:
        return ForkedBot(
            self.server,
            self.forks,
            mode="talon",
            db_url=self.url,
            now=START.isoformat(),
            privacy={"state_key": self.state_key},
            reminders={"per_second": PER_SECOND},
        )


def message_counter(queue: asyncio.Queue[ServerEvent]) -> Callable[[], int]:
    """The bot's messages the stand-in has taken since `queue` was subscribed."""
    seen = 0

    def count() -> int:
        nonlocal seen
        while not queue.empty():
            seen += queue.get_nowait().kind in COUNTED
        return seen

    return count


async def burst_and_kill(rig: Rig, bot: ForkedBot, kill_after: int) -> None:
    """All 50 birth dates at once; SIGKILL once `kill_after` bot messages were taken."""
    queue = rig.server.subscribe()
    try:
        counted = message_counter(queue)
        for person in rig.persons:
            rig.server.push_message(TgUser(person.user_id, "Пациент"), person.birth_date)
        await rig.server.wait_for(lambda: counted() >= kill_after, timeout=WAIT)
        await bot.kill()
    finally:
        rig.server.unsubscribe(queue)


async def settle(rig: Rig) -> None:
    """Until Telegram holds no update, everybody is booked and nothing is owed. (Not the
    stand-in's wait_handled: its timeout message quotes the update, here a birth date.)"""
    deadline = time.monotonic() + WAIT
    while not finished(rig):
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled within {WAIT:.0f} s: {progress(rig)}")
        # A poll interval, not a fixed wait: the bot writes the database in another process.
        await asyncio.sleep(0.005)


def finished(rig: Rig) -> bool:
    # An open long poll: the bot's offset confirmed every update and none is pending (a
    # pending update ends a long poll at once, and an update in flight forbids one).
    if not rig.server.long_polling:
        return False
    owed = {OutboxState.PENDING.value, OutboxState.SENDING.value}
    if any(row.state in owed for row in read_outbox(rig.url)):
        return False
    return len(read_bookings(rig.url)) >= PATIENTS


def progress(rig: Rig) -> str:
    states = dict(Counter(row.state for row in read_outbox(rig.url)))
    booked = {b.chat_id for b in read_bookings(rig.url)}
    missing = [p.user_id for p in rig.persons if p.user_id not in booked]
    # Whether an unbooked chat still shows the birth-date prompt (no text is quoted: a
    # message could repeat what was typed).
    prompted = sum("Шаг 3 из 3" in (rig.server.messages(c)[-1].text or "") for c in missing)
    return (
        f"{len(booked)} booked, outbox {states}, long poll open: {rig.server.long_polling}, "
        f"unbooked chats {missing[:10]} ({prompted} of them at the birth-date prompt)"
    )


def watermarks(rig: Rig) -> dict[int, int]:
    """Each chat's newest message id (the stand-in numbers a chat's messages in order)."""
    return {
        p.user_id: max(
            (m.message_id for m in rig.server.messages(p.user_id, include_deleted=True)),
            default=0,
        )
        for p in rig.persons
    }


@dataclass(frozen=True, slots=True)
class Marks:
    """Each chat's newest message id at the trial's start and at the kill."""

    start: dict[int, int]
    kill: dict[int, int]


async def run_trial(rig: Rig, kill_after: int, summary: Summary) -> None:
    restore(rig.template, rig.url)
    start = watermarks(rig)
    violations, errors = len(rig.server.violations), len(rig.server.handler_errors)
    killed = rig.bot()
    await killed.start()
    try:
        await burst_and_kill(rig, killed, kill_after)
    finally:
        await killed.stop()  # a no-op after the kill
    summary.kills.append(at_kill(rig.url, rig.template.parent, kill_after))
    marks = Marks(start=start, kill=watermarks(rig))
    survivor = rig.bot()
    await survivor.start()  # `ready` comes after the outbox's recovery
    try:
        await settle(rig)
        check(rig, marks, summary)
    finally:
        await survivor.stop()
    assert rig.server.handler_errors[errors:] == []
    check_refusals(rig.server.violations[violations:])
    summary.trials += 1


def check_refusals(violations: list[Violation]) -> None:
    """The stand-in refused nothing but what a redelivered update repeats."""
    unexpected = [
        v
        for v in violations
        if not any(v.method == m and reason in v.description for m, reason in EXPECTED_REFUSALS)
    ]
    assert unexpected == [], unexpected[:3]


# ---- the checks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Told:
    """What a chat got in this trial: its confirmations and PDF tickets, by the ticket
    number they name, as message ids in order."""

    confirmed: dict[str, list[int]]
    tickets: dict[str, list[int]]


def told(messages: list[StoredMessage]) -> Told:
    confirmed: dict[str, list[int]] = {}
    tickets: dict[str, list[int]] = {}
    for message in messages:
        text = message.text or ""
        if BOOKED in text and (found := TICKET_IN_TEXT.search(text)):
            confirmed.setdefault(found.group(1), []).append(message.message_id)
        if message.document and (named := TICKET_FILE.fullmatch(message.document.file_name)):
            ticket = ticket_form(named.group(1))
            assert ticket in (message.caption or ""), "a ticket's caption names another"
            tickets.setdefault(ticket, []).append(message.message_id)
    return Told(confirmed, tickets)


def check(rig: Rig, marks: Marks, summary: Summary) -> None:
    """Nobody lost, nobody told of a booking without a row, a copy only on a `resent` row."""
    bookings = read_bookings(rig.url)
    by_chat = {b.chat_id: b for b in bookings}
    assert len(by_chat) == len(bookings) == PATIENTS, "an account booked twice or not at all"
    assert len({b.patient_id for b in bookings}) == PATIENTS, "a patient was not booked"
    rows = {(r.booking_id, r.kind): r for r in read_outbox(rig.url)}
    summary.resent_rows += sum(r.resent for r in rows.values())
    for person in rig.persons:
        chat = person.user_id
        fresh = [
            m
            for m in rig.server.messages(chat, include_deleted=True)
            if m.from_bot and m.message_id > marks.start[chat]
        ]
        booking, got = by_chat[chat], told(fresh)
        # No success without its row: every ticket named is the chat's own active booking.
        named = set(got.confirmed) | set(got.tickets)
        assert named <= {booking.ticket}, f"chat {chat} told of a booking with no row"
        confirmed, tickets = got.confirmed.get(booking.ticket), got.tickets.get(booking.ticket)
        assert confirmed, f"chat {chat}: its confirmation was lost"
        assert tickets, f"chat {chat}: its ticket was lost"
        assert confirmed[0] < tickets[0], f"chat {chat}: the ticket came before the confirmation"
        for kind, ids in (("booked", confirmed), ("ticket", tickets)):
            if len(ids) > 1:
                check_duplicate(chat, ids, rows[(booking.booking_id, kind)], marks.kill[chat])
                summary.duplicates += len(ids) - 1


def check_duplicate(chat: int, ids: list[int], row: Row, at_kill: int) -> None:
    """The documented window: the killed process's copy reached Telegram, its `sent` mark did
    not commit, and the next process sent the row again, marked `resent`."""
    assert row.resent, f"chat {chat}: {row.kind} sent {len(ids)} times, its row not resent"
    assert len(ids) == 2, f"chat {chat}: {row.kind} sent {len(ids)} times"
    assert ids[0] <= at_kill < ids[1], f"chat {chat}: both copies of {row.kind} by one process"


# ---- the whole run -------------------------------------------------------------------------


def kill_points(trials: int, seed: int) -> list[int]:
    """How many bot messages each trial's kill waits for, drawn band by band."""
    draw = random.Random(seed)
    return [draw.randrange(*KILL_BANDS[trial % len(KILL_BANDS)]) for trial in range(trials)]


async def prepare_rig(rig: Rig) -> None:
    """The 50 accounts walked to the birth-date prompt by one bot, stopped; the template."""
    setup = rig.bot()
    await setup.start()
    try:
        users = [
            SimUser(rig.server, TgUser(p.user_id, "Пациент"), timeout=WAIT) for p in rig.persons
        ]
        await asyncio.gather(
            *(walk_to_birth_date(u, p) for u, p in zip(users, rig.persons, strict=True))
        )
    finally:
        await setup.stop()
    save_template(rig.url, rig.template)


async def run_kill_trials(workdir: Path, *, trials: int, seed: int) -> Summary:
    """The set-up, then `trials` killed bursts; what was seen (an assertion fails a trial)."""
    persons = people()
    url = await build_clinic(workdir, persons)
    summary = Summary()
    async with StandInServer(token=random_token()) as server, ForkServer() as forks:
        rig = Rig(
            server=server,
            forks=forks,
            url=url,
            template=workdir / "template.sqlite3",
            persons=persons,
            state_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
        await prepare_rig(rig)
        for trial, kill_after in enumerate(kill_points(trials, seed)):
            try:
                await run_trial(rig, kill_after, summary)
            except BaseException as error:
                error.add_note(f"trial {trial} (seed {seed}), killed after {kill_after} messages")
                raise
    return summary


async def test_kill_9_during_50_bookings_loses_nothing_and_duplicates_only_resent(
    tmp_path: Path,
) -> None:
    summary = await run_kill_trials(tmp_path, trials=TRIALS, seed=SEED)
    print(f"\n{summary.line()} (seed {SEED})")
    print("at each kill (messages taken, booked, rows unsent, rows sending):")
    print([(k.kill_after, k.booked, k.unsent, k.sending) for k in summary.kills])
    assert summary.trials == TRIALS
    # The kills did land before any booking and in the middle of the burst.
    assert any(k.booked == 0 for k in summary.kills)
    assert any(0 < k.booked < PATIENTS for k in summary.kills)
