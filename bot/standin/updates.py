"""The updates on their way to the bot: pushed by simulated users, fetched by the bot's
getUpdates long poll or posted to its webhook (webhook.py), then marked handled by its
HandledTracker middleware."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from .events import EventHub, EventKind
from .store import JsonDict

__all__ = ["HandlerError", "UpdateQueue", "WebhookTarget"]

# Update types delivered when the bot has not chosen any (Telegram's documented default).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass(frozen=True, slots=True)
class HandlerError:
    update_id: int
    error: BaseException


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where setWebhook asked updates to be posted, with the secret to send along."""

    url: str
    secret_token: str | None
    max_connections: int


@dataclass(frozen=True, slots=True)
class _PendingUpdate:
    update_id: int
    kind: str
    payload: JsonDict


class UpdateQueue:
    def __init__(self, events: EventHub) -> None:
        self._events = events
        self._pending: list[_PendingUpdate] = []
        self._next_update_id = 1
        # None until the bot names the update types it wants in getUpdates.
        self.allowed_updates: frozenset[str] | None = None
        self._active_poll: object | None = None
        self._closing = False
        # For wait_handled's verdict: where an update got stuck, in words a test can print.
        self._labels: dict[int, str] = {}
        self._fetched: set[int] = set()
        self._handled: set[int] = set()
        self.handler_errors: list[HandlerError] = []
        self._undelivered: dict[int, str] = {}
        self._open_queries: set[str] = set()
        self._next_query_id = 1
        self.webhook: WebhookTarget | None = None
        self._posting: set[int] = set()  # posted to the webhook, no answer yet
        # Webhook answers (2xx) that came before the bot's HandledTracker marked the update
        # handled: a bot that answers first and handles later loses updates when it dies.
        self.answered_before_handled: list[int] = []

    # ---- the users' side -------------------------------------------------------------------

    def push(self, kind: str, payload: JsonDict, *, chat_id: int, label: str) -> int:
        """Queue an update of ``kind`` (unless allowed_updates exclude it); its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._labels[update_id] = f"{label} from {chat_id}"
        if self._is_allowed(kind):
            self._pending.append(
                _PendingUpdate(update_id, kind, {"update_id": update_id, kind: payload})
            )
        else:
            self._undelivered[update_id] = (
                f"the bot's allowed_updates {sorted(self.allowed_updates or ())} exclude {kind}"
            )
        self._events.emit(EventKind.UPDATE_PUSHED, chat_id=chat_id, update_id=update_id)
        return update_id

    def _is_allowed(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self.allowed_updates

    def open_query(self) -> str:
        """A new callback query id, open until the bot answers it."""
        query_id = str(self._next_query_id)
        self._next_query_id += 1
        self._open_queries.add(query_id)
        return query_id

    def is_open(self, query_id: str) -> bool:
        return query_id in self._open_queries

    def close_query(self, query_id: str) -> None:
        self._open_queries.discard(query_id)

    # ---- the bot's side --------------------------------------------------------------------

    def confirm(self, offset: int) -> None:
        """Forget what getUpdates' offset confirms: updates before it, or all but the last
        -offset ones for a negative offset."""
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u.update_id >= offset]

    async def long_poll(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for updates; False if a newer poll superseded this one."""
        # A newer getUpdates terminates the one still waiting, as on Telegram.
        poll = object()
        self._active_poll = poll
        self._events.notify()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._events.wait_until(
                        lambda: self._pending or self._closing or self._active_poll is not poll
                    )
        finally:
            superseded = self._active_poll is not poll
            if not superseded:
                self._active_poll = None
        return not superseded

    def take(self, limit: int) -> list[JsonDict]:
        """Up to ``limit`` pending updates; they stay pending until an offset confirms them."""
        batch = self._pending[:limit]
        self._fetched.update(u.update_id for u in batch)
        return [u.payload for u in batch]

    # ---- webhook delivery ------------------------------------------------------------------

    def set_webhook(self, target: WebhookTarget | None) -> None:
        self.webhook = target
        self._events.notify()

    def next_to_post(self) -> JsonDict | None:
        """The oldest pending update not being posted yet, if a connection is free."""
        if self.webhook is None or len(self._posting) >= self.webhook.max_connections:
            return None
        for update in self._pending:
            if update.update_id not in self._posting:
                self._posting.add(update.update_id)
                self._fetched.add(update.update_id)
                return update.payload
        return None

    def posted(self, update_id: int, *, accepted: bool) -> None:
        """The webhook answered: 2xx confirms the update; anything else, it is posted again."""
        self._posting.discard(update_id)
        if accepted:
            if update_id not in self._handled:
                self.answered_before_handled.append(update_id)
            self._pending = [u for u in self._pending if u.update_id != update_id]
        self._events.notify()

    def drop_pending(self, reason: str) -> None:
        for update in self._pending:
            self._undelivered[update.update_id] = reason
        self._pending.clear()
        self._events.notify()

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def long_polling(self) -> bool:
        return self._active_poll is not None

    def close(self) -> None:
        """End the waiting long poll now, as the server is stopping."""
        self._closing = True
        self._events.notify()

    # ---- handled tracking ------------------------------------------------------------------

    def mark_handled(self, update_id: int, error: BaseException | None) -> None:
        self._handled.add(update_id)
        if error is not None:
            self.handler_errors.append(HandlerError(update_id, error))
        self._events.emit(EventKind.UPDATE_HANDLED, update_id=update_id)

    async def wait_handled(self, update_id: int, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until the bot finished handling the update, or say where it got stuck."""

        def settled() -> bool:
            return update_id in self._handled or update_id in self._undelivered

        label = self._labels.get(update_id, "unknown update")
        try:
            async with asyncio.timeout(timeout):
                await self._events.wait_until(settled)
        except TimeoutError:
            raise TimeoutError(
                f"update {update_id} ({label}) was not handled within {timeout} s: "
                f"{self._stuck_reason(update_id)}"
            ) from None
        if update_id in self._undelivered:
            raise AssertionError(
                f"update {update_id} ({label}) was never delivered: {self._undelivered[update_id]}"
            )

    def _stuck_reason(self, update_id: int) -> str:
        if update_id in self._fetched:
            return "the bot fetched it but never marked it handled (HandledTracker missing?)"
        return "the bot never fetched it with getUpdates (is it polling?)"
