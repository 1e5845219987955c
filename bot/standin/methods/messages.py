"""Sending and deleting messages, and chat actions ("typing…")."""

from __future__ import annotations

from ..errors import bad_request
from ..events import EventKind
from ..limits import MAX_DELETE_BATCH
from ..store import ChatStore, JsonDict, StoredMessage
from . import content
from .backend import Backend

__all__ = ["delete_message", "delete_messages", "reply_target", "send_chat_action", "send_message"]

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


async def send_message(backend: Backend, params: JsonDict) -> JsonDict:
    user = backend.outgoing(params["chat_id"])
    text, entities = content.text(params)
    message = StoredMessage(
        0,
        user.id,
        from_bot=True,
        date=backend.store.now(),
        text=text,
        html=params["text"],
        entities=entities,
        reply_markup=content.markup(params),
        reply_to_message_id=reply_target(backend.store, user.id, params),
    )
    return backend.send(message)


def reply_target(store: ChatStore, chat_id: int, params: JsonDict) -> int | None:
    """The message replied to, from reply_parameters or the legacy parameters aiogram sends."""
    reply: JsonDict = params.get("reply_parameters") or {}
    target = reply.get("message_id", params.get("reply_to_message_id"))
    if target is None:
        return None
    allow_missing = reply.get(
        "allow_sending_without_reply", params.get("allow_sending_without_reply", False)
    )
    if store.visible_message(chat_id, target) is None:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return int(target)


async def send_chat_action(backend: Backend, params: JsonDict) -> bool:
    # Chat actions are not messages: flood control does not count them.
    user = backend.outgoing(params["chat_id"], rate_limited=False)
    action: str = params["action"]
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    backend.store.chat_actions.append((user.id, action))
    backend.events.emit(EventKind.CHAT_ACTION, chat_id=user.id)
    return True


async def delete_message(backend: Backend, params: JsonDict) -> bool:
    # No gatekeeping: the stand-in neither refuses deletions in a chat that blocked the bot nor
    # counts them for flood control.
    user = backend.store.chat(params["chat_id"])
    message = backend.store.visible_message(user.id, params["message_id"])
    if message is None:
        raise bad_request("message to delete not found")
    _mark_deleted(backend, message)
    return True


async def delete_messages(backend: Backend, params: JsonDict) -> bool:
    user = backend.store.chat(params["chat_id"])
    message_ids: list[int] = params["message_ids"]
    if not message_ids:
        raise bad_request("message_ids is empty")
    if len(message_ids) > MAX_DELETE_BATCH:
        raise bad_request("too many message identifiers specified")
    # Telegram skips the ids it can't delete instead of failing the batch.
    for message_id in message_ids:
        message = backend.store.visible_message(user.id, message_id)
        if message is not None:
            _mark_deleted(backend, message)
    return True


def _mark_deleted(backend: Backend, message: StoredMessage) -> None:
    # Kept, only hidden: tests look at what the bot deleted.
    message.deleted = True
    backend.events.emit(
        EventKind.MESSAGE_DELETED, chat_id=message.chat_id, message_id=message.message_id
    )
