"""A stand-in Telegram Bot API server and simulated users for tests and the sandbox."""

from .client import SimUser
from .html import Entity, HtmlParseError, parse_html, utf16_len
from .server import (
    CallbackAnswer,
    EventKind,
    HandlerError,
    ServerEvent,
    StandInServer,
    StoredDocument,
    StoredMessage,
    TgUser,
    Violation,
)
from .spec import BotApiSpec, InvalidRequest, UploadedFile, load_spec
from .tracker import HandledTracker

__all__ = [
    "BotApiSpec",
    "CallbackAnswer",
    "Entity",
    "EventKind",
    "HandledTracker",
    "HandlerError",
    "HtmlParseError",
    "InvalidRequest",
    "ServerEvent",
    "SimUser",
    "StandInServer",
    "StoredDocument",
    "StoredMessage",
    "TgUser",
    "UploadedFile",
    "Violation",
    "load_spec",
    "parse_html",
    "utf16_len",
]
