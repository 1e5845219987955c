"""The language each account reads: Telegram's at first contact, then the account's choice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import DEFAULT_LOCALE, LOCALES
from db.models import TelegramChat


async def language_of(session: AsyncSession, *, chat_id: int) -> str:
    """The chat's language for a message the bot sends on its own (default if unknown)."""
    stored = await session.scalar(
        select(TelegramChat.language).where(TelegramChat.chat_id == chat_id)
    )
    return stored if stored in LOCALES else DEFAULT_LOCALE


async def choose_language(session: AsyncSession, *, telegram_user_id: int, language: str) -> None:
    """/language: remembered for the account (its private chat); flushed."""
    if language not in LOCALES:
        raise ValueError(f"unknown language {language!r}")
    chat = await session.get(TelegramChat, telegram_user_id)
    if chat is None:
        session.add(TelegramChat(chat_id=telegram_user_id, language=language))
    else:
        chat.language = language
    await session.flush()
