"""Progress of long work: slot generation reports (doctors done, doctors total), and
bot/progress.py shows it as a bar on a terminal or as log lines elsewhere."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import progress as progress_module
from bot.progress import reporter
from bot.services.importing import import_data
from bot.services.slots import generate_slots
from bot.services.slots import generation as slots_generation
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.models import Slot
from tests import databases

# Wednesday 25 November 2026, 09:00 in Moscow.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
HORIZON = 7
HOURS = {"mon": "08:00-12:00", "wed": "08:00-12:00", "fri": "13:00-15:00"}

Sessions = async_sessionmaker[AsyncSession]
Calls = list[tuple[int, int]]


def registry(doctors: range) -> dict[str, Any]:
    return {
        "organizations": [
            {
                "code": "gp1",
                "name": "ГБУЗ «Городская поликлиника № 1»",
                "short_name": "Поликлиника № 1",
                "address": "г. Москва, ул. Тестовая, д. 1",
                "phone": "+7 (495) 111-11-11",
                "timezone": "Europe/Moscow",
                "services": [{"code": "therapist", "name": "Приём терапевта"}],
                "doctors": [
                    {
                        "code": f"d{i}",
                        "last_name": "Иванова",
                        "first_name": "Анна",
                        "position": "Врач-терапевт",
                        "services": ["therapist"],
                        "slot_minutes": 30,
                        "hours": HOURS,
                    }
                    for i in doctors
                ],
            }
        ]
    }


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    engine = create_engine(await databases.database_url(tmp_path / "p.sqlite3"))
    await upgrade(engine)
    yield create_session_factory(engine)
    await engine.dispose()


def assert_rising_to_the_total(calls: Calls, total: int) -> None:
    assert calls, "no progress was reported"
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert done[0] == 0
    assert calls[-1] == (total, total)
    assert done.count(total) == 1


async def test_an_import_reports_its_doctors_batch_by_batch(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slots_generation, "_PROGRESS_BATCH", 4)
    calls: Calls = []
    async with sessions() as session:
        report = await import_data(
            session,
            data=registry(range(1, 11)),
            now=NOW,
            horizon_days=HORIZON,
            progress=lambda done, total: calls.append((done, total)),
        )
    assert report.slots_added > 0
    assert_rising_to_the_total(calls, 10)
    # A report per batch of doctors as their slots are written, not only at both ends.
    assert calls == [(0, 10), (4, 10), (8, 10), (10, 10)]
    async with sessions() as session:
        assert await session.scalar(select(func.count(Slot.id))) == report.slots_added


async def test_a_regeneration_reports_the_checked_and_the_new_doctors(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slots_generation, "_PROGRESS_BATCH", 2)
    async with sessions() as session:
        await import_data(session, data=registry(range(1, 7)), now=NOW, horizon_days=HORIZON)

    # Nothing to change: from none done to all of them.
    calls: Calls = []
    async with sessions() as session:
        added = await generate_slots(
            session, now=NOW, horizon_days=HORIZON, progress=lambda d, t: calls.append((d, t))
        )
    assert added == 0
    assert calls == [(0, 6), (6, 6)]

    # Three doctors more (imported long ago: no slot ahead), and a longer horizon for everybody:
    # the six with slots are rewritten, then the new ones are written in batches.
    async with sessions() as session:
        await import_data(
            session, data=registry(range(7, 10)), now=NOW - timedelta(days=28), horizon_days=0
        )
    calls = []
    async with sessions() as session:
        added = await generate_slots(
            session, now=NOW, horizon_days=HORIZON + 7, progress=lambda d, t: calls.append((d, t))
        )
        await session.commit()
    assert added > 0
    assert_rising_to_the_total(calls, 9)
    assert calls == [(0, 9), (6, 9), (8, 9), (9, 9)]


async def test_no_doctors_report_nothing(sessions: Sessions) -> None:
    calls: Calls = []
    async with sessions() as session:
        await generate_slots(
            session, now=NOW, horizon_days=HORIZON, progress=lambda d, t: calls.append((d, t))
        )
    assert calls == []


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_a_log_line_every_few_seconds(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    clock = FakeClock()
    caplog.set_level(logging.INFO, logger=progress_module.__name__)
    with reporter("слоты", interval=10.0, clock=clock) as progress:
        progress(0, 1000)
        for done in range(50, 1000, 50):
            clock.now += 2.5  # a line every fourth call
            progress(done, 1000)
        progress(1000, 1000)
        progress(1000, 1000)  # told twice, said once
    lines = [r.getMessage() for r in caplog.records if r.name == progress_module.__name__]
    assert lines == [
        "слоты: 200 из 1000 врачей",
        "слоты: 400 из 1000 врачей",
        "слоты: 600 из 1000 врачей",
        "слоты: 800 из 1000 врачей",
        "слоты: 1000 из 1000 врачей",
    ]
    assert sys.stderr.getvalue() == ""  # no bar


def test_quick_work_without_a_terminal_logs_only_its_end(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    caplog.set_level(logging.INFO, logger=progress_module.__name__)
    with reporter("импорт") as progress:
        progress(0, 3)
        progress(3, 3)
    lines = [r.getMessage() for r in caplog.records if r.name == progress_module.__name__]
    assert lines == ["импорт: 3 из 3 врачей"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_tqdm_bar(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import tqdm

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    made: list[Any] = []
    real = tqdm.tqdm

    def recording(*args: Any, **kwargs: Any) -> Any:
        bar = real(*args, **kwargs)
        made.append(bar)
        return bar

    monkeypatch.setattr(tqdm, "tqdm", recording)
    caplog.set_level(logging.INFO, logger=progress_module.__name__)
    with reporter("слоты") as progress:
        progress(0, 1000)
        progress(350, 1000)
        progress(1000, 1000)
    [bar] = made
    assert bar.n == bar.total == 1000
    shown = terminal.getvalue()
    assert "слоты" in shown
    assert "1000/1000" in shown
    assert not [r for r in caplog.records if r.name == progress_module.__name__]


def test_the_bar_is_closed_when_the_work_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    def fail_midway() -> None:
        with reporter("слоты") as progress:
            progress(0, 10)
            progress(4, 10)
            raise RuntimeError("the import failed")

    with pytest.raises(RuntimeError, match="import failed"):
        fail_midway()
    assert "4/10" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")  # closed: the shell's prompt starts a line
