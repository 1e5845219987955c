"""Methods of getting updates: getUpdates (long polling) and the webhook methods a polling bot
calls to make sure no webhook is set."""

from __future__ import annotations

from ..errors import ApiError
from ..store import JsonDict
from .backend import Backend

__all__ = ["delete_webhook", "get_updates", "get_webhook_info"]


async def get_updates(backend: Backend, params: JsonDict) -> list[JsonDict]:
    updates = backend.updates
    limit = min(max(params.get("limit", 100), 1), 100)
    timeout = max(params.get("timeout", 0), 0)
    if "allowed_updates" in params:
        # An empty list means "the default set", as on Telegram.
        updates.allowed_updates = frozenset(params["allowed_updates"]) or None
    offset: int | None = params.get("offset")
    if offset is not None:
        updates.confirm(offset)
    if not await updates.long_poll(timeout):
        raise ApiError(
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running",
            violation=False,
        )
    return updates.take(limit)


async def delete_webhook(backend: Backend, params: JsonDict) -> bool:
    if params.get("drop_pending_updates"):
        backend.updates.drop_pending("dropped by deleteWebhook")
    return True


async def get_webhook_info(backend: Backend, params: JsonDict) -> JsonDict:
    return {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": backend.updates.pending_count,
    }
