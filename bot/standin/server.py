"""A stand-in Telegram Bot API server for tests and the browser sandbox.

The real bot (aiogram Dispatcher, aiohttp session, long polling) talks to it over HTTP on
127.0.0.1 exactly as it talks to api.telegram.org. It is stricter than Telegram: every request is
checked against the Bot API description (spec.py), Telegram's HTML (html.py) and Telegram's
limits (limits.py), and each rejected request is recorded in ``violations`` so a test fails on
the first bad request instead of on its visible consequences.

Only private chats exist: a chat's id is its user's id, and a chat is known once its user
has written to the bot (``push_message``/``push_callback``) or was added with ``add_user``.

This module is the facade tests, the harness and the sandbox use; the parts live in
transport.py (HTTP), store.py (chats, messages, files), updates.py (the update queue),
events.py, limits.py, webhook.py (posting updates to a webhook) and methods/ (the Bot API
methods).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from typing import Self, TypeVar

from aiohttp import web

from .events import EventHub, EventKind, ServerEvent
from .html import Entity, utf16_len
from .limits import Faults, Gate
from .methods import Backend
from .store import (
    BotProfile,
    CallbackAnswer,
    ChatStore,
    JsonDict,
    StoredDocument,
    StoredMessage,
    TgUser,
)
from .transport import Transport, Violation
from .updates import HandlerError, UpdateQueue
from .webhook import WebhookPusher

__all__ = [
    "CallbackAnswer",
    "EventKind",
    "HandlerError",
    "ServerEvent",
    "StandInServer",
    "StoredDocument",
    "StoredMessage",
    "TgUser",
    "Violation",
]

T = TypeVar("T")

_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_TOKEN_RE = re.compile(r"(\d+):[\w-]+")


def _bot_user(bot_id: int, first_name: str, username: str) -> JsonDict:
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": first_name,
        "username": username,
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


class StandInServer:
    """The stand-in Bot API server; see the module docstring.

    ``per_chat_rate`` and ``global_rate`` turn on Telegram's flood control: messages per second
    the bot may send or edit per chat and overall (Telegram allows about 1 and 30); beyond
    them requests get 429 with retry_after. Off by default.
    """

    def __init__(
        self,
        *,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        per_chat_rate: float | None = None,
        global_rate: float | None = None,
        bot_username: str = "talon_standin_bot",
        bot_first_name: str = "Talon",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        match = _TOKEN_RE.fullmatch(token)
        if match is None:
            raise ValueError("token must look like a bot token: <bot id>:<secret>")
        self.token = token
        self._profile = BotProfile(_bot_user(int(match.group(1)), bot_first_name, bot_username))
        self._events = EventHub()
        self._store = ChatStore(bot_user=self._profile.user, clock=clock)
        self._updates = UpdateQueue(self._events)
        self._webhook = WebhookPusher(self._updates, self._events)
        self._gate = Gate(per_chat_rate=per_chat_rate, global_rate=global_rate)
        self._faults = Faults()
        backend = Backend(self._store, self._profile, self._updates, self._gate, self._events)
        self._transport = Transport(token=token, backend=backend, faults=self._faults)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        # handler_cancellation ends a long poll as soon as the bot drops the connection.
        self._runner = web.AppRunner(
            self._transport.application(),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        # Idle until the bot calls setWebhook; then it posts the pending updates.
        self._webhook.start()

    async def stop(self) -> None:
        self._updates.close()
        await self._webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the stand-in server is not started")
        return self._base_url

    # ---- records of what the bot did -------------------------------------------------------

    @property
    def bot_user(self) -> JsonDict:
        return self._profile.user

    @property
    def violations(self) -> list[Violation]:
        return self._transport.violations

    @property
    def handler_errors(self) -> list[HandlerError]:
        return self._updates.handler_errors

    @property
    def callback_answers(self) -> dict[str, CallbackAnswer]:
        return self._store.callback_answers

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        return self._store.chat_actions

    @property
    def commands(self) -> dict[tuple[str, str], list[JsonDict]]:
        return self._profile.commands

    @property
    def descriptions(self) -> dict[str, str]:
        return self._profile.descriptions

    @property
    def short_descriptions(self) -> dict[str, str]:
        return self._profile.short_descriptions

    # ---- test controls ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` valid calls of ``method`` with this error."""
        self._faults.fail_next(
            method,
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            count=count,
        )

    def block(self, user_id: int) -> None:
        self._gate.block(user_id)

    def unblock(self, user_id: int) -> None:
        self._gate.unblock(user_id)

    def add_user(self, user: TgUser) -> None:
        """Make the user's private chat known, as if they had started the bot earlier."""
        self._store.add_user(user)

    # ---- state readers ---------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        return self._store.messages(chat_id, include_deleted=include_deleted)

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self._store.message(chat_id, message_id)

    def document(self, file_id: str) -> StoredDocument | None:
        """A file the bot sent, by its file_id (name, type and bytes)."""
        return self._store.document(file_id)

    def file_bytes(self, file_id: str) -> bytes:
        document = self._store.document(file_id)
        if document is None:
            raise KeyError(file_id)
        return document.data

    @property
    def webhook_url(self) -> str | None:
        """Where updates are posted (setWebhook), or None while the bot polls."""
        webhook = self._updates.webhook
        return webhook.url if webhook is not None else None

    @property
    def failed_webhook_posts(self) -> int:
        """Posts of updates the bot's webhook did not accept (then posted again)."""
        return self._webhook.failed_posts

    @property
    def answered_before_handled(self) -> list[int]:
        """Updates the webhook confirmed (2xx) before the bot had handled them."""
        return self._updates.answered_before_handled

    @property
    def pending_updates(self) -> int:
        return self._updates.pending_count

    @property
    def long_polling(self) -> bool:
        """Whether a getUpdates request is waiting for updates right now."""
        return self._updates.long_polling

    # ---- events ----------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[ServerEvent]:
        return self._events.subscribe()

    def unsubscribe(self, queue: asyncio.Queue[ServerEvent]) -> None:
        self._events.unsubscribe(queue)

    # The timeout parameters of wait_for and wait_handled keep test code to one line.
    async def wait_for(self, condition: Callable[[], T | None], *, timeout: float = 10.0) -> T:  # noqa: ASYNC109
        """Wait until ``condition()`` is truthy and return its value.

        The condition is checked now and after every server event; TimeoutError otherwise.
        """
        async with asyncio.timeout(timeout):
            return await self._events.wait_until(condition)

    # ---- incoming side: what a Telegram client does ----------------------------------------

    def push_message(self, user: TgUser, text: str) -> int:
        """The user sends ``text`` to the bot; returns the update_id."""
        self.add_user(user)
        # Writing to a blocked bot is only possible through the client's "Restart" button,
        # which unblocks it.
        self._gate.unblock(user.id)
        message = self._store.append(
            StoredMessage(0, user.id, from_bot=False, date=self._store.now(), text=text)
        )
        command = _BOT_COMMAND_RE.match(text)
        if command is not None:
            message.entities = [Entity("bot_command", 0, utf16_len(command.group())).to_api()]
        return self._updates.push(
            "message",
            self._store.message_api(message),
            chat_id=user.id,
            label=f"message {text!r}",
        )

    def push_callback(self, user: TgUser, message_id: int, data: str) -> tuple[int, str]:
        """The user presses a button carrying ``data`` under the message.

        Returns (update_id, callback query id). The data is not checked against the keyboard,
        so stale or forged callbacks can be sent too.
        """
        message = self._store.visible_message(user.id, message_id)
        if message is None:
            raise LookupError(f"chat {user.id} has no visible message {message_id}")
        self.add_user(user)
        query_id = self._updates.open_query()
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": self._store.message_api(message),
            "chat_instance": str(user.id),
            "data": data,
        }
        update_id = self._updates.push(
            "callback_query", query, chat_id=user.id, label=f"callback {data!r} on {message_id}"
        )
        return update_id, query_id

    # ---- handled tracking ------------------------------------------------------------------

    def mark_handled(self, update_id: int, error: BaseException | None) -> None:
        self._updates.mark_handled(update_id, error)

    async def wait_handled(self, update_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot finished handling the update; its errors are in handler_errors."""
        await self._updates.wait_handled(update_id, timeout)
