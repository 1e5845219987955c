"""`python -m bot` as a real process: exit codes, output, the database, polling and SIGINT."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.services.installation import describe_database
from bot.standin import StandInServer, StoredMessage, TgUser
from db.migrate import HEAD_REVISION
from tests import databases

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_IMPORT = REPO_ROOT / "examples" / "import.toml"
TOKEN = "424242424:CLI-test-SECRET_token-value"
SECRET_PART = TOKEN.split(":", 1)[1]
# One process start costs a few seconds (imports); this bounds a hung one.
PROCESS_TIMEOUT = 60.0


def cli_env(**talon: str) -> dict[str, str]:
    """The current environment without any TALON_* variable, plus the given ones."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TALON_")}
    # The project is not installed into the virtualenv: make `bot` importable from any cwd.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.update(talon)
    return env


def run_cli(*args: str | Path, cwd: Path, **talon: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        cwd=cwd,
        env=cli_env(**talon),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=PROCESS_TIMEOUT,
        check=False,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def tables(url: str) -> set[str]:
    return databases.run_sync(databases.table_names(url))


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order (SQLite or the test's PostgreSQL)."""
    return databases.run_sync(databases.snapshot(url))


def counts(url: str) -> dict[str, int]:
    return {table: len(rows) for table, rows in snapshot(url).items()}


def assert_no_traceback(*outputs: str) -> None:
    for output in outputs:
        assert "Traceback" not in output, output


# --- no token ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), ("run",)], ids=["default", "run"])
def test_without_a_token_the_bot_explains_how_to_set_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run_cli(*args, cwd=tmp_path)

    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "TALON_TELEGRAM__TOKEN" in lines[0]
    assert "python -m bot sandbox" in lines[0]
    assert_no_traceback(result.stderr)
    # It stopped before touching any database.
    assert list(tmp_path.iterdir()) == []


# --- migrate -------------------------------------------------------------------------------------


def test_migrate_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    db = url = databases.database_url_sync(tmp_path / "x.sqlite3")

    first = run_cli("migrate", cwd=tmp_path, TALON_DATABASE__URL=url)

    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.strip()
        == f"База данных создана: {describe_database(url)}, схема {HEAD_REVISION}"
    )
    assert_no_traceback(first.stderr)
    created = tables(db)
    assert {
        "alembic_version",
        "organizations",
        "services",
        "doctors",
        "working_hours",
        "slots",
        "patients",
        "patient_documents",
        "bookings",
        "consents",
        "fsm_states",
    } <= created
    after_first = snapshot(db)
    # Migrations only: no demo data, no slots.
    assert after_first["organizations"] == []
    assert len(after_first["alembic_version"]) == 1

    second = run_cli("migrate", cwd=tmp_path, TALON_DATABASE__URL=url)

    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"Схема уже актуальна ({HEAD_REVISION})"
    assert_no_traceback(second.stderr)
    assert snapshot(db) == after_first


def test_missing_config_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("--config", tmp_path / "nope.toml", "migrate", cwd=tmp_path)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Файл настроек не найден: {tmp_path / 'nope.toml'} ")
    assert list(tmp_path.iterdir()) == []


CONFIG_MISTAKES = {
    # [telegram] forgotten: the token lands at the top level, where it is an unknown key.
    "token-outside-its-section": f'token = "{TOKEN}"\n',
    "toml-syntax-error": f'[telegram\ntoken = "{TOKEN}"\n',
    "unknown-log-level": f'[telegram]\ntoken = "{TOKEN}"\n[logging]\nlevel = "verbose"\n',
}


@pytest.mark.parametrize("text", CONFIG_MISTAKES.values(), ids=CONFIG_MISTAKES.keys())
def test_a_config_mistake_is_reported_without_traceback_or_token(tmp_path: Path, text: str) -> None:
    config = tmp_path / "talon.toml"
    config.write_text(text, encoding="utf-8")

    result = run_cli("--config", config, "migrate", cwd=tmp_path)

    assert result.returncode != 0
    assert SECRET_PART not in result.stdout + result.stderr
    assert_no_traceback(result.stderr)
    assert list(tmp_path.iterdir()) == [config]


# --- import --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    db: str  # its URL
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    """examples/import.toml imported into a fresh database, once for the module."""
    workdir = tmp_path_factory.mktemp("imported")
    postgres = databases.on_postgres()
    # Kept for the whole module, so not one of the per-test databases.
    db = (
        databases.run_sync(databases.create_database())
        if postgres
        else sqlite_url(workdir / "talon.sqlite3")
    )
    result = run_cli("import", EXAMPLE_IMPORT, cwd=workdir, TALON_DATABASE__URL=db)
    yield Imported(db=db, result=result)
    if postgres:
        databases.run_sync(databases.drop_database(db))


@pytest.fixture
def imported_copy(imported: Imported, tmp_path: Path) -> str:
    """A copy of the imported database for one test, as a URL."""
    assert imported.result.returncode == 0, imported.result.stderr
    path = tmp_path / "talon.sqlite3"
    if not databases.on_postgres():
        shutil.copyfile(databases.sqlite_path(imported.db), path)
    return databases.database_url_sync(path, template=imported.db)


def identity_values(path: Path) -> set[str]:
    """OMS, document numbers and birth dates of the file, as written and as digits only."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    values: set[str] = set()
    for patient in data.get("patients", []):
        birth = patient["birth_date"]
        if isinstance(birth, str):
            values.add(birth)
            day, month, year = birth.split(".")
            birth = f"{year}-{month}-{day}"
        values.update({str(birth), patient["oms"]})
        values.update(document["number"] for document in patient["documents"])
    digits = {"".join(ch for ch in value if ch.isdigit()) for value in values}
    values |= {value for value in digits if len(value) >= 5}
    return values


def assert_no_identity_values(source: Path, *outputs: str) -> None:
    secrets = identity_values(source)
    assert secrets
    for output in outputs:
        leaked = sorted(value for value in secrets if value in output)
        assert not leaked, f"identity values in the output: {leaked}"


def test_import_of_the_example_file(imported: Imported) -> None:
    result = imported.result

    assert result.returncode == 0, result.stderr
    summary = result.stdout.strip()
    assert summary.startswith("Импорт выполнен.")
    assert "организации: создано 1, обновлено 0" in summary
    assert "пациенты: создано 1, обновлено 0" in summary
    assert_no_traceback(result.stdout, result.stderr)
    assert_no_identity_values(EXAMPLE_IMPORT, result.stdout, result.stderr)

    rows = counts(imported.db)
    assert rows["organizations"] == 1
    assert rows["services"] == 2  # a district service and a paid one
    assert rows["doctors"] == 1
    assert rows["patients"] == 1
    assert rows["patient_documents"] == 2
    assert rows["slots"] > 0


def test_import_again_updates_and_creates_nothing(imported_copy: str, tmp_path: Path) -> None:
    before = counts(imported_copy)

    result = run_cli("import", EXAMPLE_IMPORT, cwd=tmp_path, TALON_DATABASE__URL=imported_copy)

    assert result.returncode == 0, result.stderr
    assert "организации: создано 0, обновлено 1" in result.stdout
    assert "новых слотов: 0." in result.stdout
    assert counts(imported_copy) == before


BAD_IMPORT = """\
[[organizations]]
code = "example-gp1"
name = "Переименованная поликлиника"
short_name = "Переименованная"
address = "г. Москва, ул. Другая, д. 2"
phone = "+7 (495) 000-00-02"
timezone = "Europe/Moskow"

  [[organizations.services]]
  code = "therapist"
  name = "Приём терапевта"

[[patients]]
last_name = "Григорьев"
first_name = "Павел"
middle_name = "Андреевич"
birth_date = "23.05.1979"
oms = "7788899730665104"
documents = [
  { kind = "passport", number = "275318" },
  { kind = "snils", number = "146-287-359 90" },
]

[[patients]]
last_name = "Петров"
first_name = "Пётр"
birth_date = "31.02.1980"
oms = "7788899730665105"
documents = [
  { kind = "snils", number = "146-287-359 91" },
  { kind = "passport", number = "97531" },
]
"""

BAD_IMPORT_LOCATIONS = {
    "organizations[1] (Переименованная).timezone",
    "patients[2] (Петров П.).oms",
    "patients[2] (Петров П.).birth_date",
    "patients[2] (Петров П.).documents[1].number",
    "patients[2] (Петров П.).documents[2].number",
}


def test_import_of_a_file_with_errors_changes_nothing(imported_copy: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_IMPORT, encoding="utf-8")
    before = snapshot(imported_copy)

    result = run_cli("import", bad, cwd=tmp_path, TALON_DATABASE__URL=imported_copy)

    assert result.returncode == 1
    assert result.stdout == ""
    assert_no_traceback(result.stderr)
    # Log lines may precede the report; the report is the header and one line per error.
    lines = result.stderr.splitlines()
    header = (
        f"{bad}: файл не импортирован, ничего не изменено. Ошибок: {len(BAD_IMPORT_LOCATIONS)}."
    )
    assert header in lines, result.stderr
    issues = lines[lines.index(header) + 1 :]
    assert len(issues) == len(BAD_IMPORT_LOCATIONS), result.stderr
    locations = set()
    for issue in issues:
        assert issue.startswith("  "), issue
        location, separator, message = issue.strip().partition(": ")
        assert separator, issue
        assert message.strip(), issue
        locations.add(location)
    assert locations == BAD_IMPORT_LOCATIONS
    assert_no_identity_values(bad, result.stdout, result.stderr)
    assert_no_identity_values(EXAMPLE_IMPORT, result.stdout, result.stderr)

    # Row counts, and the rows themselves: the valid parts of the file were not applied either.
    after = snapshot(imported_copy)
    assert {table: len(rows) for table, rows in after.items()} == {
        table: len(rows) for table, rows in before.items()
    }
    assert after == before


def test_import_of_a_toml_syntax_error(imported_copy: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[patients]]\noms = "7788899730665104\n', encoding="utf-8")
    before = snapshot(imported_copy)

    result = run_cli("import", broken, cwd=tmp_path, TALON_DATABASE__URL=imported_copy)

    assert result.returncode == 1
    assert_no_traceback(result.stderr)
    assert "файл не импортирован, ничего не изменено" in result.stderr
    assert "строка 2" in result.stderr
    assert "7788899730665104" not in result.stdout + result.stderr
    assert snapshot(imported_copy) == before


def test_import_of_a_missing_file(tmp_path: Path) -> None:
    db = tmp_path / "talon.sqlite3"

    result = run_cli(
        "import", tmp_path / "absent.toml", cwd=tmp_path, TALON_DATABASE__URL=sqlite_url(db)
    )

    assert result.returncode == 1
    assert_no_traceback(result.stderr)
    assert "absent.toml" in result.stderr
    # The file is read before the database is opened.
    assert not db.exists()


# --- the bot itself against the stand-in Bot API server ----------------------------------------


def bot_message_in(server: StandInServer, chat_id: int) -> StoredMessage | None:
    return next((m for m in server.messages(chat_id) if m.from_bot), None)


async def test_run_polls_answers_start_and_stops_on_sigint(tmp_path: Path) -> None:
    server = StandInServer(token=TOKEN)
    await server.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[telegram]
token = "{TOKEN}"
api_base = "{server.base_url}"
polling_timeout = 1

[database]
url = "{await databases.database_url(tmp_path / "bot.sqlite3")}"

[demo]
load_when_empty = true
""",
        encoding="utf-8",
    )
    log_path = tmp_path / "bot.log"
    proc: asyncio.subprocess.Process | None = None
    try:
        with log_path.open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--config",
                str(config),
                cwd=tmp_path,
                env=cli_env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        user = TgUser(id=5550001, first_name="Анна")
        server.push_message(user, "/start")

        reply = await server.wait_for(lambda: bot_message_in(server, user.id), timeout=30)

        demo = tomllib.loads(Settings().demo.file.read_text(encoding="utf-8"))
        short_names = {org["short_name"] for org in demo["organizations"]}
        buttons = [button["text"] for row in reply.inline_keyboard for button in row]
        assert sorted(buttons) == sorted([*short_names, "Мои записи"])
        assert reply.text
        registered = [c["command"] for commands in server.commands.values() for c in commands]
        assert "start" in registered
        assert server.violations == []

        proc.send_signal(signal.SIGINT)
        returncode = await asyncio.wait_for(proc.wait(), timeout=15)

        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        assert returncode == 0, log_text
        assert SECRET_PART not in log_text
        assert TOKEN not in log_text
        assert_no_traceback(log_text)
        assert server.violations == []
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.stop()


async def test_the_sandbox_command_serves_the_page_without_a_token(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        "0",
        cwd=tmp_path,
        env=cli_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        url = line.split("откройте ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession(base_url=url) as http:
            async with http.get("/") as response:
                assert response.status == 200
                assert "<html" in (await response.text()).lower()
            async with http.get("/api/state") as response:
                state = await response.json()
                assert len(state["users"]) == 4
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=15) == 0
        # Its own database, beside the real bot's default one.
        assert (tmp_path / "data" / "sandbox.sqlite3").exists()
        assert not (tmp_path / "data" / "talon.sqlite3").exists()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


# --- the first hour of an administrator: options anywhere, Russian messages, honest output ------

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<level>[A-Z]+) (?P<name>\S+): ")


def closed_port() -> int:
    """A local port nobody listens on (bound, then closed at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def report_lines(stderr: str) -> list[str]:
    """stderr without the bot's own INFO log lines (its normal start-up logging)."""
    return [
        line
        for line in stderr.splitlines()
        if not ((m := LOG_LINE.match(line)) and m["level"] == "INFO" and m["name"][:4] == "bot.")
    ]


def write_config(path: Path, **sections: dict[str, object]) -> Path:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GLOBAL_OPTIONS_AFTER = {
    "migrate": ("migrate",),
    "import": ("import", EXAMPLE_IMPORT),
    "slots": ("slots",),
}


@pytest.mark.parametrize("command", GLOBAL_OPTIONS_AFTER.values(), ids=GLOBAL_OPTIONS_AFTER.keys())
def test_config_after_the_command_is_used(tmp_path: Path, command: tuple[str | Path, ...]) -> None:
    url = databases.database_url_sync(tmp_path / "from-config.sqlite3")
    config = write_config(tmp_path / "talon.toml", database={"url": url})

    result = run_cli(*command, "--config", config, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert_no_traceback(result.stderr)
    # The configured database, not the default data/talon.sqlite3.
    assert "organizations" in tables(url)
    assert not (tmp_path / "data").exists()


def test_a_global_option_after_the_command_keeps_the_one_before_it(tmp_path: Path) -> None:
    # --debug after the command must not reset --config given before it to its default.
    url = databases.database_url_sync(tmp_path / "from-config.sqlite3")
    config = write_config(tmp_path / "talon.toml", database={"url": url})

    result = run_cli("--config", config, "migrate", "--debug", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "organizations" in tables(url)
    assert not (tmp_path / "data").exists()


def test_an_unknown_command_is_refused_in_russian(tmp_path: Path) -> None:
    result = run_cli("migrat", cwd=tmp_path)

    assert result.returncode == 2
    assert "неизвестная команда 'migrat'" in result.stderr
    assert "invalid choice" not in result.stderr


def test_config_mistakes_are_russian_lines_naming_the_file_and_the_keys(tmp_path: Path) -> None:
    config = tmp_path / "talon.toml"
    config.write_text(
        '[booking]\nhorizonn_days = 3\nhorizon_days = "abc"\n[telegram]\npolling_timeout = 500\n',
        encoding="utf-8",
    )

    result = run_cli("migrate", "--config", config, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert_no_traceback(result.stderr)
    assert sorted(result.stderr.splitlines()) == sorted(
        [
            f"{config}: [booking] horizonn_days: неизвестный ключ (может быть, horizon_days?)",
            f'{config}: [booking] horizon_days: ожидается целое число, получено "abc"',
            f"{config}: [telegram] polling_timeout: значение должно быть не больше 50, "
            "получено 500",
        ]
    )
    # Nothing was created: the settings are checked before anything else.
    assert list(tmp_path.iterdir()) == [config]


def test_a_config_toml_syntax_error_is_russian_with_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "talon.toml"
    config.write_text(f'[telegram\ntoken = "{TOKEN}"\n', encoding="utf-8")

    result = run_cli("migrate", "--config", config, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{config}, строка 1, столбец 10: ошибка синтаксиса TOML: "
        "заголовок раздела не закрыт: не хватает «]»"
    ]


def test_an_import_toml_syntax_error_is_fully_russian(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[patients]]\nlast_name = "Петров\n', encoding="utf-8")
    db = tmp_path / "talon.sqlite3"

    result = run_cli("import", broken, cwd=tmp_path, TALON_DATABASE__URL=sqlite_url(db))

    assert result.returncode == 1
    assert_no_traceback(result.stderr)
    header, issue = result.stderr.splitlines()
    assert header == f"{broken}: файл не импортирован, ничего не изменено. Ошибок: 1."
    location, _, message = issue.strip().partition(": ")
    assert location == "broken.toml, строка 2, столбец 20"
    assert message.startswith("ошибка синтаксиса TOML: ")
    # tomllib's own English («Illegal character '\n'») is translated.
    assert not re.search(r"[A-Za-z]", message.removeprefix("ошибка синтаксиса TOML: ")), message
    assert not db.exists()


def test_migrate_says_which_revisions_it_upgraded_between(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from db.engine import create_engine
    from db.migrate import alembic_config, upgrade

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(HEAD_REVISION)
    assert isinstance(previous.down_revision, str)
    url = databases.database_url_sync(tmp_path / "old.sqlite3")

    async def at_previous_revision() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine, previous.down_revision)
        finally:
            await engine.dispose()

    databases.run_sync(at_previous_revision())

    result = run_cli("migrate", cwd=tmp_path, TALON_DATABASE__URL=url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Схема обновлена: {previous.down_revision} → {HEAD_REVISION}"


def test_slots_prints_how_many_new_slots(imported_copy: str, tmp_path: Path) -> None:
    result = run_cli("slots", cwd=tmp_path, TALON_DATABASE__URL=imported_copy)

    assert result.returncode == 0, result.stderr
    # The import has just generated them all: nothing is new, for its one doctor.
    assert re.fullmatch(r"Новых слотов: 0 \(врачей: 1, .*\)", result.stdout.strip()), result.stdout
    assert_no_traceback(result.stderr)


def test_import_output_has_no_library_log_lines(imported: Imported) -> None:
    output = imported.result.stdout + imported.result.stderr

    assert imported.result.returncode == 0, imported.result.stderr
    # Alembic logs some sixteen INFO lines while it creates the schema.
    assert "alembic" not in output
    # Only the progress of the slots (bot/progress.py) is logged beside the printed result.
    info = [line for line in output.splitlines() if " INFO " in line]
    assert all(" INFO bot.progress: " in line for line in info), output


def test_unreachable_telegram_is_one_line_without_traceback(tmp_path: Path) -> None:
    port = closed_port()
    config = write_config(
        tmp_path / "talon.toml",
        telegram={"token": TOKEN, "api_base": f"http://127.0.0.1:{port}"},
        database={"url": databases.database_url_sync(tmp_path / "bot.sqlite3")},
    )

    result = run_cli("--config", config, cwd=tmp_path)

    assert result.returncode != 0
    assert_no_traceback(result.stderr)
    [line] = report_lines(result.stderr)
    assert line.startswith(f"Нет связи с Telegram (http://127.0.0.1:{port}): "), line
    assert "telegram.api_base" in line
    assert SECRET_PART not in result.stdout + result.stderr


def test_with_debug_a_failure_to_start_shows_its_traceback(tmp_path: Path) -> None:
    port = closed_port()
    config = write_config(
        tmp_path / "talon.toml",
        telegram={"token": TOKEN, "api_base": f"http://127.0.0.1:{port}"},
        database={"url": databases.database_url_sync(tmp_path / "bot.sqlite3")},
    )

    result = run_cli("run", "--config", config, "--debug", cwd=tmp_path)

    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "TelegramNetworkError" in result.stderr
    # The line saying what to do still comes last.
    assert result.stderr.splitlines()[-1].startswith("Нет связи с Telegram")


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql+asyncpg://talon:db-SECRET-password@127.0.0.1:{port}/talon"

    result = run_cli("migrate", cwd=tmp_path, TALON_DATABASE__URL=url)

    assert result.returncode != 0
    assert_no_traceback(result.stderr)
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"Нет доступа к базе данных postgresql+asyncpg://talon:***@127.0.0.1:{port}"
    )
    assert "database.url" in line
    assert "db-SECRET-password" not in result.stdout + result.stderr


async def test_a_token_telegram_refuses_is_one_line(tmp_path: Path) -> None:
    server = StandInServer(token=TOKEN)
    await server.start()
    try:
        config = write_config(
            tmp_path / "talon.toml",
            telegram={"token": "424242424:another-token-value", "api_base": server.base_url},
            database={"url": await databases.database_url(tmp_path / "bot.sqlite3")},
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            cwd=tmp_path,
            env=cli_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=PROCESS_TIMEOUT)
    finally:
        await server.stop()

    text = stderr.decode()
    assert process.returncode != 0
    assert_no_traceback(text)
    [line] = report_lines(text)
    assert line.startswith("Telegram не принял токен бота (401 Unauthorized)"), line


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = run_cli("sandbox", "--port", str(port), cwd=tmp_path)

    assert result.returncode != 0
    assert_no_traceback(result.stderr)
    [line] = report_lines(result.stderr)
    assert line.startswith(f"Порт {port} на 127.0.0.1 уже занят другой программой"), line
    assert "--port" in line


def test_import_shows_its_progress_without_a_terminal(imported: Imported) -> None:
    # A pipe is no terminal: progress comes as log lines (bot/progress.py), the last one with
    # the total, beside the printed result; no bar's control characters.
    assert imported.result.returncode == 0, imported.result.stderr
    assert "импорт: слоты: 1 из 1 врачей" in imported.result.stderr
    assert "\r" not in imported.result.stderr
