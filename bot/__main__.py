"""Command line: `python -m bot [--config FILE] [run | webhook | import FILE | migrate | slots
| sandbox]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tomllib
from pathlib import Path

from pydantic import ValidationError

from bot.config import CONFIG_ENV, ConfigFileMissingError, Settings, load_settings

NO_WEBHOOK = (
    "Webhook mode needs webhook.url (the public HTTPS address of the reverse proxy) and "
    "webhook.secret (16 to 256 letters, digits, _ or -, the same on every instance)."
)
NO_TOKEN = (
    "No bot token: Telegram needs one (set telegram.token in the config file named by {env}, "
    "or TALON_TELEGRAM__TOKEN); `python -m bot sandbox` shows the bot without one."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Talon booking bot")
    parser.add_argument("--config", type=Path, help=f"TOML config file (or set {CONFIG_ENV})")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot by long polling (the default)")
    commands.add_parser(
        "webhook", help="run one of several instances: Telegram posts updates (webhook.*)"
    )
    importer = commands.add_parser("import", help="import organizations, doctors and patients")
    importer.add_argument("file", type=Path, help="a TOML file, see docs/import-format.md")
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("slots", help="generate slots for the booking horizon and exit")
    sandbox = commands.add_parser("sandbox", help="try the bot in a browser, without Telegram")
    sandbox.add_argument("--port", type=int, help="the page's port (default from the config)")
    return parser


async def _import(settings: Settings, path: Path) -> int:
    from bot.services.clock import SystemClock
    from bot.services.importing import ImportErrors, import_data, load_toml, validate
    from bot.startup import open_database

    try:
        data = load_toml(path)
        # A bad file must not even create or migrate the database.
        validate(data)
        async with open_database(settings) as db, db.sessions() as session:
            report = await import_data(
                session,
                data=data,
                now=SystemClock().now(),
                horizon_days=settings.booking.horizon_days,
            )
    except ImportErrors as errors:
        print(f"{path}: {len(errors.issues)} error(s), nothing was changed:", file=sys.stderr)
        for issue in errors.issues:
            print(f"  {issue.location}: {issue.message}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


async def _migrate(settings: Settings) -> int:
    from bot.startup import open_database

    async with open_database(settings):
        pass
    print("database is up to date")
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
        print(error, file=sys.stderr)
        return 2
    print(f"Talon sandbox: open {sandbox.url} in a browser (Ctrl+C stops it)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()
    return 0


async def _slots(settings: Settings) -> int:
    from bot.services.clock import SystemClock
    from bot.startup import open_database, refresh_slots

    async with open_database(settings) as db:
        await refresh_slots(db, settings=settings, clock=SystemClock())
    return 0


def main(argv: list[str] | None = None) -> int:
    # Whatever this process creates (the database, its journal, temporary files) is readable
    # by its owner only: it holds patients' data.
    os.umask(0o077)
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigFileMissingError as error:
        print(error, file=sys.stderr)
        return 2
    except tomllib.TOMLDecodeError as error:
        print(f"config file is not valid TOML: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            print(f"config: {where}: {problem['msg']}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.logging.level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "import":
        return asyncio.run(_import(settings, args.file))
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "slots":
        return asyncio.run(_slots(settings))
    if args.command == "sandbox":
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_sandbox(settings, args.port))
        return 0
    if settings.telegram.token is None:
        print(NO_TOKEN.format(env=CONFIG_ENV), file=sys.stderr)
        return 2
    from bot.app import run_polling, run_webhook

    shared = settings.several_instances_problem()
    if shared is not None:
        print(shared, file=sys.stderr)
        return 2

    if args.command == "webhook":
        if settings.webhook.url is None or settings.webhook.secret is None:
            print(NO_WEBHOOK, file=sys.stderr)
            return 2
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_webhook(settings))
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_polling(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
