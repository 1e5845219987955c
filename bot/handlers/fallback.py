"""Whatever no other handler took: stale or forged buttons, text where a button is expected."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.handlers import screens
from bot.i18n import t
from bot.keyboards import booking as kb


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(t("session-ended-alert"))
    # Replace the dead keyboard so it cannot be pressed again.
    await screens.show(query, screens.Screen(t("session-ended"), kb.start_only()))


async def unexpected_message(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(t("idle-hint"), reply_markup=kb.book_button())
    else:
        await message.answer(t("use-buttons"), reply_markup=kb.start_only())


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(stale_button)
    router.message.register(unexpected_message)
    return router
