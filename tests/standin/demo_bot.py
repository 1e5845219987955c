"""The stand-in's test bot: users, a demo router and a fast-closing aiogram session."""

from aiogram import Bot, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.text_decorations import html_decoration

from bot.standin import StandInServer, TgUser

TOKEN = "123456:TEST-stand-in_token"
ALICE = TgUser(1001, "Alice", "Smith", username="alice")
BOB = TgUser(1002, "Bob")


class LoopbackSession(AiohttpSession):
    """aiogram's aiohttp session without the 250 ms pause in close().

    The pause lets TLS connections shut down; the stand-in speaks plain HTTP on 127.0.0.1, and
    the pause would dominate the run time of these tests. Requests go the unchanged way.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: StandInServer) -> Bot:
    session = LoopbackSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


def demo_router() -> Router:
    """A tiny bot: greets with a keyboard, edits the message on a click, echoes text."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        name = html_decoration.quote(message.from_user.first_name if message.from_user else "")
        await message.answer(
            f"Здравствуйте, <b>{name}</b>!",
            reply_markup=keyboard([("Записаться", "book")], [("Мои талоны", "tickets")]),
        )

    @router.callback_query(F.data == "book")
    async def book(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            "Выберите <i>специальность</i>", reply_markup=keyboard([("Терапевт", "doc:1")])
        )
        await query.answer("Загружаю врачей")

    @router.callback_query(F.data.startswith("doc:"))
    async def doctor(query: CallbackQuery) -> None:
        await query.answer("Врач выбран", show_alert=True)

    @router.message(Command("broken"))
    async def broken_html(message: Message) -> None:
        await message.answer("a < b")

    @router.message(Command("crash"))
    async def crash(message: Message) -> None:
        raise RuntimeError("handler exploded")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.reply(html_decoration.quote(message.text or ""))

    return router
