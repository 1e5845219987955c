"""A simulated Telegram user, in the spirit of aiogram_dialog's test BotClient.

Each action waits until the bot has handled the resulting update and fails the test right there
if the bot made a request the stand-in rejected or a handler raised.
"""

from __future__ import annotations

from .server import CallbackAnswer, StandInServer, StoredMessage, TgUser

__all__ = ["SimUser"]


class SimUser:
    def __init__(self, server: StandInServer, user: TgUser, *, timeout: float = 10.0) -> None:
        self.server = server
        self.user = user
        self.timeout = timeout

    # ---- actions -----------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Send a message to the bot and wait until the bot has handled it."""
        before = len(self.server.violations)
        update_id = self.server.push_message(self.user, text)
        await self._settle(update_id, before, f"message {text!r}")

    async def click(
        self, button_text: str, *, message_id: int | None = None
    ) -> CallbackAnswer | None:
        """Press the inline button labelled exactly ``button_text``.

        Looks in message ``message_id``, or else in the newest visible bot message that has
        such a button. Returns the bot's callback answer, None if it did not answer.
        """
        message, button = self._find_button(button_text, message_id)
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(
                f"button {button_text!r} in message {message.message_id} is not a callback "
                f"button: {button}"
            )
        return await self.click_data(data, message.message_id)

    async def click_data(self, data: str, message_id: int) -> CallbackAnswer | None:
        """Press a button carrying ``data`` under a message, whether or not it is shown there,
        as a stale or forged callback would."""
        before = len(self.server.violations)
        update_id, query_id = self.server.push_callback(self.user, message_id, data)
        await self._settle(update_id, before, f"callback {data!r} on message {message_id}")
        return self.server.callback_answers.get(query_id)

    async def _settle(self, update_id: int, violations_before: int, action: str) -> None:
        await self.server.wait_handled(update_id, timeout=self.timeout)
        violations = self.server.violations[violations_before:]
        errors = [e.error for e in self.server.handler_errors if e.update_id == update_id]
        if not violations and not errors:
            return
        lines = [f"the bot failed on {self.user.first_name}'s {action}:"]
        lines += [f"  {v.method} rejected: {v.description}; params {v.params}" for v in violations]
        lines += [f"  handler raised {error!r}" for error in errors]
        raise AssertionError("\n".join(lines)) from (errors[0] if errors else None)

    def _find_button(
        self, text: str, message_id: int | None
    ) -> tuple[StoredMessage, dict[str, object]]:
        if message_id is not None:
            candidates = [m for m in self.bot_messages if m.message_id == message_id]
        else:
            candidates = list(reversed(self.bot_messages))
        for message in candidates:
            for row in message.inline_keyboard:
                for button in row:
                    if button["text"] == text:
                        return message, button
        shown = [
            f"  message {m.message_id}: " + " / ".join(" | ".join(row) for row in self.buttons(m))
            for m in self.bot_messages
            if m.inline_keyboard
        ]
        where = f"message {message_id}" if message_id is not None else "any visible bot message"
        raise AssertionError(
            f"no button {text!r} in {where}; visible buttons:\n" + ("\n".join(shown) or "  none")
        )

    # ---- what the user sees ------------------------------------------------------------

    @property
    def messages(self) -> list[StoredMessage]:
        """Visible messages of the chat, both the user's and the bot's, oldest first."""
        return self.server.messages(self.user.id)

    @property
    def bot_messages(self) -> list[StoredMessage]:
        return [m for m in self.messages if m.from_bot]

    @property
    def last_bot_message(self) -> StoredMessage:
        """The newest visible bot message; AssertionError if the bot has not sent any."""
        messages = self.bot_messages
        if not messages:
            raise AssertionError(f"the bot has sent no visible message to {self.user.first_name}")
        return messages[-1]

    def buttons(self, message: StoredMessage | None = None) -> list[list[str]]:
        """Inline button labels by rows, of ``message`` or else of the last bot message."""
        target = message if message is not None else self.last_bot_message
        return [[button["text"] for button in row] for row in target.inline_keyboard]

    @property
    def documents(self) -> list[StoredMessage]:
        """Visible bot messages carrying a document."""
        return [m for m in self.bot_messages if m.document is not None]

    def download(self, message: StoredMessage) -> bytes:
        """The document's bytes, read from the server's state rather than over HTTP (the HTTP
        getFile and /file route are what the bot uses and are tested with aiogram)."""
        if message.document is None:
            raise AssertionError(f"message {message.message_id} has no document")
        return self.server.file_bytes(message.document.file_id)
