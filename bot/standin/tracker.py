"""Tells the stand-in server when the bot has finished handling each update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject, Update

if TYPE_CHECKING:
    from .server import StandInServer

__all__ = ["HandledTracker", "track_outermost"]


def track_outermost(dp: Dispatcher, tracker: BaseMiddleware) -> None:
    """Register `tracker` right inside aiogram's ErrorsMiddleware, before every other one.

    Inside ErrorsMiddleware, it records an exception even when an error handler of the bot
    swallows it afterwards. Outside the bot's own UnitOfWork, it reports an update handled
    only after the update's dialogue state is written and committed, so a test that reads
    the database next sees it.
    """
    outer = dp.update.outer_middleware
    inner = list(outer[1:])  # [0] is the ErrorsMiddleware the Dispatcher registers first
    for middleware in inner:
        outer.unregister(middleware)
    outer(tracker)
    for middleware in inner:
        outer(middleware)


class HandledTracker(BaseMiddleware):
    """Outer middleware for ``dp.update``, registered with `track_outermost`."""

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
