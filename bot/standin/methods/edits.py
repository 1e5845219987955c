"""Editing the bot's messages: their text, caption or inline keyboard."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from ..events import EventKind
from ..store import JsonDict, StoredMessage
from . import content
from .backend import Backend

__all__ = ["edit_message_caption", "edit_message_reply_markup", "edit_message_text"]

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


async def edit_message_text(backend: Backend, params: JsonDict) -> JsonDict:
    if "rich_message" in params:
        raise bad_request("rich messages are not supported by the stand-in server")
    message = _editable(backend, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    if "text" not in params:
        raise bad_request("message text is empty")
    text, entities = content.text(params)
    return _apply_edit(
        backend,
        message,
        params["text"],
        text=text,
        entities=entities,
        reply_markup=_edited_markup(message, params),
    )


async def edit_message_caption(backend: Backend, params: JsonDict) -> JsonDict:
    message = _editable(backend, params)
    if message.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = content.caption(params)
    return _apply_edit(
        backend,
        message,
        params.get("caption"),
        caption=caption,
        entities=entities,
        reply_markup=_edited_markup(message, params),
    )


async def edit_message_reply_markup(backend: Backend, params: JsonDict) -> JsonDict:
    message = _editable(backend, params)
    return _apply_edit(backend, message, message.html, reply_markup=_edited_markup(message, params))


def _editable(backend: Backend, params: JsonDict) -> StoredMessage:
    """The bot's message the edit is for; edits pass the same gatekeeping as sending."""
    if "inline_message_id" in params:
        raise bad_request("inline messages are not supported by the stand-in server")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
    user = backend.outgoing(params["chat_id"])
    message = backend.store.visible_message(user.id, params["message_id"])
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _edited_markup(message: StoredMessage, params: JsonDict) -> JsonDict | None:
    """The markup after an edit: an edit without reply_markup removes the inline keyboard."""
    new = content.markup(params)
    # Edits can't change a reply keyboard, so one the message has stays.
    if new is None and message.reply_markup is not None and message.inline_markup is None:
        return message.reply_markup
    return new


def _apply_edit(
    backend: Backend, message: StoredMessage, html: str | None, **changes: Any
) -> JsonDict:
    """Edit the message unless ``changes`` leave its content as it is.

    ``html`` is not compared: Telegram compares the parsed text and entities.
    """
    if all(getattr(message, key) == value for key, value in changes.items()):
        raise bad_request(_NOT_MODIFIED)
    for key, value in changes.items():
        setattr(message, key, value)
    message.html = html
    message.edit_count += 1
    message.edit_date = backend.store.now()
    backend.events.emit(
        EventKind.MESSAGE_EDITED, chat_id=message.chat_id, message_id=message.message_id
    )
    return backend.store.message_api(message)
