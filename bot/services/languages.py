"""The language each account reads: Telegram's at first contact, then the account's choice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import DEFAULT_LOCALE, LOCALES, locale_for
from db.models import TelegramChat


async def language_of(session: AsyncSession, *, chat_id: int) -> str:
    """The chat's language for a message the bot sends on its own (default if unknown)."""
    stored = await session.scalar(
        select(TelegramChat.language).where(TelegramChat.chat_id == chat_id)
    )
    return stored if stored in LOCALES else DEFAULT_LOCALE


async def settle_language(
    session: AsyncSession, *, telegram_user_id: int, language_code: str | None
) -> str:
    """The account's language; at first contact, taken from Telegram and remembered.

    Commits its own small write (first contact only), before the update's use case runs.
    """
    chat = await session.get(TelegramChat, telegram_user_id)
    if chat is not None and chat.language in LOCALES:
        return chat.language
    language = locale_for(language_code)
    await choose_language(session, telegram_user_id=telegram_user_id, language=language)
    return language


async def choose_language(session: AsyncSession, *, telegram_user_id: int, language: str) -> None:
    """/language: remembered for the account (its private chat); commits."""
    if language not in LOCALES:
        raise ValueError(f"unknown language {language!r}")
    chat = await session.get(TelegramChat, telegram_user_id)
    if chat is None:
        session.add(TelegramChat(chat_id=telegram_user_id, language=language))
    else:
        chat.language = language
    await session.commit()
