import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
)

from bot.standin import EventKind, SimUser, StandInServer

from .demo_bot import ALICE, BOB, TOKEN, keyboard, make_bot

PDF = b"%PDF-1.4 ticket\x00\xff binary tail"


class SendMessageWithTypo(TelegramMethod[Message]):
    """A request with a parameter Telegram does not know, sent through aiogram itself."""

    __returning__: ClassVar[type] = Message
    __api_method__: ClassVar[str] = "sendMessage"

    chat_id: int
    text: str
    colour: str


def buttons(*row: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(row)])


# ---- the full loop: real Dispatcher, long polling, simulated user ----------------------------


async def test_start_click_edit_and_answer(server: StandInServer, alice: SimUser) -> None:
    await alice.send("/start")

    greeting = alice.last_bot_message
    assert greeting.text == "Здравствуйте, Alice!"
    assert greeting.html == "Здравствуйте, <b>Alice</b>!"
    assert greeting.entities == [{"type": "bold", "offset": 14, "length": 5}]
    assert alice.buttons() == [["Записаться"], ["Мои талоны"]]
    command = alice.messages[0]
    assert not command.from_bot
    assert command.entities == [{"type": "bot_command", "offset": 0, "length": 6}]

    answer = await alice.click("Записаться")

    assert answer is not None
    assert (answer.text, answer.show_alert) == ("Загружаю врачей", False)
    edited = alice.last_bot_message
    assert edited.message_id == greeting.message_id
    assert edited.text == "Выберите специальность"
    assert edited.edit_count == 1
    assert alice.buttons() == [["Терапевт"]]
    assert len(alice.bot_messages) == 1

    answer = await alice.click("Терапевт")
    assert answer is not None
    assert answer.show_alert
    assert server.violations == []
    assert server.handler_errors == []


async def test_echo_replies_with_user_text_escaped(alice: SimUser) -> None:
    await alice.send("a < b & <i>c</i>")
    reply = alice.last_bot_message
    assert reply.text == "a < b & <i>c</i>"
    assert reply.reply_to_message_id == alice.messages[0].message_id


async def test_click_on_missing_button_lists_visible_buttons(alice: SimUser) -> None:
    await alice.send("/start")
    with pytest.raises(AssertionError) as caught:
        await alice.click("Отмена")
    assert str(caught.value) == (
        "no button 'Отмена' in any visible bot message; visible buttons:\n"
        "  message 2: Записаться / Мои талоны"
    )


async def test_stale_callback_is_delivered_as_is(server: StandInServer, alice: SimUser) -> None:
    await alice.send("/start")
    answer = await alice.click_data("doc:42", alice.last_bot_message.message_id)
    assert answer is not None
    assert answer.text == "Врач выбран"


async def test_bad_request_in_handler_fails_the_action(
    server: StandInServer, alice: SimUser
) -> None:
    with pytest.raises(AssertionError) as caught:
        await alice.send("/broken")
    report = str(caught.value)
    assert "sendMessage rejected: Bad Request: can't parse entities" in report
    assert "TelegramBadRequest" in report
    assert len(server.violations) == 1


async def test_handler_exception_fails_the_action(server: StandInServer, alice: SimUser) -> None:
    with pytest.raises(AssertionError, match="handler exploded") as caught:
        await alice.send("/crash")
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert [e.update_id for e in server.handler_errors] == [1]


async def test_wait_handled_names_an_update_nobody_fetched(server: StandInServer) -> None:
    update_id = server.push_message(ALICE, "hello?")
    with pytest.raises(TimeoutError, match=r"update 1 \(message 'hello\?' from 1001\).*polling"):
        await server.wait_handled(update_id, timeout=0.05)


async def test_events_follow_the_conversation(server: StandInServer, alice: SimUser) -> None:
    events = server.subscribe()
    await alice.send("/start")
    await alice.click("Записаться")

    kinds = []
    while not events.empty():
        kinds.append(events.get_nowait().kind)
    assert kinds == [
        EventKind.UPDATE_PUSHED,
        EventKind.MESSAGE_SENT,
        EventKind.UPDATE_HANDLED,
        EventKind.UPDATE_PUSHED,
        EventKind.MESSAGE_EDITED,
        EventKind.CALLBACK_ANSWERED,
        EventKind.UPDATE_HANDLED,
    ]


async def test_wait_for_returns_the_awaited_state(
    server: StandInServer, polling: Dispatcher
) -> None:
    server.push_message(ALICE, "ping")
    reply = await server.wait_for(
        lambda: next((m for m in server.messages(ALICE.id) if m.from_bot), None), timeout=5
    )
    assert reply.text == "ping"


# ---- getUpdates ------------------------------------------------------------------------------


async def test_long_polling_returns_as_soon_as_an_update_arrives(
    server: StandInServer, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for(lambda: server.long_polling, timeout=5)
    update_id = server.push_message(ALICE, "/start")

    async with asyncio.timeout(2):
        updates = await poll

    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"
    assert await bot.get_updates(timeout=0) != [], "not confirmed without an offset"
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == []


async def test_get_updates_honours_limit_and_negative_offset(
    server: StandInServer, bot: Bot
) -> None:
    ids = [server.push_message(ALICE, str(n)) for n in range(5)]
    assert [u.update_id for u in await bot.get_updates(limit=2, timeout=0)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1, timeout=0)] == ids[-1:]
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []


async def test_allowed_updates_are_honoured(server: StandInServer, bot: Bot) -> None:
    await bot.get_updates(timeout=0, allowed_updates=["message"])
    server.push_message(ALICE, "hi")
    message_id = server.messages(ALICE.id)[-1].message_id
    update_id, _ = server.push_callback(ALICE, message_id, "data")

    updates = await bot.get_updates(timeout=0)

    assert [u.message is not None for u in updates] == [True]
    with pytest.raises(AssertionError, match="allowed_updates"):
        await server.wait_handled(update_id)


async def test_second_poller_terminates_the_first(server: StandInServer, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for(lambda: server.long_polling, timeout=5)
    second = asyncio.create_task(bot.get_updates(timeout=30))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    server.push_message(ALICE, "hi")
    assert len(await second) == 1
    assert server.violations == []


# ---- strict checks through aiogram ----------------------------------------------------------

Call = Callable[[Bot], Awaitable[Any]]

STRICT_CASES: list[tuple[str, Call, str]] = [
    ("unknown chat", lambda bot: bot.send_message(999, "hi"), "Bad Request: chat not found"),
    (
        "text empty after parsing",
        lambda bot: bot.send_message(ALICE.id, "<b> </b>"),
        "Bad Request: message text is empty",
    ),
    (
        "text too long",
        lambda bot: bot.send_message(ALICE.id, "я" * 4097),
        "Bad Request: message is too long",
    ),
    (
        "text too long in UTF-16 code units",
        lambda bot: bot.send_message(ALICE.id, "😀" * 2049),
        "Bad Request: message is too long",
    ),
    (
        "broken HTML",
        lambda bot: bot.send_message(ALICE.id, "a < b"),
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
    ),
    (
        "MarkdownV2",
        lambda bot: bot.send_message(ALICE.id, "*hi*", parse_mode="MarkdownV2"),
        'Bad Request: parse_mode "MarkdownV2" is not supported by the stand-in: '
        "the bot only uses HTML",
    ),
    (
        "entities ignored because of parse_mode",
        lambda bot: bot.send_message(
            ALICE.id, "hi", entities=[MessageEntity(type="bold", offset=0, length=2)]
        ),
        "Bad Request: both parse_mode and entities are specified; Telegram ignores entities "
        "when parse_mode is set",
    ),
    (
        "callback_data over 64 bytes",
        lambda bot: bot.send_message(ALICE.id, "x", reply_markup=keyboard([("b", "ж" * 33)])),
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "empty callback_data",
        lambda bot: bot.send_message(ALICE.id, "x", reply_markup=keyboard([("b", "")])),
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "button without action",
        lambda bot: bot.send_message(
            ALICE.id, "x", reply_markup=buttons(InlineKeyboardButton(text="b"))
        ),
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
        "inline keyboard",
    ),
    (
        "button with two actions",
        lambda bot: bot.send_message(
            ALICE.id,
            "x",
            reply_markup=buttons(
                InlineKeyboardButton(text="b", url="https://example.com", callback_data="d")
            ),
        ),
        "Bad Request: can't parse inline keyboard button: exactly one of the optional fields "
        "must be used, got callback_data, url",
    ),
    (
        "empty button text",
        lambda bot: bot.send_message(ALICE.id, "x", reply_markup=keyboard([("", "d")])),
        "Bad Request: can't parse inline keyboard button: text must be non-empty",
    ),
    (
        "nine buttons in a row",
        lambda bot: bot.send_message(
            ALICE.id, "x", reply_markup=keyboard([(str(n), str(n)) for n in range(9)])
        ),
        "Bad Request: BUTTONS_TOO_MUCH",
    ),
    (
        "over a hundred buttons",
        lambda bot: bot.send_message(
            ALICE.id,
            "x",
            reply_markup=keyboard(
                *[[(f"{r}.{c}", f"{r}.{c}") for c in range(8)] for r in range(13)]
            ),
        ),
        "Bad Request: BUTTONS_TOO_MUCH",
    ),
    (
        "caption too long",
        lambda bot: bot.send_document(
            ALICE.id, BufferedInputFile(PDF, "t.pdf"), caption="x" * 1025
        ),
        "Bad Request: message caption is too long",
    ),
    (
        "unknown parameter",
        lambda bot: bot(SendMessageWithTypo(chat_id=ALICE.id, text="x", colour="red")),
        'Bad Request: unknown parameter "colour" for method sendMessage',
    ),
    (
        "edit of a missing message",
        lambda bot: bot.edit_message_text("x", chat_id=ALICE.id, message_id=77),
        "Bad Request: message to edit not found",
    ),
    (
        "delete of a missing message",
        lambda bot: bot.delete_message(ALICE.id, 77),
        "Bad Request: message to delete not found",
    ),
    (
        "unknown callback query",
        lambda bot: bot.answer_callback_query("404"),
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    ),
    (
        "reply to a missing message",
        lambda bot: bot.send_message(ALICE.id, "x", reply_to_message_id=77),
        "Bad Request: message to be replied not found",
    ),
    ("unknown file", lambda bot: bot.get_file("nope"), "Bad Request: invalid file_id"),
    (
        "unknown chat action",
        lambda bot: bot.send_chat_action(ALICE.id, "dancing"),
        "Bad Request: wrong parameter action in request",
    ),
    (
        "method the stand-in does not implement",
        lambda bot: bot.send_photo(ALICE.id, "photo-id"),
        "Bad Request: method sendPhoto is not supported by the stand-in server",
    ),
]


@pytest.mark.parametrize(
    ("call", "description"), [c[1:] for c in STRICT_CASES], ids=[c[0] for c in STRICT_CASES]
)
async def test_strict_check(server: StandInServer, bot: Bot, call: Call, description: str) -> None:
    server.add_user(ALICE)
    with pytest.raises(TelegramBadRequest) as caught:
        await call(bot)
    assert caught.value.message == description
    assert [(v.description, v.error_code) for v in server.violations] == [(description, 400)]
    assert server.messages(ALICE.id) == []


async def test_limits_are_counted_on_parsed_text(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    await bot.send_message(ALICE.id, "<b>" + "я" * 4096 + "</b>")
    await bot.send_message(ALICE.id, "x", reply_markup=keyboard([("b", "ж" * 32)]))
    await bot.send_message(ALICE.id, "&lt;" * 4096)
    assert server.violations == []


async def test_not_modified_and_keyboard_removal(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    markup = keyboard([("a", "a")])
    sent = await bot.send_message(ALICE.id, "<b>text</b>", reply_markup=markup)

    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_text(
            "<strong>text</strong>",
            chat_id=ALICE.id,
            message_id=sent.message_id,
            reply_markup=markup,
        )
    # Telegram removes the inline keyboard when an edit does not repeat it.
    edited = await bot.edit_message_text(
        "<b>text</b>", chat_id=ALICE.id, message_id=sent.message_id
    )
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=ALICE.id, message_id=sent.message_id)

    assert len(server.violations) == 2
    stored = server.message(ALICE.id, sent.message_id)
    assert stored is not None
    assert stored.edit_count == 1


async def test_only_the_bots_own_messages_can_be_edited(server: StandInServer, bot: Bot) -> None:
    server.push_message(ALICE, "mine")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=ALICE.id, message_id=1)
    # Bots may delete incoming messages in private chats.
    assert await bot.delete_message(ALICE.id, 1)
    assert server.messages(ALICE.id) == []
    assert len(server.messages(ALICE.id, include_deleted=True)) == 1


async def test_callback_can_be_answered_once(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    sent = await bot.send_message(ALICE.id, "x", reply_markup=keyboard([("a", "a")]))
    _, query_id = server.push_callback(ALICE, sent.message_id, "a")

    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    _, other = server.push_callback(ALICE, sent.message_id, "a")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(other, text="x" * 201)
    assert server.callback_answers[query_id].text == "ok"


async def test_delete_messages_skips_missing(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    first = await bot.send_message(ALICE.id, "1")
    second = await bot.send_message(ALICE.id, "2")
    assert await bot.delete_messages(ALICE.id, [first.message_id, second.message_id, 99])
    assert server.messages(ALICE.id) == []
    assert server.violations == []


# ---- documents --------------------------------------------------------------------------------


async def test_document_round_trip(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    sent = await bot.send_document(
        ALICE.id, BufferedInputFile(PDF, "талон.pdf"), caption="<b>Талон</b> №1"
    )

    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("талон.pdf", "application/pdf")
    assert sent.document.file_size == len(PDF)
    assert sent.caption == "Талон №1"
    assert sent.caption_entities is not None
    assert [e.model_dump(exclude_none=True) for e in sent.caption_entities] == [
        {"type": "bold", "offset": 0, "length": 5}
    ]

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None
    assert downloaded.read() == PDF

    again = await bot.send_document(ALICE.id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id

    user = SimUser(server, ALICE)
    assert [user.download(m) for m in user.documents] == [PDF, PDF]
    assert server.violations == []


async def test_unknown_file_id_is_rejected(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(ALICE.id, "no-such-file")


# ---- Telegram behaviour that is not a bug: 403, 429 -----------------------------------------


async def test_injected_flood_error_surfaces_as_retry_after(
    server: StandInServer, bot: Bot
) -> None:
    server.add_user(ALICE)
    server.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 5", retry_after=5
    )
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE.id, "x")
    assert caught.value.retry_after == 5
    await bot.send_message(ALICE.id, "x")
    assert server.violations == []


async def test_blocked_user_gives_forbidden(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    server.block(ALICE.id)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(ALICE.id, "x")
    server.unblock(ALICE.id)
    await bot.send_message(ALICE.id, "x")
    assert server.violations == []


async def test_flood_control_per_chat() -> None:
    async with StandInServer(token=TOKEN, per_chat_rate=1) as server, make_bot(server) as bot:
        server.add_user(ALICE)
        server.add_user(BOB)
        await bot.send_message(ALICE.id, "1")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(ALICE.id, "2")
        assert caught.value.retry_after == 1
        await bot.send_message(BOB.id, "other chats are not limited")
        assert server.violations == []


# ---- housekeeping methods ---------------------------------------------------------------------


async def test_bot_settings_methods(server: StandInServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "talon_standin_bot")

    commands = [BotCommand(command="start", description="Начать")]
    scope = BotCommandScopeChat(chat_id=ALICE.id)
    assert await bot.set_my_commands(commands, scope=scope, language_code="ru")
    stored = await bot.get_my_commands(scope=scope, language_code="ru")
    assert [(c.command, c.description) for c in stored] == [("start", "Начать")]
    assert await bot.get_my_commands() == []
    assert await bot.delete_my_commands(scope=scope, language_code="ru")
    assert await bot.get_my_commands(scope=scope, language_code="ru") == []

    assert await bot.set_my_description("Запись к врачу")
    assert await bot.set_my_short_description("Запись")
    assert server.descriptions == {"": "Запись к врачу"}

    server.add_user(ALICE)
    assert await bot.send_chat_action(ALICE.id, "upload_document")
    assert server.chat_actions == [(ALICE.id, "upload_document")]
    assert await bot.close()
    assert await bot.log_out()
    assert server.violations == []


async def test_invalid_command_is_rejected(server: StandInServer, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start-Now", description="x")])


# ---- raw HTTP: encodings, routing, spec validation ---------------------------------------------


async def call_raw(server: StandInServer, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            kwargs.pop("method", "POST"), f"{server.base_url}{path}", **kwargs
        ) as response,
    ):
        return response.status, await response.json()


async def test_wrong_token_is_unauthorized(server: StandInServer) -> None:
    status, body = await call_raw(server, "/bot1:wrong/getMe")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_unknown_method_is_not_found(server: StandInServer) -> None:
    status, body = await call_raw(server, f"/bot{TOKEN}/getMeNow")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_method_names_are_case_insensitive_and_get_works(server: StandInServer) -> None:
    status, body = await call_raw(server, f"/bot{TOKEN}/GETME", method="GET")
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["is_bot"] is True


async def test_json_body_and_query_string(server: StandInServer) -> None:
    server.add_user(ALICE)
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    status, body = await call_raw(
        server,
        f"/bot{TOKEN}/sendMessage?parse_mode=HTML",
        json={"chat_id": ALICE.id, "text": "<i>hi</i>", "reply_markup": markup},
    )
    assert status == 200
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 2}]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "1001"}, "Bad Request: message text is empty"),
        (
            {"chat_id": "1001", "text": "x", "disable_notification": "maybe"},
            'Bad Request: parameter "disable_notification" must be of type Boolean',
        ),
        (
            {"chat_id": "1001", "text": "x", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object: "
            'field "reply_markup" is not valid JSON',
        ),
        (
            {
                "chat_id": "1001",
                "text": "x",
                "reply_markup": json.dumps(
                    {"inline_keyboard": [[{"text": "a", "callback_data": "a", "colour": "red"}]]}
                ),
            },
            "Bad Request: can't parse reply keyboard markup JSON object: field "
            '"reply_markup.inline_keyboard[0][0].colour" is not a field of InlineKeyboardButton',
        ),
        (
            {"chat_id": "1001", "text": "x", "link_preview_options": '{"is_disabled": "yes"}'},
            "Bad Request: can't parse link_preview_options JSON object: field "
            '"link_preview_options.is_disabled" must be of type Boolean',
        ),
    ],
)
async def test_form_parameters_are_checked_against_the_spec(
    server: StandInServer, params: dict[str, str], description: str
) -> None:
    server.add_user(ALICE)
    status, body = await call_raw(server, f"/bot{TOKEN}/sendMessage", data=params)
    assert (status, body["description"]) == (400, description)
    assert [v.description for v in server.violations] == [description]
    assert server.violations[0].params == params


async def test_file_part_under_the_parameter_name(server: StandInServer) -> None:
    server.add_user(ALICE)
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ALICE.id))
    form.add_field("document", PDF, filename="ticket.pdf")
    status, body = await call_raw(server, f"/bot{TOKEN}/sendDocument", data=form)
    assert status == 200
    assert server.file_bytes(body["result"]["document"]["file_id"]) == PDF


async def test_violation_params_leave_file_bytes_out(server: StandInServer) -> None:
    server.add_user(ALICE)
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ALICE.id))
    form.add_field("document", "attach://file")
    form.add_field("file", PDF, filename="ticket.pdf")
    form.add_field("caption", "<b>unclosed")
    form.add_field("parse_mode", "HTML")
    status, _ = await call_raw(server, f"/bot{TOKEN}/sendDocument", data=form)
    assert status == 400
    assert server.violations[0].params["file"] == f"<file 'ticket.pdf', {len(PDF)} bytes>"


async def test_download_route_checks_the_token(server: StandInServer, bot: Bot) -> None:
    server.add_user(ALICE)
    sent = await bot.send_document(ALICE.id, BufferedInputFile(PDF, "t.pdf"))
    assert sent.document is not None
    file = await bot.get_file(sent.document.file_id)
    status, body = await call_raw(server, f"/file/bot1:wrong/{file.file_path}", method="GET")
    assert (status, body["description"]) == (404, "Not Found")
