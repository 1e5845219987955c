"""Webhook delivery, as Telegram does it: each pending update is POSTed to the URL given to
setWebhook, with the secret in X-Telegram-Bot-Api-Secret-Token, up to max_connections at a
time; a 2xx answer confirms it, anything else (or no answer) and it is posted again a moment
later. The bot therefore must answer only after it has handled the update."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiohttp

from .events import EventHub
from .updates import UpdateQueue, WebhookTarget

__all__ = ["WebhookPusher"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram retries a failed delivery after a while; here a moment, growing with each failure.
RETRY_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
# An answer taking longer than this counts as a failure (Telegram's is about a minute).
ANSWER_TIMEOUT = 60.0


class WebhookPusher:
    def __init__(self, updates: UpdateQueue, events: EventHub) -> None:
        self._updates = updates
        self._events = events
        self._task: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.failed_posts = 0  # answers other than 2xx, and connection errors

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT))
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        for task in (self._task, *self._posts):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._task, *self._posts) if t), return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            payload = await self._events.wait_until(self._updates.next_to_post)
            target = self._updates.webhook
            assert target is not None
            task = asyncio.create_task(self._post(target, payload))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)

    async def _post(self, target: WebhookTarget, payload: dict[str, object]) -> None:
        update_id = int(str(payload["update_id"]))
        failures = 0
        while True:
            if await self._answered(target, payload):
                self._updates.posted(update_id, accepted=True)
                return
            failures += 1
            self.failed_posts += 1
            await asyncio.sleep(min(RETRY_SECONDS * failures, RETRY_MAX_SECONDS))
            if self._updates.webhook is None:  # deleteWebhook meanwhile: back to getUpdates
                self._updates.posted(update_id, accepted=False)
                return
            target = self._updates.webhook

    async def _answered(self, target: WebhookTarget, payload: dict[str, object]) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if target.secret_token is not None:
            headers[SECRET_HEADER] = target.secret_token
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with self._session.post(
                target.url, data=json.dumps(payload, ensure_ascii=False), headers=headers
            ) as response:
                await response.read()
                return 200 <= response.status < 300
        return False
