"""Webhook mode: Telegram posts each update to this process (behind a reverse proxy).

* An update is handled before it is answered: a 200 tells Telegram the update is done, so an
  instance that dies while handling one never answers and Telegram posts it again (to another
  instance); the handled-update record (bot/unit.py) keeps a redelivery from being applied
  twice. A handler error answers 500, for the same reason.
* A request without the shared secret in X-Telegram-Bot-Api-Secret-Token gets 403 and is
  not read: anybody can reach the address, only Telegram knows the secret.
* `/healthz` answers while the process runs (liveness); `/readyz` while the database (and,
  when configured, Redis) answers too, so the proxy sends updates only to instances able to
  handle them.
* At start, setWebhook with the secret and `drop_pending_updates=false`: updates that arrived
  while no instance ran are delivered, not dropped. It is never deleted at a stop: the other
  instances go on, and if none runs, Telegram keeps the updates until one does.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import text

from bot.config import WebhookSettings
from db.engine import Database

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are small; anything larger is not one.
MAX_BODY = 1024 * 1024
# How long a stop waits for updates being handled to finish (then they are redelivered).
SHUTDOWN_SECONDS = 30.0

Check = Callable[[], Awaitable[None]]


def create_app(
    dp: Dispatcher, bot: Bot, *, secret: str, path: str, checks: dict[str, Check]
) -> web.Application:
    """The instance's HTTP side: the update endpoint, liveness and readiness."""

    async def on_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="Forbidden")
        try:
            update = Update.model_validate_json(await request.read(), context={"bot": bot})
        except ValidationError:
            return web.Response(status=400, text="Not an update")
        try:
            await dp.feed_update(bot, update)
        except Exception as error:
            # Never the update's contents: they may carry an OMS number.
            logger.error(
                "update %s failed: %s; Telegram will post it again",
                update.update_id,
                type(error).__name__,
            )
            return web.Response(status=500, text="Not handled")
        return web.json_response({})

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(_request: web.Request) -> web.Response:
        failed = []
        for name, check in checks.items():
            try:
                async with asyncio.timeout(5):
                    await check()
            except Exception as error:
                failed.append(f"{name}: {type(error).__name__}")
        if failed:
            return web.Response(status=503, text="; ".join(failed))
        return web.Response(text="ready")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, on_update)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def database_check(db: Database) -> Check:
    async def check() -> None:
        async with db.sessions() as session:
            await session.execute(text("SELECT 1"))

    return check


def redis_check(redis: Any) -> Check:
    async def check() -> None:
        await redis.ping()

    return check


async def serve_webhook(
    dp: Dispatcher,
    bot: Bot,
    *,
    db: Database,
    settings: WebhookSettings,
    started: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Serve until cancelled or SIGTERM/SIGINT: the update endpoint, then setWebhook; at a
    stop, no new requests and the ones under way finished (up to SHUTDOWN_SECONDS)."""
    if settings.url is None or settings.secret is None:
        raise ValueError("webhook mode needs webhook.url and webhook.secret")
    secret = settings.secret.get_secret_value()
    checks = {"database": database_check(db)}
    if "redis" in sys.modules:  # only then can the storage be Redis's
        from aiogram.fsm.storage.redis import RedisStorage

        if isinstance(dp.storage, RedisStorage):
            checks["redis"] = redis_check(dp.storage.redis)
    app = create_app(dp, bot, secret=secret, path=settings.path, checks=checks)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        await bot.set_webhook(
            settings.url,
            secret_token=secret,
            drop_pending_updates=False,
            allowed_updates=dp.resolve_used_update_types(),
            max_connections=settings.max_connections,
        )
        logger.info("webhook set; serving updates on %s:%s", settings.host, settings.port)
        if started is not None:
            started.set()
        stop = asyncio.Event()
        if handle_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
