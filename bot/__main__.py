"""Command line: `python -m bot [run | webhook | import FILE | migrate | slots | sandbox]
[--config FILE] [--debug]`; the global options go before or after the command.

Everything it tells the operator is in Russian, in one line per problem that names the file
and the key or says what to do. A failure to start (a busy port, no Telegram, a refused
token, no database) is one line and a non-zero exit code; its traceback is shown only with
`--debug` or at the DEBUG log level.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import re
import socket
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, NoReturn

from bot.config import CONFIG_ENV, ConfigFileMissingError, resolve_config_path

if TYPE_CHECKING:
    from bot.config import Settings

NO_WEBHOOK = (
    "Для режима webhook нужны webhook.url (публичный HTTPS-адрес обратного прокси) и "
    "webhook.secret (от 16 до 256 латинских букв, цифр, _ или -, один на всех экземплярах)."
)
NO_TOKEN = (
    "Нет токена бота: без него Telegram не работает. Задайте telegram.token в файле настроек "
    "(его называет --config или {env}) или TALON_TELEGRAM__TOKEN; бота без токена "
    "показывает `python -m bot sandbox`."
)
# The exit codes: a mistake in the command line or the settings, and a failure to start.
EXIT_USAGE: Final = 2
EXIT_FAILED: Final = 1
# One-shot commands print their result; their own progress is logged only when asked for.
ONE_SHOT: Final = frozenset({"import", "migrate", "slots"})
# Talon's own loggers log at logging.level (or DEBUG with --debug). Libraries log WARNING and
# above: their INFO lines (Alembic's sixteen per migration, every update aiogram handles,
# every job apscheduler runs) drown the bot's own; with --debug, INFO.
OWN_LOGGERS: Final = ("bot", "db")
# Never below WARNING, --debug or not: their INFO and DEBUG lines carry SQL statements with
# their parameters and rows, i.e. patients' data (`database.echo` is SQLAlchemy's own switch).
PRIVATE_LIBRARIES: Final = ("sqlalchemy", "aiosqlite", "asyncpg")

# --- the command line ----------------------------------------------------------------------------


class _Formatter(argparse.HelpFormatter):
    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "использование: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in Russian: its own texts come from gettext, which has no Russian here.
    Commands' parsers are made by this class too (add_subparsers uses the parent's)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(add_help=False, **kwargs)
        self._positionals.title = "аргументы"
        self._optionals.title = "параметры"
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help="показать справку"
        )

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            EXIT_USAGE,
            f"{self.prog}: ошибка: {_argparse_in_russian(message)} (справка: {self.prog} --help)\n",
        )


_ARGPARSE_MESSAGES: Final = (
    (re.compile(r"unrecognized arguments: (?P<x>.*)"), "неизвестные аргументы: {x}"),
    (
        re.compile(r"the following arguments are required: (?P<x>.*)"),
        "не хватает аргументов: {x}",
    ),
    (
        re.compile(r"argument (?P<a>\S+): invalid choice: (?P<x>.*) \(choose from (?P<c>.*)\)"),
        "{a}: неизвестная команда {x}; есть {c}",
    ),
    (
        re.compile(r"argument (?P<a>\S+): invalid \S+ value: (?P<x>.*)"),
        "{a}: недопустимое значение {x}",
    ),
    (re.compile(r"argument (?P<a>\S+): expected one argument"), "{a}: не указано значение"),
)


def _argparse_in_russian(message: str) -> str:
    for pattern, russian in _ARGPARSE_MESSAGES:
        if match := pattern.fullmatch(message):
            return russian.format(**match.groupdict())
    return message


def _global_options(parser: argparse.ArgumentParser, *, on_command: bool) -> None:
    """--config and --debug, accepted before the command and after it. A command's copy
    leaves the value alone unless it is given there (argparse would otherwise overwrite the
    top-level value with the copy's default)."""
    config_default = argparse.SUPPRESS if on_command else None
    debug_default = argparse.SUPPRESS if on_command else False
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        default=config_default,
        help=f"файл настроек TOML (или переменная {CONFIG_ENV}; иначе ./config.toml, если есть)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=debug_default,
        help="подробный журнал (и библиотек) и трассировка при ошибке запуска",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m bot", description="Talon: запись к врачу в Telegram")
    _global_options(parser, on_command=False)
    commands = parser.add_subparsers(dest="command", title="команды", metavar="КОМАНДА")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text
        )
        _global_options(sub, on_command=True)
        return sub

    command("run", "бот в режиме long polling (команда по умолчанию)")
    command("webhook", "один из нескольких экземпляров: Telegram присылает обновления (webhook.*)")
    importer = command("import", "загрузить организации, врачей и пациентов из файла")
    importer.add_argument("file", type=Path, help="файл TOML, см. docs/import-format.md")
    command("migrate", "обновить схему базы данных и выйти")
    command("slots", "создать слоты на горизонт записи и выйти")
    sandbox = command("sandbox", "попробовать бота в браузере, без Telegram")
    sandbox.add_argument("--port", type=int, help="порт страницы (по умолчанию sandbox.port)")
    sandbox.add_argument(
        "--reset", action="store_true", help="начать с чистых демонстрационных данных"
    )
    return parser


# --- logging -------------------------------------------------------------------------------------


class _QuietShutdown(logging.Filter):
    """A scheduled job cancelled because the bot stops is not an error (apscheduler logs it
    as one, with a traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        cancelled = record.exc_info is not None and record.exc_info[0] is asyncio.CancelledError
        # A job cancelled at shutdown, or its connection's rollback cancelled with it (the
        # pool logs that as an error): the stop is in order, and the one line said why.
        return not (cancelled and record.name.startswith(("apscheduler.", "sqlalchemy.pool")))


def _configure_logging(level_name: str, *, debug: bool, command: str) -> None:
    own = logging.DEBUG if debug else logging.getLevelNamesMapping()[level_name]
    if command in ONE_SHOT and own == logging.INFO and not debug:
        # Their result is printed; an INFO line beside it would only repeat it.
        own = logging.WARNING
    libraries = max(logging.INFO if debug else logging.WARNING, own)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_QuietShutdown())
    logging.basicConfig(level=libraries, handlers=[handler], force=True)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    for name in PRIVATE_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, own))
    if command in ONE_SHOT and not debug:
        # Long work's progress lines (bot/progress.py) are what shows it is alive when no
        # terminal draws a bar: kept at INFO whatever the rest is.
        logging.getLogger("bot.progress").setLevel(min(logging.INFO, own))


# --- the commands --------------------------------------------------------------------------------


async def _import(settings: Settings, path: Path) -> int:
    from bot.progress import reporter
    from bot.services.clock import SystemClock
    from bot.services.importing import ImportErrors, import_data, load_toml, validate
    from bot.startup import open_database

    try:
        data = load_toml(path)
        # A bad file must not even create or migrate the database.
        validate(data)
        # A region's registry takes minutes: a bar on a terminal, log lines otherwise.
        with reporter("импорт: слоты") as progress:
            async with open_database(settings) as db, db.sessions() as session:
                report = await import_data(
                    session,
                    data=data,
                    now=SystemClock().now(),
                    horizon_days=settings.booking.horizon_days,
                    progress=progress,
                )
    except ImportErrors as errors:
        print(errors.report(str(path)), file=sys.stderr)
        return 1
    print(report.summary())
    return 0


async def _migrate(settings: Settings) -> int:
    from bot.services.clock import SystemClock
    from bot.services.installation import Purpose, describe_database, record_installation
    from db.engine import create_engine, create_session_factory
    from db.migrate import upgrade

    # bot.startup.open_database, keeping what the migration did.
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    try:
        migration = await upgrade(engine)
        async with create_session_factory(engine)() as session:
            # The wall clock: this records when the database was really created.
            await record_installation(session, purpose=Purpose.BOT, now=SystemClock().now())
    finally:
        await engine.dispose()
    if migration.created:
        database = describe_database(settings.database.url)
        print(f"База данных создана: {database}, схема {migration.after}")
    elif migration.changed:
        print(f"Схема обновлена: {migration.before} → {migration.after}")
    else:
        print(f"Схема уже актуальна ({migration.after})")
    return 0


async def _sandbox(settings: Settings, port: int | None) -> int:
    from datetime import UTC, datetime

    from bot.config import DatabaseSettings, DemoSettings
    from bot.sandbox.web import Sandbox
    from bot.services.clock import ManualClock
    from bot.services.installation import ForeignDatabaseError

    # Its own database, always with the demo data, whatever the real bot is configured with.
    sandbox_settings = settings.model_copy(
        update={
            "database": DatabaseSettings(url=settings.sandbox.database_url),
            "demo": DemoSettings(load_when_empty=True),
        }
    )
    sandbox = Sandbox(
        settings=sandbox_settings,
        clock=ManualClock(datetime.now(UTC)),
        host=settings.sandbox.host,
        port=settings.sandbox.port if port is None else port,
    )
    try:
        await sandbox.start()
    except ForeignDatabaseError as error:
        # Checked before anything was migrated or written: the database is as it was.
        # Its text (bot/services/installation.py) is still English: tests/sandbox/ read it.
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except BaseException:
        # E.g. the page's port is busy: the bot and its database are already running.
        await sandbox.stop()
        raise
    # Still English: tests/sandbox/test_isolation.py (PAGE_LINE) reads this line.
    print(f"Песочница Talon: откройте {sandbox.url} в браузере (Ctrl+C — остановить)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()
    return 0


async def _slots(settings: Settings) -> int:
    from sqlalchemy import func, select

    from bot.progress import reporter
    from bot.services.clock import SystemClock
    from bot.services.slots import generate_slots
    from bot.startup import SLOT_REFRESH_LOCK, _first_to_run, open_database
    from db.models import Doctor

    # bot.startup.refresh_slots, with the counts this command prints.
    async with open_database(settings) as db, db.sessions() as session:
        if not await _first_to_run(session, key=SLOT_REFRESH_LOCK):
            print("Слоты сейчас создаёт другой экземпляр бота; здесь ничего не сделано.")
            return 0
        with reporter("слоты") as progress:
            added = await generate_slots(
                session,
                now=SystemClock().now(),
                horizon_days=settings.booking.horizon_days,
                progress=progress,
            )
        await session.commit()
        doctors = await session.scalar(select(func.count()).select_from(Doctor))
    days = settings.booking.horizon_days
    print(f"Новых слотов: {added} (врачей: {doctors or 0}, горизонт записи: {days} дн.)")
    return 0


def _run_bot(settings: Settings, command: str) -> int:
    if settings.telegram.token is None:
        print(NO_TOKEN.format(env=CONFIG_ENV), file=sys.stderr)
        return EXIT_USAGE
    from bot.app import run_polling, run_webhook

    shared = settings.several_instances_problem()
    if shared is not None:
        print(shared, file=sys.stderr)
        return EXIT_USAGE
    if command == "webhook":
        if settings.webhook.url is None or settings.webhook.secret is None:
            print(NO_WEBHOOK, file=sys.stderr)
            return EXIT_USAGE
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_webhook(settings))
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_polling(settings))
    return 0


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "import":
        return asyncio.run(_import(settings, args.file))
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "slots":
        return asyncio.run(_slots(settings))
    if args.command == "sandbox":
        if args.reset:
            from bot.sandbox.web import reset_sandbox

            # Says what it did; a database it must not remove ends the process (exit code 2).
            reset_sandbox(settings)
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_sandbox(settings, args.port))
        return 0
    return _run_bot(settings, args.command)


# --- failures to start ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """What a failure is explained with: the command and the settings it ran with."""

    command: str
    settings: Settings
    sandbox_port: int | None

    @property
    def database_url(self) -> str:
        if self.command == "sandbox":
            return self.settings.sandbox.database_url
        return self.settings.database.url

    @property
    def database_key(self) -> str:
        return "sandbox.database_url" if self.command == "sandbox" else "database.url"

    @property
    def address(self) -> tuple[str, int, str]:
        """The host and port this command listens on, and the settings that choose them."""
        if self.command == "sandbox":
            port = self.settings.sandbox.port if self.sandbox_port is None else self.sandbox_port
            return self.settings.sandbox.host, port, "sandbox.port или --port"
        return self.settings.webhook.host, self.settings.webhook.port, "webhook.port"


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what caused it (SQLAlchemy's `orig`, aiohttp's `os_error` too) and the
    members of an exception group."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for attribute in ("orig", "os_error", "__cause__", "__context__"):
            nested = getattr(current, attribute, None)
            if isinstance(nested, BaseException):
                pending.append(nested)


def _raised_in(error: BaseException, *packages: str) -> bool:
    """Whether the error was raised inside one of the packages: in a frame below the last
    one of Talon's own code (a frame above it, e.g. of a context manager the failing code
    ran in, says nothing about where it failed)."""
    modules = []
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        modules.append(str(tb.tb_frame.f_globals.get("__name__", "")).split(".", 1)[0])
        tb = tb.tb_next
    own = [index for index, module in enumerate(modules) if module in ("bot", "db")]
    below = modules[own[-1] + 1 :] if own else modules
    return any(module in packages for module in below)


_REASONS: Final = {
    errno.ECONNREFUSED: "соединение отклонено (там никто не слушает)",
    errno.ETIMEDOUT: "нет ответа",
    errno.ENETUNREACH: "сеть недоступна",
    errno.EHOSTUNREACH: "узел недоступен",
    errno.ECONNRESET: "соединение сброшено",
    errno.ENOENT: "нет такого файла или папки",
    errno.EACCES: "нет прав",
    errno.EPERM: "нет прав",
    errno.EISDIR: "это папка, а не файл",
    errno.ENOSPC: "нет места на диске",
    errno.EROFS: "файловая система только для чтения",
}


def _reason(error: BaseException) -> str:
    """Why a connection or a file failed, in a few Russian words."""
    for cause in _chain(error):
        if isinstance(cause, socket.gaierror):
            return "имя узла не найдено (DNS)"
        if isinstance(cause, TimeoutError):
            return "нет ответа (время ожидания истекло)"
        if type(cause).__name__.startswith("SSL") or "ssl" in type(cause).__module__:
            return "ошибка TLS (проверьте сертификат и адрес)"
        if isinstance(cause, OSError) and cause.errno in _REASONS:
            return _REASONS[cause.errno]
    for cause in _chain(error):
        if isinstance(cause, OSError) and cause.errno is not None:
            return f"ошибка {errno.errorcode.get(cause.errno, cause.errno)}"
    return type(error).__name__


def _explain(error: BaseException, context: _Context) -> str | None:
    """One Russian line saying what failed and what to do; None for anything else (a bug
    keeps its traceback)."""
    for explain in (
        _bad_token,
        _busy_port,
        _no_database,
        _no_redis,
        _no_telegram,
        _no_file,
        _long_agreement,
    ):
        for cause in _chain(error):
            if (line := explain(cause, context)) is not None:
                return line
    return None


def _long_agreement(error: BaseException, _context: _Context) -> str | None:
    from bot.app import AgreementTooLongError

    return str(error) if isinstance(error, AgreementTooLongError) else None


def _bad_token(error: BaseException, _context: _Context) -> str | None:
    from aiogram.exceptions import TelegramNotFound, TelegramUnauthorizedError

    if isinstance(error, TelegramUnauthorizedError):
        return (
            "Telegram не принял токен бота (401 Unauthorized): проверьте telegram.token или "
            "TALON_TELEGRAM__TOKEN — действующий токен показывает @BotFather."
        )
    if isinstance(error, TelegramNotFound):
        return (
            "Telegram ответил 404 Not Found: токен бота записан неверно или telegram.api_base "
            "указывает не на Bot API; проверьте их."
        )
    return None


_BIND_ADDRESS: Final = re.compile(r"address \('(?P<host>[^']*)', (?P<port>\d+)")


def _busy_port(error: BaseException, context: _Context) -> str | None:
    if not isinstance(error, OSError) or context.command not in ("sandbox", "webhook"):
        return None
    binding = "bind" in str(error) or _raised_in(error, "aiohttp")
    if not binding or error.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
        return None
    host, port, key = context.address
    if match := _BIND_ADDRESS.search(str(error)):
        host, port = match["host"], int(match["port"])
    if error.errno == errno.EADDRINUSE:
        return (
            f"Порт {port} на {host} уже занят другой программой: остановите её или выберите "
            f"другой порт ({key})."
        )
    if error.errno == errno.EADDRNOTAVAIL:
        host_key = "sandbox.host" if context.command == "sandbox" else "webhook.host"
        return f"Адреса {host} нет у этой машины: проверьте {host_key}."
    return f"Нет прав открыть порт {port} на {host} (порты до 1024 — только root): смените {key}."


def _no_database(error: BaseException, context: _Context) -> str | None:
    from sqlalchemy.engine import make_url

    from bot.services.installation import describe_database

    url, key = context.database_url, context.database_key
    reason = _database_refusal(error)
    if reason is None and isinstance(error, OSError) and _is_database_file(error, context):
        # SQLite's file or its folder could not be made.
        reason = f"{error.filename}: {_reason(error)}"
    if reason is None and isinstance(error, OSError):
        if not _raised_in(error, "asyncpg", "aiosqlite", "sqlalchemy", "psycopg", "sqlite3"):
            return None
        reason = _reason(error)
    if reason is None:
        return None
    if make_url(url).get_backend_name() == "sqlite":
        advice = f"Проверьте путь в {key} и права на папку базы."
    else:
        advice = f"Проверьте {key} и что сервер базы данных запущен, затем повторите."
    return f"Нет доступа к базе данных {describe_database(url)}: {reason}. {advice}"


def _is_database_file(error: OSError, context: _Context) -> bool:
    from sqlalchemy.engine import make_url

    url = make_url(context.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or error.filename is None:
        return False
    database = Path(url.database).absolute()
    failed = Path(os.fsdecode(error.filename)).absolute()
    return failed == database or failed in database.parents


def _database_refusal(error: BaseException) -> str | None:
    """A database server that answered but refused, or SQLite that could not open its file."""
    name = type(error).__name__
    if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        return "сервер не принял пользователя или пароль"
    if name == "InvalidCatalogNameError":
        return "такой базы на сервере нет (создайте её: CREATE DATABASE)"
    if name in ("CannotConnectNowError", "TooManyConnectionsError"):
        return "сервер сейчас не принимает подключения"
    if type(error).__module__ == "sqlite3" and "unable to open database file" in str(error):
        return "файл базы не открыть (есть ли папка и права на запись в неё?)"
    return None


def _no_redis(error: BaseException, _context: _Context) -> str | None:
    if not type(error).__module__.startswith("redis"):
        return None
    if type(error).__name__ not in ("ConnectionError", "TimeoutError", "AuthenticationError"):
        return None
    reason = "сервер не принял пароль" if "Authentication" in type(error).__name__ else None
    return (
        f"Нет связи с Redis (redis.url): {reason or _reason(error)}. Проверьте redis.url и "
        "что Redis запущен."
    )


def _no_telegram(error: BaseException, context: _Context) -> str | None:
    from aiogram.exceptions import TelegramNetworkError, TelegramServerError

    api = context.settings.telegram.api_base or "https://api.telegram.org"
    if isinstance(error, TelegramServerError):
        return (
            f"Сервер Telegram ({api}) ответил ошибкой при запуске бота: попробуйте позже или "
            "проверьте telegram.api_base."
        )
    if not isinstance(error, TelegramNetworkError):
        import aiohttp

        if not (isinstance(error, aiohttp.ClientError) and _raised_in(error, "aiogram")):
            return None
    return (
        f"Нет связи с Telegram ({api}): {_reason(error)}. Проверьте сеть, прокси и "
        "telegram.api_base, затем запустите бота снова."
    )


def _no_file(error: BaseException, _context: _Context) -> str | None:
    if isinstance(error, OSError) and error.filename is not None:
        return f"Не открыть файл {error.filename}: {_reason(error)}. Проверьте путь в настройках."
    return None


# --- main ----------------------------------------------------------------------------------------


def _load_settings(config: Path | None) -> Settings | int:
    """The settings, or the exit code after saying in Russian what is wrong with them."""
    from bot.config import load_settings
    from bot.config_errors import describe_settings_error

    try:
        path = resolve_config_path(config)
    except ConfigFileMissingError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    try:
        return load_settings(path)
    except Exception as error:
        lines = describe_settings_error(error, path=path)
        if lines is None:
            raise
        for line in lines:
            print(line, file=sys.stderr)
        return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    # Whatever this process creates (the database, its journal, temporary files) is readable
    # by its owner only: it holds patients' data.
    os.umask(0o077)
    args = _parser().parse_args(argv)
    command = args.command or "run"
    loaded = _load_settings(args.config)
    if isinstance(loaded, int):
        return loaded
    settings = loaded
    _configure_logging(settings.logging.level, debug=args.debug, command=command)
    context = _Context(command=command, settings=settings, sandbox_port=getattr(args, "port", None))
    try:
        return _dispatch(args, settings)
    except Exception as error:
        line = _explain(error, context)
        if line is None:
            raise
        if args.debug or logging.getLogger(OWN_LOGGERS[0]).isEnabledFor(logging.DEBUG):
            traceback.print_exception(error)
        print(line, file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
