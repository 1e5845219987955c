"""Organizations, services and doctors are cached in the bot's memory; an import run by
another process (`python -m bot import`) reaches the running bot at its next update."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.standin.harness import BotHarness
from tests.e2e.conftest import CLINIC
from tests.test_cli import PROCESS_TIMEOUT, REPO_ROOT, cli_env

NEW_ORGANIZATION = """
[[organizations]]
code = "gp9"
name = "ГБУЗ «Городская поликлиника № 9»"
short_name = "Поликлиника № 9"
address = "г. Москва, ул. Новая, д. 9"
phone = "+7 (495) 999-99-99"
timezone = "Europe/Moscow"

  [[organizations.services]]
  code = "therapist"
  name = "Приём терапевта"
"""


async def test_an_import_by_another_process_reaches_the_running_bot(
    harness: BotHarness, tmp_path: Path
) -> None:
    user = harness.user(1001, "Пётр")
    await user.send("/start")
    assert [row[0] for row in user.buttons()] == [
        "Поликлиника № 1",
        "Поликлиника № 2",
        "Мои записи",
    ]

    registry = tmp_path / "registry.toml"
    registry.write_text(CLINIC.read_text(encoding="utf-8") + NEW_ORGANIZATION, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "import",
        str(registry),
        cwd=REPO_ROOT,
        env=cli_env(TALON_DATABASE__URL=harness.settings.database.url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(PROCESS_TIMEOUT):
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()

    await user.send("/start")
    assert [row[0] for row in user.buttons()] == [
        "Поликлиника № 1",
        "Поликлиника № 2",
        "Поликлиника № 9",
        "Мои записи",
    ]
    await user.click("Поликлиника № 9")
    assert user.buttons()[0] == ["Приём терапевта"]
