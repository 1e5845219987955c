"""Server events: a stream for subscribers (the sandbox pushes it to the browser) and a wake-up
for everyone waiting until the server state satisfies a condition (tests, long polls)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

__all__ = ["EventHub", "EventKind", "ServerEvent"]

T = TypeVar("T")


class EventKind(StrEnum):
    UPDATE_PUSHED = "update_pushed"
    UPDATE_HANDLED = "update_handled"
    MESSAGE_SENT = "message_sent"
    MESSAGE_EDITED = "message_edited"
    MESSAGE_DELETED = "message_deleted"
    CALLBACK_ANSWERED = "callback_answered"
    CHAT_ACTION = "chat_action"
    VIOLATION = "violation"


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """A change of server state; look the details up in the server by these ids."""

    kind: EventKind
    chat_id: int | None = None
    message_id: int | None = None
    update_id: int | None = None
    callback_query_id: str | None = None


class EventHub:
    """Fans events out to subscribers and wakes waiters.

    notify() is callable from sync code, which an asyncio.Condition is not: it sets the current
    Event and replaces it, so each waiter re-checks its condition once per change.
    """

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self._subscribers: list[asyncio.Queue[ServerEvent]] = []

    def subscribe(self) -> asyncio.Queue[ServerEvent]:
        queue: asyncio.Queue[ServerEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ServerEvent]) -> None:
        self._subscribers.remove(queue)

    def emit(
        self,
        kind: EventKind,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        update_id: int | None = None,
        callback_query_id: str | None = None,
    ) -> None:
        event = ServerEvent(kind, chat_id, message_id, update_id, callback_query_id)
        for queue in self._subscribers:
            queue.put_nowait(event)
        self.notify()

    def notify(self) -> None:
        """Wake the waiters without an event, for changes subscribers don't see."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, condition: Callable[[], T | None]) -> T:
        """Return condition()'s first truthy value, checked now and after every change."""
        while not (result := condition()):
            await self._changed.wait()
        return result
