"""Methods of getting updates: getUpdates (long polling) and the webhook methods
(setWebhook, deleteWebhook, getWebhookInfo; the delivery itself is in ../webhook.py)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..errors import ApiError, bad_request
from ..store import JsonDict
from ..updates import WebhookTarget
from .backend import Backend

__all__ = ["delete_webhook", "get_updates", "get_webhook_info", "set_webhook"]

_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


async def get_updates(backend: Backend, params: JsonDict) -> list[JsonDict]:
    updates = backend.updates
    if updates.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first",
        )
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


async def set_webhook(backend: Backend, params: JsonDict) -> bool:
    url = str(params["url"])
    if not url:
        return await delete_webhook(backend, params)
    # Telegram wants HTTPS on ports 443, 80, 88 or 8443; a local Bot API server, like this
    # stand-in, posts to any http(s) address.
    if urlsplit(url).scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    connections = int(params.get("max_connections", 40))
    if not 1 <= connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    if params.get("drop_pending_updates"):
        backend.updates.drop_pending("dropped by setWebhook")
    if "allowed_updates" in params:
        backend.updates.allowed_updates = frozenset(params["allowed_updates"]) or None
    backend.updates.set_webhook(WebhookTarget(url, secret, connections))
    return True


async def delete_webhook(backend: Backend, params: JsonDict) -> bool:
    backend.updates.set_webhook(None)
    if params.get("drop_pending_updates"):
        backend.updates.drop_pending("dropped by deleteWebhook")
    return True


async def get_webhook_info(backend: Backend, params: JsonDict) -> JsonDict:
    webhook = backend.updates.webhook
    info: JsonDict = {
        "url": webhook.url if webhook is not None else "",
        "has_custom_certificate": False,
        "pending_update_count": backend.updates.pending_count,
    }
    if webhook is not None:
        info["max_connections"] = webhook.max_connections
    return info
