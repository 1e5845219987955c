from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.handlers import screens
from bot.keyboards.callbacks import ToStart
from bot.states import BookingFlow

router = Router(name=__name__)


async def begin(
    target: Message | CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    notice: str | None = None,
) -> None:
    """A fresh dialogue: whatever was typed or chosen before is dropped."""
    sid = screens.new_session_id()
    await state.set_state(BookingFlow.browsing)
    await state.set_data({"sid": sid})
    screen = await screens.organizations(session, sid=sid)
    if notice:
        screen = screens.Screen(f"{notice}\n\n{screen.text}", screen.markup)
    await screens.show(target, screen)


@router.message(CommandStart())
async def cmd_start(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await begin(message, state=state, session=session)


@router.message(Command("help"))
async def cmd_help(message: Message) -> None:
    await message.answer(texts.HELP)


@router.callback_query(ToStart.filter(), F.message)
async def to_start(query: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    await begin(query, state=state, session=session)
    await query.answer()
