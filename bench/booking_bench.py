"""The booking dialogue against a bare aiogram bot, side by side on the same stand-in.

N simulated patients, each with a registry record and a doctor of their own, walk the whole
path at once: /start → organization → service → doctor → day → time → consent → OMS number →
document → birth date, which books the visit and sends the PDF ticket (ten updates each). The
bare bot (bench/botproc.py) gets the same ten updates per patient from the same driver: the
same three typed texts and the same presses, on its own buttons.

Each bot runs in a process of its own, both at once, each polling its own stand-in server in
this process, which also holds the simulated patients. Each bot first serves one warm-up
patient, so first-use costs (imports, compiled statements, font loading) are not counted.
Then rounds alternate between the bots (bare, Talon, bare, Talon, …), each round with N new
patients walking at once. Reported per bot, the median over the rounds of: updates/s, latency
per update (push to handled) p50 and p95, the whole walk p50, and the bot process's CPU time
over the round divided by the round's updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from bench.clinic import DialoguePatient, dialogue_clinic
from bench.driver import BenchError, BotProcess, Driver, Step, Walk, any_button, labelled, quantile
from bench.table import Row, ms, ratio
from bot.i18n import translate
from bot.standin.harness import random_token
from bot.standin.server import StandInServer

# The end-to-end tests' moment: Tuesday 1 December 2026, 09:00 in Moscow. Both bots' clocks
# stand still there, so every run offers the same days and times.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
USER_BASE = 100_000
BURST_TIMEOUT = 1800.0
UPDATE_TIMEOUT = 120.0
_TIME = re.compile(r"\d\d:\d\d")


def open_day(label: str) -> bool:
    """A day with free times: "ср 02.12 · 08:00–18:00" (a closed one starts with ✖)."""
    return " · " in label and not label.startswith("✖")


def free_time(label: str) -> bool:
    return _TIME.fullmatch(label) is not None


def booking_steps(patient: DialoguePatient) -> list[Step]:
    return [
        Step.send("/start"),
        Step.click(labelled(patient.organization)),
        Step.click(labelled(patient.service)),
        Step.click(labelled(patient.doctor)),
        Step.click(open_day),
        Step.click(free_time),
        Step.click(labelled(translate("ru", "btn-accept"))),
        Step.send(patient.oms),
        Step.send(patient.document),
        Step.send(patient.birth_date),
    ]


def bare_steps(patient: DialoguePatient) -> list[Step]:
    """The same kinds of update in the same order, and the same typed texts."""
    return [
        Step.click(any_button) if step.button is not None else step
        for step in booking_steps(patient)
    ]


async def prepare_database(folder: Path, patients: int) -> tuple[str, list[DialoguePatient]]:
    """The generated clinic, imported as `python -m bot import` would, before the bot starts."""
    from bot.config import BookingSettings
    from bot.services.importing import import_data, load_toml
    from db.engine import open_database

    clinic = folder / "clinic.toml"
    people = dialogue_clinic(clinic, patients)
    url = f"sqlite+aiosqlite:///{folder / 'talon.sqlite3'}"
    async with open_database(url) as db, db.sessions() as session:
        await import_data(
            session,
            data=load_toml(clinic),
            now=NOW,
            horizon_days=BookingSettings().horizon_days,
        )
    return url, people


@dataclass(frozen=True, slots=True)
class Burst:
    """One round: N patients walking at once through one bot."""

    walks: list[Walk]
    seconds: float
    cpu_seconds: float
    completed: int  # patients whose walk ended with a PDF document

    @property
    def updates(self) -> int:
        return sum(len(walk.latencies) for walk in self.walks)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_per_update(self) -> float:
        return self.cpu_seconds / self.updates

    def latency(self, q: float) -> float:
        return quantile([s for walk in self.walks for s in walk.latencies], q)

    @property
    def walk_p50(self) -> float:
        return quantile([walk.seconds for walk in self.walks], 0.5)


@dataclass
class Subject:
    """A bot under test: its process, its stand-in server and the driver on that server."""

    mode: Literal["talon", "bare"]
    bot: BotProcess
    driver: Driver
    rounds: list[Burst] = field(default_factory=list)

    @property
    def steps(self) -> Callable[[DialoguePatient], list[Step]]:
        return booking_steps if self.mode == "talon" else bare_steps

    async def warm_up(self, patient: DialoguePatient) -> None:
        user = self.driver.user(USER_BASE + patient.index, "Разминка")
        await self.driver.walk(user, self.steps(patient))

    async def round(self, patients: list[DialoguePatient]) -> None:
        driver = self.driver
        users = [driver.user(USER_BASE + p.index, f"Пациент {p.index}") for p in patients]
        cpu_before = await self.bot.cpu_seconds()
        began = time.perf_counter()
        async with asyncio.timeout(BURST_TIMEOUT):
            walks = await asyncio.gather(
                *(driver.walk(u, self.steps(p)) for u, p in zip(users, patients, strict=True))
            )
        seconds = time.perf_counter() - began
        cpu = await self.bot.cpu_seconds() - cpu_before
        driver.check_clean()
        completed = sum(1 for user in users if self._got_ticket(user.id))
        if self.mode == "talon" and completed != len(patients):
            raise BenchError(f"only {completed} of {len(patients)} patients got a PDF ticket")
        burst = Burst(walks=walks, seconds=seconds, cpu_seconds=cpu, completed=completed)
        self.rounds.append(burst)
        print(
            f"  {self.mode}: {burst.cpu_per_update * 1000:.2f} ms CPU/update, "
            f"{burst.rate:.1f} updates/s, p50 {burst.latency(0.5) * 1000:.1f} ms",
            file=sys.stderr,
            flush=True,
        )

    def _got_ticket(self, chat_id: int) -> bool:
        sent = [m for m in self.driver.server.messages(chat_id) if m.from_bot]
        return (
            bool(sent)
            and sent[-1].document is not None
            and (sent[-1].document.mime_type == "application/pdf")
        )

    def median(self, figure: Callable[[Burst], float]) -> float:
        return statistics.median(figure(burst) for burst in self.rounds)


async def run(patients: int, rounds: int, folder: Path) -> list[Row]:
    """Both bots up at once; rounds alternate between them, each with new patients."""
    url, people = await prepare_database(folder, patients * rounds + 1)
    *measured, warm_up = people
    subjects: list[Subject] = []
    async with contextlib.AsyncExitStack() as stack:
        for mode in ("bare", "talon"):
            server = await stack.enter_async_context(StandInServer(token=random_token()))
            bot = await stack.enter_async_context(
                BotProcess(server, mode=mode, db_url=url, now=NOW.isoformat())
            )
            subject = Subject(mode, bot, Driver(server, timeout=UPDATE_TIMEOUT))
            await subject.warm_up(warm_up)
            subjects.append(subject)
        for number in range(rounds):
            group = measured[number * patients : (number + 1) * patients]
            for subject in subjects:
                print(
                    f"booking: round {number + 1}/{rounds}, {patients} patients, {subject.mode}…",
                    file=sys.stderr,
                    flush=True,
                )
                await subject.round(group)
    bare, talon = subjects
    section = "booking"

    def line(what: str, figure: Callable[[Burst], float], show: Callable[[float], str]) -> Row:
        value, baseline = talon.median(figure), bare.median(figure)
        return Row(section, what, show(value), show(baseline), ratio(value, baseline))

    def seconds(value: float) -> str:
        return f"{value:.2f} s"

    def rate(value: float) -> str:
        return f"{value:.1f} updates/s"

    updates = talon.rounds[0].updates
    return [
        Row(
            section,
            f"size (median of {rounds} round(s), rounds alternate)",
            f"{patients} patients × 10 = {updates} updates",
            f"{bare.rounds[0].updates} updates",
        ),
        Row(
            section,
            "booked (PDF ticket received)",
            f"{sum(b.completed for b in talon.rounds)}/{patients * rounds}",
        ),
        line("bot CPU per update (bare: aiogram floor)", lambda b: b.cpu_per_update, ms),
        line("throughput", lambda b: b.rate, rate),
        line("latency per update p50", lambda b: b.latency(0.5), ms),
        line("latency per update p95", lambda b: b.latency(0.95), ms),
        line("whole walk (10 updates) p50", lambda b: b.walk_p50, seconds),
    ]
