"""A stand-in Telegram Bot API server for tests and the browser sandbox.

The real bot (aiogram Dispatcher, aiohttp session, long polling) talks to it over HTTP on
127.0.0.1 exactly as it talks to api.telegram.org. It is stricter than Telegram: every request is
checked against the Bot API description (spec.py), Telegram's HTML (html.py) and Telegram's
limits, and each rejected request is recorded in ``violations`` so a test fails on the first
bad request instead of on its visible consequences.

Only private chats exist: a chat's id is its user's id, and a chat is known once its user
has written to the bot (``push_message``/``push_callback``) or was added with ``add_user``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import mimetypes
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Self, TypeVar

from aiohttp import web

from .html import Entity, HtmlParseError, parse_html, utf16_len
from .spec import InvalidRequest, UploadedFile, load_spec

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

logger = logging.getLogger(__name__)

T = TypeVar("T")
JsonDict = dict[str, Any]
_ApiMethod = Callable[[JsonDict], Awaitable[Any]]

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_CALLBACK_ANSWER = 200
_MAX_CALLBACK_DATA_BYTES = 64
_MAX_BUTTONS_PER_ROW = 8
_MAX_BUTTONS = 100
_MAX_UPLOAD = 50 * 1024 * 1024
_MAX_DOWNLOAD = 20 * 1024 * 1024
_MAX_DELETE_BATCH = 100
_MAX_COMMANDS = 100
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_TOKEN_RE = re.compile(r"(\d+):[\w-]+")
# Fields of InlineKeyboardButton that are not its action.
_BUTTON_DECORATIONS = frozenset({"text", "icon_custom_emoji_id", "style"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update types delivered when the bot has not chosen any (Telegram's documented default).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


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


@dataclass(frozen=True, slots=True)
class Violation:
    """A request the bot should not have made; ``params`` hold no file contents."""

    method: str
    description: str
    params: dict[str, object]
    error_code: int = 400


@dataclass(frozen=True, slots=True)
class HandlerError:
    update_id: int
    error: BaseException


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


class _ApiError(Exception):
    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool = True,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        # 403 and 429 are Telegram behaving as it does in production, not bot bugs.
        self.violation = violation


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


@dataclass(slots=True)
class _Call:
    """What is known about a request so far, for the violation record if it fails."""

    method: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _PendingUpdate:
    update_id: int
    kind: str
    payload: JsonDict


@dataclass(frozen=True, slots=True)
class _InjectedFailure:
    error_code: int
    description: str
    retry_after: int | None


class _Changes:
    """Wakes everyone waiting for the server state to change; notify() is callable from sync
    code, which an asyncio.Condition is not."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, condition: Callable[[], T | None]) -> T:
        """Return condition()'s first truthy value."""
        while not (result := condition()):
            await self._event.wait()
        return result


class _TokenBucket:
    """Flood control: ``rate`` requests per second per key, bursts up to max(rate, 1)."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._state: dict[object, tuple[float, float]] = {}

    def take(self, key: object) -> int | None:
        """Spend one request; if none is left, return the seconds to wait instead."""
        now = time.monotonic()
        tokens, last = self._state.get(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._state[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self._rate))
        self._state[key] = (tokens - 1, now)
        return None


def _without_files(params: Mapping[str, object]) -> dict[str, object]:
    return {k: repr(v) if isinstance(v, UploadedFile) else v for k, v in params.items()}


async def _read_params(request: web.Request) -> dict[str, object]:
    params: dict[str, object] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise _bad_request("JSON body must be an object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise _ApiError(413, "Request Entity Too Large") from None
        for name, value in form.items():
            if isinstance(value, web.FileField):
                params[name] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                params[name] = value
    else:
        raise _bad_request(f"unsupported Content-Type {request.content_type}")
    return params


def _check_inline_keyboard(markup: JsonDict) -> None:
    rows: list[list[JsonDict]] = markup["inline_keyboard"]
    if sum(len(row) for row in rows) > _MAX_BUTTONS or any(
        len(row) > _MAX_BUTTONS_PER_ROW for row in rows
    ):
        raise _bad_request("BUTTONS_TOO_MUCH")
    for button in (button for row in rows for button in row):
        if not button["text"].strip():
            raise _bad_request("can't parse inline keyboard button: text must be non-empty")
        actions = sorted(button.keys() - _BUTTON_DECORATIONS)
        if not actions:
            raise _bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if len(actions) > 1:
            raise _bad_request(
                "can't parse inline keyboard button: exactly one of the optional fields must be "
                f"used, got {', '.join(actions)}"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(data.encode()) <= _MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not url.startswith(("http://", "https://", "tg://")):
            raise _bad_request("BUTTON_URL_INVALID")


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
        # Message dates follow the bot's clock when tests or the sandbox move it.
        self._clock = clock
        self.bot_user: JsonDict = {
            "id": int(match.group(1)),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = False

        self.violations: list[Violation] = []
        self.handler_errors: list[HandlerError] = []
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}

        self._users: dict[int, TgUser] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, list[StoredMessage]] = defaultdict(list)
        self._files: dict[str, StoredDocument] = {}
        self._files_by_path: dict[str, StoredDocument] = {}

        self._pending: list[_PendingUpdate] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._active_poll: object | None = None
        self._update_labels: dict[int, str] = {}
        self._fetched: set[int] = set()
        self._handled: set[int] = set()
        self._undelivered: dict[int, str] = {}
        self._open_queries: set[str] = set()
        self._next_query_id = 1

        self._injected: dict[str, deque[_InjectedFailure]] = defaultdict(deque)
        self._chat_limit = _TokenBucket(per_chat_rate) if per_chat_rate else None
        self._global_limit = _TokenBucket(global_rate) if global_rate else None
        self._changes = _Changes()
        self._subscribers: list[asyncio.Queue[ServerEvent]] = []

        self._methods: dict[str, _ApiMethod] = {
            name.lower(): method
            for name, method in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._set_my_description,
                "setMyShortDescription": self._set_my_short_description,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "editMessageCaption": self._edit_message_caption,
                "deleteMessage": self._delete_message,
                "deleteMessages": self._delete_messages,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
                "sendChatAction": self._send_chat_action,
                "close": self._accept,
                "logOut": self._accept,
            }.items()
        }

    def _now(self) -> int:
        return int(self._clock().timestamp()) if self._clock is not None else _wall_now()

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        # handler_cancellation ends a long poll as soon as the bot drops the connection.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._closing = True
        self._changes.notify()
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
        if load_spec().method(method) is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if count < 1:
            raise ValueError("count must be positive")
        failure = _InjectedFailure(error_code, description, retry_after)
        self._injected[method.lower()].extend([failure] * count)

    def block(self, user_id: int) -> None:
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def add_user(self, user: TgUser) -> None:
        """Make the user's private chat known, as if they had started the bot earlier."""
        self._users[user.id] = user

    # ---- state readers ---------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        return [m for m in self._chats.get(chat_id, []) if include_deleted or not m.deleted]

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        for message in self._chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def document(self, file_id: str) -> StoredDocument | None:
        """A file the bot sent, by its file_id (name, type and bytes)."""
        return self._files.get(file_id)

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    @property
    def long_polling(self) -> bool:
        """Whether a getUpdates request is waiting for updates right now."""
        return self._active_poll is not None

    # ---- events ----------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[ServerEvent]:
        queue: asyncio.Queue[ServerEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ServerEvent]) -> None:
        self._subscribers.remove(queue)

    # The timeout parameters of wait_for and wait_handled keep test code to one line.
    async def wait_for(self, condition: Callable[[], T | None], *, timeout: float = 10.0) -> T:  # noqa: ASYNC109
        """Wait until ``condition()`` is truthy and return its value.

        The condition is checked now and after every server event; TimeoutError otherwise.
        """
        async with asyncio.timeout(timeout):
            return await self._changes.wait_until(condition)

    def _emit(self, kind: EventKind, **ids: Any) -> None:
        event = ServerEvent(kind, **ids)
        for queue in self._subscribers:
            queue.put_nowait(event)
        self._changes.notify()

    # ---- incoming side: what a Telegram client does ----------------------------------------

    def push_message(self, user: TgUser, text: str) -> int:
        """The user sends ``text`` to the bot; returns the update_id."""
        self.add_user(user)
        # Writing to a blocked bot is only possible through the client's "Restart" button,
        # which unblocks it.
        self._blocked.discard(user.id)
        message = self._store(
            StoredMessage(0, user.id, from_bot=False, date=self._now(), text=text)
        )
        command = _BOT_COMMAND_RE.match(text)
        if command is not None:
            message.entities = [Entity("bot_command", 0, utf16_len(command.group())).to_api()]
        return self._push_update(
            "message", self._message_api(message), chat_id=user.id, label=f"message {text!r}"
        )

    def push_callback(self, user: TgUser, message_id: int, data: str) -> tuple[int, str]:
        """The user presses a button carrying ``data`` under the message.

        Returns (update_id, callback query id). The data is not checked against the keyboard,
        so stale or forged callbacks can be sent too.
        """
        message = self.message(user.id, message_id)
        if message is None or message.deleted:
            raise LookupError(f"chat {user.id} has no visible message {message_id}")
        self.add_user(user)
        query_id = str(self._next_query_id)
        self._next_query_id += 1
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": self._message_api(message),
            "chat_instance": str(user.id),
            "data": data,
        }
        update_id = self._push_update(
            "callback_query", query, chat_id=user.id, label=f"callback {data!r} on {message_id}"
        )
        return update_id, query_id

    def _push_update(self, kind: str, payload: JsonDict, *, chat_id: int, label: str) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._update_labels[update_id] = f"{label} from {chat_id}"
        if self._is_allowed(kind):
            self._pending.append(
                _PendingUpdate(update_id, kind, {"update_id": update_id, kind: payload})
            )
        else:
            self._undelivered[update_id] = (
                f"the bot's allowed_updates {sorted(self._allowed_updates or ())} exclude {kind}"
            )
        self._emit(EventKind.UPDATE_PUSHED, chat_id=chat_id, update_id=update_id)
        return update_id

    def _is_allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    # ---- handled tracking ------------------------------------------------------------------

    def mark_handled(self, update_id: int, error: BaseException | None) -> None:
        self._handled.add(update_id)
        if error is not None:
            self.handler_errors.append(HandlerError(update_id, error))
        self._emit(EventKind.UPDATE_HANDLED, update_id=update_id)

    async def wait_handled(self, update_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot finished handling the update; its errors are in handler_errors."""

        def settled() -> bool:
            return update_id in self._handled or update_id in self._undelivered

        label = self._update_labels.get(update_id, "unknown update")
        try:
            async with asyncio.timeout(timeout):
                await self._changes.wait_until(settled)
        except TimeoutError:
            if update_id in self._fetched:
                reason = "the bot fetched it but never marked it handled (HandledTracker missing?)"
            else:
                reason = "the bot never fetched it with getUpdates (is it polling?)"
            raise TimeoutError(
                f"update {update_id} ({label}) was not handled within {timeout} s: {reason}"
            ) from None
        if update_id in self._undelivered:
            raise AssertionError(
                f"update {update_id} ({label}) was never delivered: {self._undelivered[update_id]}"
            )

    # ---- HTTP ------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        call = _Call(request.match_info["method"])
        try:
            result = await self._call(request, call)
        except _ApiError as exc:
            error = exc
        except Exception as exc:
            logger.exception("stand-in server failed on %s", call.method)
            error = _ApiError(500, f"Internal Server Error: stand-in bug: {exc!r}")
        else:
            return web.json_response({"ok": True, "result": result})
        if error.violation:
            self._record_violation(call, error)
        body: JsonDict = {
            "ok": False,
            "error_code": error.error_code,
            "description": error.description,
        }
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.error_code)

    async def _call(self, request: web.Request, call: _Call) -> object:
        if request.match_info["token"] != self.token:
            raise _ApiError(401, "Unauthorized")
        spec = load_spec().method(call.method)
        if spec is None:
            raise _ApiError(404, "Not Found")
        call.method = spec.name
        implementation = self._methods.get(spec.name.lower())
        if implementation is None:
            raise _bad_request(f"method {spec.name} is not supported by the stand-in server")
        call.params = await _read_params(request)
        try:
            params = load_spec().validate(spec, call.params)
        except InvalidRequest as exc:
            raise _ApiError(400, exc.description) from None
        injected = self._injected.get(spec.name.lower())
        if injected:
            failure = injected.popleft()
            raise _ApiError(
                failure.error_code,
                failure.description,
                retry_after=failure.retry_after,
                violation=False,
            )
        return await implementation(params)

    def _record_violation(self, call: _Call, error: _ApiError) -> None:
        params = _without_files(call.params)
        violation = Violation(call.method, error.description, params, error.error_code)
        logger.warning("stand-in rejected %s: %s", call.method, error.description)
        self.violations.append(violation)
        self._emit(EventKind.VIOLATION)

    async def _handle_file(self, request: web.Request) -> web.Response:
        document = self._files_by_path.get(request.match_info["file_path"])
        if request.match_info["token"] != self.token or document is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=document.data, content_type=document.mime_type)

    # ---- helpers shared by methods ---------------------------------------------------------

    def _store(self, message: StoredMessage) -> StoredMessage:
        chat = self._chats[message.chat_id]
        message.message_id = chat[-1].message_id + 1 if chat else 1
        chat.append(message)
        return message

    def _message_api(self, message: StoredMessage, *, with_reply: bool = True) -> JsonDict:
        user = self._users[message.chat_id]
        result: JsonDict = {
            "message_id": message.message_id,
            "from": self.bot_user if message.from_bot else user.to_api(),
            "chat": user.private_chat_api(),
            "date": message.date,
        }
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
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.inline_markup is not None:
            result["reply_markup"] = message.inline_markup
        if with_reply and message.reply_to_message_id is not None:
            replied = self.message(message.chat_id, message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                result["reply_to_message"] = self._message_api(replied, with_reply=False)
        return result

    def _chat(self, chat_id: object) -> TgUser:
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise _bad_request("chat not found")
        return user

    def _outgoing(self, chat_id: object, *, rate_limited: bool = True) -> TgUser:
        """The recipient of a message the bot sends or edits, after Telegram's gatekeeping."""
        user = self._chat(chat_id)
        if user.id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user", violation=False)
        if rate_limited:
            for bucket, key in ((self._global_limit, None), (self._chat_limit, user.id)):
                retry_after = bucket.take(key) if bucket is not None else None
                if retry_after is not None:
                    raise _ApiError(
                        429,
                        f"Too Many Requests: retry after {retry_after}",
                        retry_after=retry_after,
                        violation=False,
                    )
        return user

    def _format(
        self, params: JsonDict, text_key: str, entities_key: str, *, limit: int
    ) -> tuple[str, list[JsonDict]]:
        """The plain text and entities of a text or caption, with Telegram's checks."""
        source: str = params[text_key]
        parse_mode: str | None = params.get("parse_mode")
        explicit: list[JsonDict] | None = params.get(entities_key)
        mode = (parse_mode or "").lower()
        if mode and mode != "none":
            if explicit is not None:
                raise _bad_request(
                    f"both parse_mode and {entities_key} are specified; Telegram ignores "
                    f"{entities_key} when parse_mode is set"
                )
            if mode in ("markdown", "markdownv2"):
                raise _bad_request(
                    f'parse_mode "{parse_mode}" is not supported by the stand-in: '
                    "the bot only uses HTML"
                )
            if mode != "html":
                raise _bad_request("unsupported parse_mode")
            try:
                text, parsed = parse_html(source)
            except HtmlParseError as exc:
                raise _ApiError(400, exc.description) from None
            entities = [entity.to_api() for entity in parsed]
        else:
            text, entities = source, list(explicit or [])
            length = utf16_len(text)
            for entity in entities:
                if entity["offset"] < 0 or entity["length"] <= 0:
                    raise _bad_request(
                        "can't parse entities: entity has a negative offset or length"
                    )
                if entity["offset"] + entity["length"] > length:
                    raise _bad_request("can't parse entities: entity ends beyond the text")
        if utf16_len(text) > limit:
            raise _bad_request(
                "message is too long" if text_key == "text" else "message caption is too long"
            )
        return text, entities

    def _text(self, params: JsonDict) -> tuple[str, list[JsonDict]]:
        text, entities = self._format(params, "text", "entities", limit=_MAX_TEXT)
        if not text.strip():
            raise _bad_request("message text is empty")
        return text, entities

    def _caption(self, params: JsonDict) -> tuple[str | None, list[JsonDict]]:
        if "caption" not in params:
            return None, []
        caption, entities = self._format(params, "caption", "caption_entities", limit=_MAX_CAPTION)
        return (caption or None), entities

    def _markup(self, params: JsonDict) -> JsonDict | None:
        markup: JsonDict | None = params.get("reply_markup")
        if markup is None or "inline_keyboard" not in markup:
            return markup
        _check_inline_keyboard(markup)
        # Telegram drops an empty inline keyboard instead of storing it.
        return markup if any(markup["inline_keyboard"]) else None

    def _reply_target(self, chat_id: int, params: JsonDict) -> int | None:
        reply: JsonDict = params.get("reply_parameters") or {}
        target = reply.get("message_id", params.get("reply_to_message_id"))
        if target is None:
            return None
        allow_missing = reply.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply", False)
        )
        replied = self.message(chat_id, target)
        if replied is None or replied.deleted:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return int(target)

    def _send(self, message: StoredMessage) -> JsonDict:
        self._store(message)
        self._emit(EventKind.MESSAGE_SENT, chat_id=message.chat_id, message_id=message.message_id)
        return self._message_api(message)

    def _editable(self, params: JsonDict) -> StoredMessage:
        if "inline_message_id" in params:
            raise _bad_request("inline messages are not supported by the stand-in server")
        if "chat_id" not in params:
            raise _bad_request("chat_id is empty")
        if "message_id" not in params:
            raise _bad_request("message identifier is not specified")
        user = self._outgoing(params["chat_id"])
        message = self.message(user.id, params["message_id"])
        if message is None or message.deleted:
            raise _bad_request("message to edit not found")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return message

    def _edited_markup(self, message: StoredMessage, params: JsonDict) -> JsonDict | None:
        """The markup after an edit: an edit without reply_markup removes the inline keyboard."""
        new = self._markup(params)
        if new is None and message.reply_markup is not None and message.inline_markup is None:
            return message.reply_markup
        return new

    def _apply_edit(self, message: StoredMessage, html: str | None, **changes: Any) -> JsonDict:
        """Edit the message unless ``changes`` leave its content as it is.

        ``html`` is not compared: Telegram compares the parsed text and entities.
        """
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise _bad_request(_NOT_MODIFIED)
        for key, value in changes.items():
            setattr(message, key, value)
        message.html = html
        message.edit_count += 1
        message.edit_date = self._now()
        self._emit(EventKind.MESSAGE_EDITED, chat_id=message.chat_id, message_id=message.message_id)
        return self._message_api(message)

    def _mark_deleted(self, message: StoredMessage) -> None:
        message.deleted = True
        self._emit(
            EventKind.MESSAGE_DELETED, chat_id=message.chat_id, message_id=message.message_id
        )

    def _new_document(self, upload: UploadedFile) -> StoredDocument:
        if not upload.data:
            raise _bad_request("file must be non-empty")
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

    # ---- Bot API methods -------------------------------------------------------------------

    async def _accept(self, params: JsonDict) -> bool:
        return True

    async def _get_me(self, params: JsonDict) -> JsonDict:
        return self.bot_user

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        offset: int | None = params.get("offset")
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        if "allowed_updates" in params:
            self._allowed_updates = frozenset(params["allowed_updates"]) or None
        if offset is not None:
            if offset < 0:
                self._pending = self._pending[offset:]
            else:
                self._pending = [u for u in self._pending if u.update_id >= offset]

        # A newer getUpdates terminates the one still waiting, as on Telegram.
        poll = object()
        self._active_poll = poll
        self._changes.notify()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changes.wait_until(
                        lambda: self._pending or self._closing or self._active_poll is not poll
                    )
        finally:
            superseded = self._active_poll is not poll
            if not superseded:
                self._active_poll = None
        if superseded:
            raise _ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
                violation=False,
            )
        batch = self._pending[:limit]
        self._fetched.update(u.update_id for u in batch)
        return [u.payload for u in batch]

    async def _delete_webhook(self, params: JsonDict) -> bool:
        if params.get("drop_pending_updates"):
            for update in self._pending:
                self._undelivered[update.update_id] = "dropped by deleteWebhook"
            self._pending.clear()
            self._changes.notify()
        return True

    async def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    @staticmethod
    def _commands_key(params: JsonDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    async def _set_my_commands(self, params: JsonDict) -> bool:
        commands: list[JsonDict] = params["commands"]
        if len(commands) > _MAX_COMMANDS:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND_RE.fullmatch(command["command"]):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JsonDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _set_my_description(self, params: JsonDict) -> bool:
        description: str = params.get("description", "")
        if len(description) > 512:
            raise _bad_request("BOT_DESCRIPTION_INVALID")
        self.descriptions[params.get("language_code", "")] = description
        return True

    async def _set_my_short_description(self, params: JsonDict) -> bool:
        description: str = params.get("short_description", "")
        if len(description) > 120:
            raise _bad_request("BOT_SHORT_DESCRIPTION_INVALID")
        self.short_descriptions[params.get("language_code", "")] = description
        return True

    async def _send_message(self, params: JsonDict) -> JsonDict:
        user = self._outgoing(params["chat_id"])
        text, entities = self._text(params)
        message = StoredMessage(
            0,
            user.id,
            from_bot=True,
            date=self._now(),
            text=text,
            html=params["text"],
            entities=entities,
            reply_markup=self._markup(params),
            reply_to_message_id=self._reply_target(user.id, params),
        )
        return self._send(message)

    async def _send_document(self, params: JsonDict) -> JsonDict:
        user = self._outgoing(params["chat_id"])
        document_param: UploadedFile | str = params["document"]
        if isinstance(document_param, UploadedFile):
            document = self._new_document(document_param)
        elif document_param.startswith(("http://", "https://")):
            raise _bad_request("sending files by URL is not supported by the stand-in server")
        elif document_param in self._files:
            document = self._files[document_param]
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        caption, entities = self._caption(params)
        message = StoredMessage(
            0,
            user.id,
            from_bot=True,
            date=self._now(),
            html=params.get("caption"),
            entities=entities,
            reply_markup=self._markup(params),
            document=document,
            caption=caption,
            reply_to_message_id=self._reply_target(user.id, params),
        )
        return self._send(message)

    async def _edit_message_text(self, params: JsonDict) -> JsonDict:
        if "rich_message" in params:
            raise _bad_request("rich messages are not supported by the stand-in server")
        message = self._editable(params)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        if "text" not in params:
            raise _bad_request("message text is empty")
        text, entities = self._text(params)
        return self._apply_edit(
            message,
            params["text"],
            text=text,
            entities=entities,
            reply_markup=self._edited_markup(message, params),
        )

    async def _edit_message_caption(self, params: JsonDict) -> JsonDict:
        message = self._editable(params)
        if message.document is None:
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        return self._apply_edit(
            message,
            params.get("caption"),
            caption=caption,
            entities=entities,
            reply_markup=self._edited_markup(message, params),
        )

    async def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict:
        message = self._editable(params)
        return self._apply_edit(
            message, message.html, reply_markup=self._edited_markup(message, params)
        )

    async def _delete_message(self, params: JsonDict) -> bool:
        user = self._chat(params["chat_id"])
        message = self.message(user.id, params["message_id"])
        if message is None or message.deleted:
            raise _bad_request("message to delete not found")
        self._mark_deleted(message)
        return True

    async def _delete_messages(self, params: JsonDict) -> bool:
        user = self._chat(params["chat_id"])
        message_ids: list[int] = params["message_ids"]
        if not message_ids:
            raise _bad_request("message_ids is empty")
        if len(message_ids) > _MAX_DELETE_BATCH:
            raise _bad_request("too many message identifiers specified")
        for message_id in message_ids:
            message = self.message(user.id, message_id)
            if message is not None and not message.deleted:
                self._mark_deleted(message)
        return True

    async def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id: str = params["callback_query_id"]
        if query_id not in self._open_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text: str | None = params.get("text")
        if text is not None and len(text) > _MAX_CALLBACK_ANSWER:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = CallbackAnswer(
            text=text,
            show_alert=bool(params.get("show_alert", False)),
            url=params.get("url"),
            cache_time=params.get("cache_time"),
        )
        self._emit(EventKind.CALLBACK_ANSWERED, callback_query_id=query_id)
        return True

    async def _get_file(self, params: JsonDict) -> JsonDict:
        document = self._files.get(params["file_id"])
        if document is None:
            raise _bad_request("invalid file_id")
        if document.size > _MAX_DOWNLOAD:
            raise _bad_request("file is too big")
        return {
            "file_id": document.file_id,
            "file_unique_id": document.file_unique_id,
            "file_size": document.size,
            "file_path": document.file_path,
        }

    async def _send_chat_action(self, params: JsonDict) -> bool:
        user = self._outgoing(params["chat_id"], rate_limited=False)
        action: str = params["action"]
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append((user.id, action))
        self._emit(EventKind.CHAT_ACTION, chat_id=user.id)
        return True


def _wall_now() -> int:
    return int(time.time())
