"""The demo data and README's demo patients: what a newcomer tries first must work."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.services.booking import identify_patient
from bot.services.clock import ManualClock
from bot.services.identity import normalize_document_number, normalize_oms, parse_birth_date
from bot.standin.harness import BotHarness, harness_settings

README = Path(__file__).parents[2] / "README.md"


@pytest.fixture
async def demo(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[BotHarness]:
    settings = harness_settings(data_dir=tmp_path, database_url=database_url)
    async with BotHarness(settings=settings, clock=clock) as running:
        yield running
        assert running.server.violations == []
        assert running.server.handler_errors == []


def readme_patients() -> list[tuple[str, str, list[str], str]]:
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # Name, policy, documents, birth date (and where the patient is attached).
        if len(cells) in (4, 5) and re.fullmatch(r"\d{9,16}", cells[1]):
            documents = re.findall(r"(\d[\d -]*\d) \(", cells[2])
            rows.append((cells[0], cells[1], documents, cells[3]))
    return rows


def test_readme_lists_demo_patients() -> None:
    assert len(readme_patients()) >= 4


async def test_every_readme_credential_identifies_its_patient(demo: BotHarness) -> None:
    async with demo.database.sessions() as session:
        for name, oms, documents, birth in readme_patients():
            assert documents, name
            for document in documents:
                patient = await identify_patient(
                    session,
                    oms=normalize_oms(oms),
                    document=normalize_document_number(document),
                    birth_date=parse_birth_date(birth, today=date(2026, 12, 1)),
                )
                assert patient is not None, (name, document)
                assert patient.full_name == name.split(" (")[0]


async def test_a_demo_patient_books_on_the_demo_data(demo: BotHarness) -> None:
    user = demo.user(5001, "Пётр")
    await user.send("/start")
    organizations = [row[0] for row in user.buttons()[:-1]]  # the last is «Мои записи»
    assert len(organizations) >= 2
    await user.click(organizations[0])
    await user.click(user.buttons()[0][0])  # the first service
    await user.click(user.buttons()[0][0])  # its first doctor
    open_days = [b for row in user.buttons()[:-1] for b in row if not b.startswith("✖")]
    assert open_days
    await user.click(open_days[0])
    free = [b for row in user.buttons()[:-1] for b in row if re.fullmatch(r"\d\d:\d\d", b)]
    await user.click(free[0])
    await user.click("Принимаю")
    _name, oms, documents, birth = readme_patients()[0]
    await user.send(oms)
    await user.send(documents[0])
    await user.send(birth)
    assert "Вы успешно записались на приём!" in user.bot_messages[-2].text
    assert user.last_bot_message.document is not None
