"""answerCallbackQuery: the bot's answer to a pressed inline button."""

from __future__ import annotations

from ..errors import bad_request
from ..events import EventKind
from ..limits import MAX_CALLBACK_ANSWER
from ..store import CallbackAnswer, JsonDict
from .backend import Backend

__all__ = ["answer_callback_query"]


async def answer_callback_query(backend: Backend, params: JsonDict) -> bool:
    query_id: str = params["callback_query_id"]
    # A query is answered once; a second answer or an unknown id is refused.
    if not backend.updates.is_open(query_id):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text: str | None = params.get("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    backend.updates.close_query(query_id)
    backend.store.callback_answers[query_id] = CallbackAnswer(
        text=text,
        show_alert=bool(params.get("show_alert", False)),
        url=params.get("url"),
        cache_time=params.get("cache_time"),
    )
    backend.events.emit(EventKind.CALLBACK_ANSWERED, callback_query_id=query_id)
    return True
