"""One-off notices to a patient's chat (a booking changed by someone else)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.limiter import RateLimiter
from bot.services.clock import Clock
from bot.services.reminders import mark_unreachable
from db.models import TelegramChat

logger = logging.getLogger(__name__)
# Flood control rarely answers 429 more than once in a row for one message.
ATTEMPTS = 3


async def notify_chat(
    bot: Bot,
    session: AsyncSession,
    *,
    chat_id: int,
    text: str,
    clock: Clock,
    markup: InlineKeyboardMarkup | None = None,
    limiter: RateLimiter | None = None,
) -> bool:
    """Send `text` to the chat unless it is known unreachable; True if Telegram took it."""
    return await send_paced(
        session,
        chat_id=chat_id,
        send=lambda: bot.send_message(chat_id, text, reply_markup=markup),
        now=clock.now(),
        limiter=limiter,
    )


async def send_paced(
    session: AsyncSession,
    *,
    chat_id: int,
    send: Callable[[], Awaitable[object]],
    now: datetime,
    limiter: RateLimiter | None,
) -> bool:
    """One message the bot sends on its own to a chat that did not just write to it: paced
    by the shared limiter, 429 waited out, 403 marking the chat unreachable. True if sent."""
    chat = await session.get(TelegramChat, chat_id)
    if chat is not None and chat.unreachable_at is not None:
        return False
    for _ in range(ATTEMPTS):
        if limiter is not None:
            await limiter.acquire(chat_id)
        try:
            await send()
            return True
        except TelegramRetryAfter as error:
            # Flood control: everyone sending through the limiter waits, then this retries.
            if limiter is not None:
                limiter.back_off(error.retry_after)
            else:
                await asyncio.sleep(error.retry_after)
        except TelegramForbiddenError:
            await mark_unreachable(session, chat_id=chat_id, now=now)
            return False
        except TelegramAPIError as error:
            logger.warning("notice to chat %s not sent: %s", chat_id, error.message)
            return False
    logger.warning("notice to chat %s not sent: flood control persisted", chat_id)
    return False
