"""/language: the account chooses the language it reads, at any moment of a dialogue."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LOCALES, set_locale, t
from bot.usecases.accounts import choose_language


class LanguagePick(CallbackData, prefix="lg"):
    code: str


def _choices() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t(f"btn-language-{code}"), callback_data=LanguagePick(code=code).pack()
                )
                for code in LOCALES
            ]
        ]
    )


async def cmd_language(message: Message) -> None:
    # The dialogue's state is left as it is: its next screen comes in the new language.
    await message.answer(t("language-ask"), reply_markup=_choices())


async def pick_language(
    query: CallbackQuery, callback_data: LanguagePick, session: AsyncSession
) -> None:
    if callback_data.code not in LOCALES:
        await query.answer()
        return
    await choose_language(session, user_id=query.from_user.id, language=callback_data.code)
    set_locale(callback_data.code)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("language-chosen"), reply_markup=None)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(pick_language, LanguagePick.filter(), F.message)
    return router
