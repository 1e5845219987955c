"""The Bot API methods the stand-in implements, each a function of the backend and the
request's parameters, in one table by name."""

from __future__ import annotations

from collections.abc import Mapping

from . import bot, callbacks, edits, files, messages, polling
from .backend import ApiMethod, Backend

__all__ = ["METHODS", "ApiMethod", "Backend"]

_BY_NAME: dict[str, ApiMethod] = {
    "getMe": bot.get_me,
    "getUpdates": polling.get_updates,
    "setWebhook": polling.set_webhook,
    "deleteWebhook": polling.delete_webhook,
    "getWebhookInfo": polling.get_webhook_info,
    "setMyCommands": bot.set_my_commands,
    "getMyCommands": bot.get_my_commands,
    "deleteMyCommands": bot.delete_my_commands,
    "setMyDescription": bot.set_my_description,
    "setMyShortDescription": bot.set_my_short_description,
    "sendMessage": messages.send_message,
    "editMessageText": edits.edit_message_text,
    "editMessageReplyMarkup": edits.edit_message_reply_markup,
    "editMessageCaption": edits.edit_message_caption,
    "deleteMessage": messages.delete_message,
    "deleteMessages": messages.delete_messages,
    "answerCallbackQuery": callbacks.answer_callback_query,
    "sendDocument": files.send_document,
    "getFile": files.get_file,
    "sendChatAction": messages.send_chat_action,
    "close": bot.accept,
    "logOut": bot.accept,
}

# Keyed by the lower-cased name: Telegram's method names are case-insensitive.
METHODS: Mapping[str, ApiMethod] = {name.lower(): method for name, method in _BY_NAME.items()}
