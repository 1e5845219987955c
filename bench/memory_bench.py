"""Resident memory of the bot process: idle after start, and the growth per open dialogue.

Each bot (Talon and the bare aiogram bot of bench/botproc.py) starts in a process of its own
against the stand-in, on a small generated clinic already imported (as after `python -m bot
import`). Its VmRSS is read one second after polling began (idle). Then 128 dialogues warm
it up, VmRSS is read, N simulated users each send /start and press the first organization
(for the bare bot: its first button), which leaves N dialogues open, and VmRSS is read again.

TALON_BENCH_TRACEMALLOC=<dir> (a diagnostic; the figures of that run mean nothing): the Talon
bot writes a tracemalloc snapshot there just after each of the last two readings; compare them
with `tracemalloc.Snapshot.load(...).compare_to(...)` to see what the open dialogues keep.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

from bench.booking_bench import NOW, prepare_database
from bench.clinic import DialoguePatient
from bench.driver import (
    BenchError,
    BotProcess,
    Driver,
    Step,
    Walk,
    any_button,
    bounded_gather,
    labelled,
)
from bench.table import Row, mib, ratio
from bot.standin.harness import random_token
from bot.standin.server import StandInServer

USER_BASE = 300_000
# Enough to fill what fills once and then stays the same size, so the growth that is measured
# is the dialogues' own: aiogram keeps the last 128 updates (Update.event_type is an
# lru_cache), and the database pool opens its connections (a thread each) as a burst needs
# them. With 16 warm-up dialogues these one-off megabytes were counted as 1,000 dialogues'
# growth: 3.5 MiB per 1,000 at 1,000 opened, against 0.9 now and 0.5 at 10,000 opened.
WARM_UP = 128
CONCURRENCY = 32
SETTLE_SECONDS = 1.0
DIALOGUES_TIMEOUT = 1800.0
WARM_UP_TIMEOUT = 120.0
SNAPSHOT_TIMEOUT = 300.0


def snapshot(pid: int, folder: Path) -> None:
    """Has the Talon bot write a tracemalloc snapshot into `folder` and waits until it is there
    (TALON_BENCH_TRACEMALLOC, see bench/botproc.py). Blocking: run it in a thread."""
    pattern = f"talon-{pid}-*.tracemalloc"
    taken = len(list(folder.glob(pattern)))
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT
    while len(list(folder.glob(pattern))) == taken:
        if time.monotonic() > deadline:
            raise BenchError(
                f"the bot wrote no tracemalloc snapshot within {SNAPSHOT_TIMEOUT:.0f} s"
            )
        time.sleep(0.2)


async def measure(
    mode: Literal["talon", "bare"], count: int, *, db_url: str, org: DialoguePatient
) -> tuple[float, float, float]:
    """(idle RSS, RSS before the dialogues, RSS after them), MiB."""
    choose = labelled(org.organization) if mode == "talon" else any_button
    steps = [Step.send("/start"), Step.click(choose)]
    snapshots = os.environ.get("TALON_BENCH_TRACEMALLOC") if mode == "talon" else None
    async with (
        StandInServer(token=random_token()) as server,
        BotProcess(server, mode=mode, db_url=db_url, now=NOW.isoformat()) as bot,
    ):
        await asyncio.sleep(SETTLE_SECONDS)
        idle = bot.rss_mib()
        driver = Driver(server)

        def dialogue(number: int) -> Callable[[], Awaitable[Walk]]:
            return lambda: driver.walk(driver.user(USER_BASE + number, f"Пациент {number}"), steps)

        async with asyncio.timeout(WARM_UP_TIMEOUT):
            await bounded_gather([dialogue(n) for n in range(WARM_UP)], concurrency=CONCURRENCY)
        await asyncio.sleep(SETTLE_SECONDS)
        before = bot.rss_mib()
        if snapshots:
            await asyncio.to_thread(snapshot, bot.pid, Path(snapshots))
        async with asyncio.timeout(DIALOGUES_TIMEOUT):
            await bounded_gather(
                [dialogue(n) for n in range(WARM_UP, WARM_UP + count)], concurrency=CONCURRENCY
            )
        await asyncio.sleep(SETTLE_SECONDS)
        after = bot.rss_mib()
        if snapshots:
            await asyncio.to_thread(snapshot, bot.pid, Path(snapshots))
        driver.check_clean()
    return idle, before, after


async def run(dialogues: int, folder: Path) -> list[Row]:
    url, people = await prepare_database(folder, 1)
    results = {}
    for mode in ("bare", "talon"):
        print(f"memory: {dialogues} dialogues with the {mode} bot…", file=sys.stderr, flush=True)
        results[mode] = await measure(mode, dialogues, db_url=url, org=people[0])
    talon_idle, talon_before, talon_after = results["talon"]
    bare_idle, bare_before, bare_after = results["bare"]
    talon_growth = (talon_after - talon_before) / dialogues * 1000
    bare_growth = (bare_after - bare_before) / dialogues * 1000
    return [
        Row(
            "memory",
            "idle RSS after start (baseline: bare aiogram)",
            mib(talon_idle),
            mib(bare_idle),
            ratio(talon_idle, bare_idle),
        ),
        Row(
            "memory",
            f"RSS growth per 1,000 open dialogues ({dialogues} opened)",
            mib(talon_growth),
            mib(bare_growth),
            ratio(talon_growth, bare_growth),
        ),
    ]
