"""What every Bot API method of the stand-in works on, and the steps messages share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..events import EventHub, EventKind
from ..limits import Gate
from ..store import BotProfile, ChatStore, JsonDict, StoredMessage, TgUser
from ..updates import UpdateQueue

__all__ = ["ApiMethod", "Backend"]


@dataclass(frozen=True, slots=True)
class Backend:
    store: ChatStore
    profile: BotProfile
    updates: UpdateQueue
    gate: Gate
    events: EventHub

    def outgoing(self, chat_id: object, *, rate_limited: bool = True) -> TgUser:
        """The recipient of a message the bot sends or edits, after Telegram's gatekeeping."""
        user = self.store.chat(chat_id)
        self.gate.admit(user.id, rate_limited=rate_limited)
        return user

    def send(self, message: StoredMessage) -> JsonDict:
        """Add a message from the bot to its chat; the Message object to return."""
        self.store.append(message)
        self.events.emit(
            EventKind.MESSAGE_SENT, chat_id=message.chat_id, message_id=message.message_id
        )
        return self.store.message_api(message)


# A method gets its parameters already checked against the Bot API description (spec.py).
ApiMethod = Callable[[Backend, JsonDict], Awaitable[object]]
