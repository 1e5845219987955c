"""Webhook mode (bot/webhook.py): the stand-in posts updates to the bot's HTTP endpoint, as
Telegram does after setWebhook, and the real Dispatcher handles them."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import create_bot, create_dispatcher
from bot.config import Settings, StaffSettings, TelegramSettings, WebhookSettings
from bot.services.clock import ManualClock
from bot.standin import StandInServer, TgUser
from bot.standin.client import SimUser
from bot.standin.harness import harness_settings, random_token
from bot.standin.tracker import HandledTracker, track_outermost
from bot.startup import open_database, prepare_data
from bot.webhook import SECRET_HEADER, serve_webhook
from db.engine import Database
from db.models import HandledUpdate
from tests.e2e.conftest import ADMIN_ID, CLINIC
from tests.test_cli import run_cli

SECRET = "test-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WebhookBot:
    server: StandInServer
    settings: Settings
    endpoint: str
    base: str
    database: Database


@contextlib.asynccontextmanager
async def webhook_bot(
    tmp_path: Path, clock: ManualClock, server: StandInServer
) -> AsyncIterator[WebhookBot]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    webhook = WebhookSettings(
        url=f"{base}/telegram/updates", secret=SecretStr(SECRET), host="127.0.0.1", port=port
    )
    settings = harness_settings(
        data_dir=tmp_path, demo_file=CLINIC, staff=StaffSettings(admins=[ADMIN_ID])
    ).model_copy(
        update={
            "webhook": webhook,
            "telegram": TelegramSettings(token=SecretStr(server.token), api_base=server.base_url),
        }
    )
    async with open_database(settings) as db:
        await prepare_data(db, settings=settings, clock=clock)
        dp = create_dispatcher(db, settings=settings, clock=clock)
        track_outermost(dp, HandledTracker(server))
        bot = create_bot(settings)
        started = asyncio.Event()
        serving = asyncio.create_task(
            serve_webhook(dp, bot, db=db, settings=webhook, started=started, handle_signals=False)
        )
        try:
            async with asyncio.timeout(10):
                await started.wait()
            yield WebhookBot(server, settings, webhook.url or "", base, db)
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            await bot.session.close()


@pytest.fixture
async def server() -> AsyncIterator[StandInServer]:
    async with StandInServer(token=random_token()) as running:
        yield running
        assert running.violations == []
        assert running.handler_errors == []


async def test_updates_arrive_by_post_and_wait_while_no_instance_runs(
    tmp_path: Path, clock: ManualClock, server: StandInServer
) -> None:
    # Written before any instance runs: kept by Telegram (drop_pending_updates=false).
    patient = TgUser(id=7100, first_name="Пётр")
    early = server.push_message(patient, "/start")
    async with webhook_bot(tmp_path, clock, server) as running:
        assert running.server.webhook_url == running.endpoint
        await server.wait_handled(early, timeout=10)
        assert "Поликлиника № 1" in str(server.messages(patient.id)[-1].reply_markup)
        # The dialogue goes on through the webhook, update after update.
        user = SimUser(server, patient)
        await user.click("Поликлиника № 1")
        assert "Выберите услугу" in user.last_bot_message.text
        # Answered only after handling: nothing is left pending at the stand-in.
        await server.wait_for(lambda: server.pending_updates == 0)
        assert server.failed_webhook_posts == 0
        assert server.answered_before_handled == []


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_handled(
    tmp_path: Path, clock: ManualClock, server: StandInServer
) -> None:
    async with webhook_bot(tmp_path, clock, server) as running:
        update = {
            "update_id": 990001,
            "message": {
                "message_id": 1,
                "date": 1764576000,
                "chat": {"id": 7100, "type": "private"},
                "from": {"id": 7100, "is_bot": False, "first_name": "Пётр"},
                "text": "/start",
            },
        }
        async with aiohttp.ClientSession() as http:
            for headers in ({SECRET_HEADER: "not-the-secret-000000"}, {}):
                async with http.post(running.endpoint, json=update, headers=headers) as answer:
                    assert answer.status == 403
            async with http.get(f"{running.base}/healthz") as answer:
                assert answer.status == 200
            async with http.get(f"{running.base}/readyz") as answer:
                assert answer.status == 200
                assert await answer.text() == "ready"
        # Nothing was handled: no reply, no record of the update.
        assert server.messages(7100) == []
        async with running.database.sessions() as session:
            handled = await session.scalar(select(func.count()).select_from(HandledUpdate))
        assert handled == 0


def test_webhook_mode_without_its_address_or_secret_says_what_is_missing(tmp_path: Path) -> None:
    result = run_cli("webhook", cwd=tmp_path, TALON_TELEGRAM__TOKEN=random_token())
    assert result.returncode == 2
    assert "webhook.url" in result.stderr
    assert "webhook.secret" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was created
