"""The last line of defence: an unexpected error still gets the patient a clear answer."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.i18n import t
from bot.keyboards import booking as kb

logger = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> None:
    # Only the type: messages of some errors could quote what the patient typed.
    logger.error(
        "update %s failed: %s",
        event.update.update_id,
        type(event.exception).__name__,
        exc_info=(type(event.exception), event.exception, event.exception.__traceback__)
        if not _may_carry_input(event.exception)
        else None,
    )
    update = event.update
    bot = update.bot
    chat_id = None
    if update.message is not None:
        chat_id = update.message.chat.id
    elif update.callback_query is not None:
        chat_id = update.callback_query.from_user.id
        with contextlib.suppress(TelegramAPIError):
            await update.callback_query.answer()
    if chat_id is None or bot is None:
        return
    with contextlib.suppress(TelegramAPIError):
        await bot.send_message(chat_id, t("something-went-wrong"), reply_markup=kb.start_only())


def _may_carry_input(error: BaseException) -> bool:
    return isinstance(error, ValueError)


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
