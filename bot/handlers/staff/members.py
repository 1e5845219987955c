"""/staff: the admins' list of registrars, and adding or removing one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.handlers.staff import render
from bot.i18n import t
from bot.services.clock import Clock
from bot.services.staff.access import (
    MAX_ORGANIZATION_CODES,
    StaffAccess,
    StaffError,
    StaffErrorValue,
    members,
)
from bot.services.staff.args import USER_ID_LIMIT, parse_user_id
from bot.texts import esc
from bot.usecases.accounts import add_member, remove_member


async def cmd_staff(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    access: StaffAccess,
    settings: Settings,
    clock: Clock,
) -> None:
    if not access.is_admin:
        await message.answer(t("staff-help", admin=""))
        return
    words = (command.args or "").split()
    if not words:
        listed = await members(session)
        await message.answer(render.members(listed, settings.staff.admins))
        return
    if words[0] not in ("add", "remove") or len(words) < 2:
        await message.answer(t("staff-usage-staff"))
        return
    member_id = parse_user_id(words[1])
    if member_id is None:
        await message.answer(t("staff-bad-user-id", limit=USER_ID_LIMIT - 1))
        return
    if words[0] == "remove":
        removed = await remove_member(session, user_id=member_id)
        await message.answer(t("staff-removed" if removed else "staff-not-member", id=member_id))
        return
    answer = await _add(
        session, member_id, typed_codes=words[2:], added_by=access.telegram_user_id, now=clock.now()
    )
    await message.answer(answer)


async def _add(
    session: AsyncSession,
    member_id: int,
    *,
    typed_codes: Sequence[str],
    added_by: int,
    now: datetime,
) -> str:
    """Add a registrar, or change the organizations of one; the answer for the admin."""
    codes = list(dict.fromkeys(typed_codes))  # a code typed twice counts once
    if len(codes) > MAX_ORGANIZATION_CODES:
        return t("staff-too-many-codes", limit=MAX_ORGANIZATION_CODES)
    try:
        await add_member(
            session,
            user_id=member_id,
            organization_codes=codes,
            added_by=added_by,
            now=now,
        )
    except StaffError as error:
        return _error_text(error)
    return render.member_added(member_id, codes)


def _error_value(value: StaffErrorValue) -> str:
    # A list of what was typed reads «a, b, c»; a yes/no picks a variant of the text.
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(esc(item) for item in value)
    return esc(str(value))


def _error_text(error: StaffError) -> str:
    """Why the command failed, in the staff member's language (staff_errors.ftl)."""
    values = {name: _error_value(value) for name, value in error.params.items()}
    return t(f"staff-error-{error.code}", **values)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_staff, Command("staff"))
    return router
