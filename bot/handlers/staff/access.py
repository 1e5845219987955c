"""Who may use the staff commands."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.staff.access import access_of


class IsStaff(Filter):
    """Passes staff and hands their access to the handler."""

    async def __call__(
        self, event: TelegramObject, session: AsyncSession, settings: Settings
    ) -> bool | dict[str, Any]:
        user = getattr(event, "from_user", None)
        if user is None:
            return False
        access = await access_of(session, telegram_user_id=user.id, admins=settings.staff.admins)
        return {"access": access} if access is not None else False
