"""What a message carries, parsed and checked as Telegram does: the text or caption with its
entities (from HTML or given explicitly), and the inline keyboard."""

from __future__ import annotations

from ..errors import ApiError, bad_request
from ..html import HtmlParseError, parse_html, utf16_len
from ..limits import (
    MAX_BUTTONS,
    MAX_BUTTONS_PER_ROW,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION,
    MAX_TEXT,
)
from ..store import JsonDict

__all__ = ["caption", "check_inline_keyboard", "markup", "text"]

# Fields of InlineKeyboardButton that are not its action.
_BUTTON_DECORATIONS = frozenset({"text", "icon_custom_emoji_id", "style"})


def text(params: JsonDict) -> tuple[str, list[JsonDict]]:
    """The plain text and entities of ``text``; it must not be blank."""
    plain, entities = _formatted(params, "text", "entities", limit=MAX_TEXT)
    if not plain.strip():
        raise bad_request("message text is empty")
    return plain, entities


def caption(params: JsonDict) -> tuple[str | None, list[JsonDict]]:
    """The plain caption and entities; None when absent or empty."""
    if "caption" not in params:
        return None, []
    plain, entities = _formatted(params, "caption", "caption_entities", limit=MAX_CAPTION)
    return (plain or None), entities


def markup(params: JsonDict) -> JsonDict | None:
    """The reply_markup to store, with an inline keyboard checked."""
    given: JsonDict | None = params.get("reply_markup")
    if given is None or "inline_keyboard" not in given:
        return given
    check_inline_keyboard(given)
    # Telegram drops an empty inline keyboard instead of storing it.
    return given if any(given["inline_keyboard"]) else None


def _formatted(
    params: JsonDict, text_key: str, entities_key: str, *, limit: int
) -> tuple[str, list[JsonDict]]:
    source: str = params[text_key]
    parse_mode: str | None = params.get("parse_mode")
    explicit: list[JsonDict] | None = params.get(entities_key)
    mode = (parse_mode or "").lower()
    if mode and mode != "none":
        plain, entities = _parsed(source, parse_mode or "", explicit, entities_key)
    else:
        plain, entities = source, list(explicit or [])
        _check_entities(plain, entities)
    if utf16_len(plain) > limit:
        raise bad_request(
            "message is too long" if text_key == "text" else "message caption is too long"
        )
    return plain, entities


def _parsed(
    source: str, parse_mode: str, explicit: list[JsonDict] | None, entities_key: str
) -> tuple[str, list[JsonDict]]:
    """Text and entities from ``source`` in ``parse_mode``; only HTML is supported."""
    mode = parse_mode.lower()
    if explicit is not None:
        raise bad_request(
            f"both parse_mode and {entities_key} are specified; Telegram ignores "
            f"{entities_key} when parse_mode is set"
        )
    if mode in ("markdown", "markdownv2"):
        raise bad_request(
            f'parse_mode "{parse_mode}" is not supported by the stand-in: the bot only uses HTML'
        )
    if mode != "html":
        raise bad_request("unsupported parse_mode")
    try:
        plain, parsed = parse_html(source)
    except HtmlParseError as exc:
        raise ApiError(400, exc.description) from None
    return plain, [entity.to_api() for entity in parsed]


def _check_entities(plain: str, entities: list[JsonDict]) -> None:
    length = utf16_len(plain)
    for entity in entities:
        if entity["offset"] < 0 or entity["length"] <= 0:
            raise bad_request("can't parse entities: entity has a negative offset or length")
        if entity["offset"] + entity["length"] > length:
            raise bad_request("can't parse entities: entity ends beyond the text")


def check_inline_keyboard(reply_markup: JsonDict) -> None:
    rows: list[list[JsonDict]] = reply_markup["inline_keyboard"]
    if sum(len(row) for row in rows) > MAX_BUTTONS or any(
        len(row) > MAX_BUTTONS_PER_ROW for row in rows
    ):
        raise bad_request("BUTTONS_TOO_MUCH")
    for button in (button for row in rows for button in row):
        _check_button(button)


def _check_button(button: JsonDict) -> None:
    if not button["text"].strip():
        raise bad_request("can't parse inline keyboard button: text must be non-empty")
    actions = sorted(button.keys() - _BUTTON_DECORATIONS)
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be "
            f"used, got {', '.join(actions)}"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not url.startswith(("http://", "https://", "tg://")):
        raise bad_request("BUTTON_URL_INVALID")
