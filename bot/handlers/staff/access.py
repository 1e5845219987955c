"""Who may use the staff commands."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.config import Settings
from bot.services.account_facts import AccountFacts
from bot.services.staff.access import access_from


class IsStaff(Filter):
    """Passes staff and hands their access to the handler."""

    async def __call__(
        self, event: TelegramObject, facts: AccountFacts, settings: Settings
    ) -> bool | dict[str, Any]:
        user = getattr(event, "from_user", None)
        if user is None:
            return False
        # Read with the update's other facts (bot/services/account_facts.py): no query here.
        access = access_from(
            telegram_user_id=user.id,
            admins=settings.staff.admins,
            role=facts.staff_role,
            organization_codes=facts.staff_codes,
        )
        return {"access": access} if access is not None else False
