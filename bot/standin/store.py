"""The stand-in's chat state: users, their private chats, the files the bot sent, and the bot's
own profile (commands and descriptions).

Only private chats exist, so a chat's id is its user's id; a chat is known once its user has
written to the bot or was added with ``add_user``. The records here are what tests and the
sandbox read; the Bot API methods (``methods/``) change them.
"""

from __future__ import annotations

import mimetypes
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import bad_request
from .spec import UploadedFile

__all__ = [
    "BotProfile",
    "CallbackAnswer",
    "ChatStore",
    "JsonDict",
    "StoredDocument",
    "StoredMessage",
    "TgUser",
]

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TgUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "ru"

    def to_api(self) -> JsonDict:
        result: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                result[key] = value
        return result

    def private_chat_api(self) -> JsonDict:
        result: JsonDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            result["last_name"] = self.last_name
        if self.username is not None:
            result["username"] = self.username
        return result


@dataclass(frozen=True, slots=True)
class StoredDocument:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    def to_api(self) -> JsonDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }


@dataclass(slots=True)
class StoredMessage:
    """A message in a chat, sent by the bot or by the user."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    # The text or caption exactly as the bot sent it (HTML source when parse_mode=HTML).
    html: str | None = None
    # Entities of the text, or of the caption for a document.
    entities: list[JsonDict] = field(default_factory=list)
    reply_markup: JsonDict | None = None
    document: StoredDocument | None = None
    caption: str | None = None
    reply_to_message_id: int | None = None
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False

    @property
    def inline_markup(self) -> JsonDict | None:
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None

    @property
    def inline_keyboard(self) -> list[list[JsonDict]]:
        markup = self.inline_markup
        return markup["inline_keyboard"] if markup is not None else []


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None = None


@dataclass(slots=True)
class BotProfile:
    """The bot as users see it: its User object, command menus and descriptions."""

    user: JsonDict
    # By (JSON of the scope, language code); "" is the default language.
    commands: dict[tuple[str, str], list[JsonDict]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)


class ChatStore:
    """Users, their chats with the bot, the bot's files and what it answered besides messages."""

    def __init__(self, *, bot_user: JsonDict, clock: Callable[[], datetime] | None) -> None:
        self._bot_user = bot_user
        # Message dates follow the bot's clock when tests or the sandbox move it.
        self._clock = clock
        self.users: dict[int, TgUser] = {}
        self._chats: dict[int, list[StoredMessage]] = defaultdict(list)
        self._files: dict[str, StoredDocument] = {}
        self._files_by_path: dict[str, StoredDocument] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.chat_actions: list[tuple[int, str]] = []

    def now(self) -> int:
        return int(self._clock().timestamp()) if self._clock is not None else int(time.time())

    def add_user(self, user: TgUser) -> None:
        self.users[user.id] = user

    def chat(self, chat_id: object) -> TgUser:
        """The user whose private chat this is; "chat not found" if the bot can't know it."""
        user = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise bad_request("chat not found")
        return user

    # ---- messages --------------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        return [m for m in self._chats.get(chat_id, []) if include_deleted or not m.deleted]

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        for message in self._chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def visible_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        message = self.message(chat_id, message_id)
        return message if message is not None and not message.deleted else None

    def append(self, message: StoredMessage) -> StoredMessage:
        """Add the message to its chat under the chat's next message id."""
        chat = self._chats[message.chat_id]
        message.message_id = chat[-1].message_id + 1 if chat else 1
        chat.append(message)
        return message

    def message_api(self, message: StoredMessage, *, with_reply: bool = True) -> JsonDict:
        """The Message object Telegram would send for this message."""
        user = self.users[message.chat_id]
        result: JsonDict = {
            "message_id": message.message_id,
            "from": self._bot_user if message.from_bot else user.to_api(),
            "chat": user.private_chat_api(),
            "date": message.date,
        }
        result.update(_content_api(message))
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.inline_markup is not None:
            result["reply_markup"] = message.inline_markup
        if with_reply and message.reply_to_message_id is not None:
            replied = self.visible_message(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                # Telegram nests one level only: the replied message carries no reply itself.
                result["reply_to_message"] = self.message_api(replied, with_reply=False)
        return result

    # ---- files -----------------------------------------------------------------------------

    def document(self, file_id: str) -> StoredDocument | None:
        return self._files.get(file_id)

    def document_at(self, file_path: str) -> StoredDocument | None:
        return self._files_by_path.get(file_path)

    def add_document(self, upload: UploadedFile) -> StoredDocument:
        """Store an uploaded file under new ids shaped like Telegram's."""
        number = len(self._files) + 1
        name = upload.filename or f"document_{number}"
        guessed, _ = mimetypes.guess_type(name)
        mime_type = guessed or upload.content_type or "application/octet-stream"
        suffix = f".{name.rsplit('.', 1)[1]}" if "." in name else ""
        document = StoredDocument(
            file_id=f"BQAC{number:04d}{secrets.token_hex(12)}",
            file_unique_id=f"AgAD{number:04d}{secrets.token_hex(4)}",
            file_path=f"documents/file_{number}{suffix}",
            file_name=name,
            mime_type=mime_type,
            data=upload.data,
        )
        self._files[document.file_id] = document
        self._files_by_path[document.file_path] = document
        return document


def _content_api(message: StoredMessage) -> JsonDict:
    """Text, or document and caption, with their entities under the key Telegram uses."""
    result: JsonDict = {}
    entities_key = "entities"
    if message.text is not None:
        result["text"] = message.text
    if message.document is not None:
        result["document"] = message.document.to_api()
        entities_key = "caption_entities"
        if message.caption is not None:
            result["caption"] = message.caption
    if message.entities:
        result[entities_key] = message.entities
    return result
