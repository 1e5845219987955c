from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialogue import Dialogue, write_dialogue
from bot.handlers import screens
from bot.i18n import t
from bot.keyboards.callbacks import ToStart
from bot.states import BookingFlow


async def begin(
    target: Message | CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    notice: str | None = None,
) -> None:
    """A fresh dialogue: whatever was typed or chosen before is dropped."""
    current = Dialogue.start()
    await state.set_state(BookingFlow.browsing)
    await write_dialogue(state, current)
    screen = await screens.organizations(session, sid=current.sid)
    if notice:
        screen = screens.Screen(f"{notice}\n\n{screen.text}", screen.markup)
    await screens.show(target, screen)


async def cmd_start(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await begin(message, state=state, session=session)


async def cmd_help(message: Message) -> None:
    await message.answer(t("help"))


async def to_start(query: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    await begin(query, state=state, session=session)
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.callback_query.register(to_start, ToStart.filter(), F.message)
    return router
