"""Tells the stand-in server when the bot has finished handling each update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

if TYPE_CHECKING:
    from .server import StandInServer

__all__ = ["HandledTracker"]


class HandledTracker(BaseMiddleware):
    """Outer middleware for ``dp.update``: ``dp.update.outer_middleware(HandledTracker(server))``.

    Register it after creating the Dispatcher, so it runs inside aiogram's ErrorsMiddleware and
    records an exception even when an error handler of the bot swallows it afterwards.
    """

    def __init__(self, server: StandInServer) -> None:
        self._server = server

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        error: BaseException | None = None
        try:
            return await handler(event, data)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._server.mark_handled(event.update_id, error)
