"""Registry staff commands. To anyone else they do not exist: the access filter sits on the
parent router, so their updates fall through to the ordinary handlers like any unknown command."""

from __future__ import annotations

from aiogram import Router

from bot.handlers.staff import cancel, closures, guide, lookup, members, move, waiting
from bot.handlers.staff.access import IsStaff


def create_router() -> Router:
    router = Router(name=__name__)
    # Checked once per update, before any staff handler; it hands `access` to them all.
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    # First match wins, in this order: /help, the lookups, /staff, the typed reason and the
    # cancel buttons, the move buttons, then /close, /reopen and the close buttons.
    router.include_routers(
        guide.create_router(),
        lookup.create_router(),
        waiting.create_router(),
        members.create_router(),
        cancel.create_router(),
        move.create_router(),
        closures.create_router(),
    )
    return router
