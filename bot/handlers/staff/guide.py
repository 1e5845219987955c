"""/help for staff: their commands, and the admin's too for an admin."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.i18n import t
from bot.services.staff.access import StaffAccess


async def cmd_help(message: Message, access: StaffAccess) -> None:
    admin = f"\n{t('staff-admin-help')}" if access.is_admin else ""
    await message.answer(t("staff-help", admin=admin))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_help, Command("help"))
    return router
