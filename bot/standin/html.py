"""Telegram's HTML parse_mode, as the Bot API server applies it to text and captions.

The tag grammar and the error wording follow TDLib's ``parse_html`` (the code behind the Bot API),
so a bot that passes here formats the same way on Telegram. One deliberate difference: Telegram
keeps a stray ``&`` or an unknown entity such as ``&nbsp;`` verbatim, while the Bot API docs
require escaping them; this parser rejects both, because in a bot they mean user or database
text was interpolated without ``html.escape`` and the next ``<`` in such text will break a
message in production.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Entity", "HtmlParseError", "parse_html", "utf16_len"]

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\f\v")
_MAX_CODE_POINT = 0x10FFFF


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``description`` is the Bot API error text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.description = f"Bad Request: can't parse entities: {reason}"


@dataclass(frozen=True, slots=True)
class Entity:
    """A MessageEntity; offsets and lengths are in UTF-16 code units, as in the Bot API."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        result: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key in ("url", "language", "custom_emoji_id"):
            value = getattr(self, key)
            if value is not None:
                result[key] = value
        return result


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP take two code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    expandable: bool


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16_offset = 0
        self.open_tags: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def char(self, index: int) -> str:
        return self.src[index] if index < len(self.src) else ""

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16_offset += utf16_len(text)

    def parse(self) -> tuple[str, list[Entity]]:
        while self.pos < len(self.src):
            c = self.src[self.pos]
            if c == "&":
                self.emit(self.text_entity())
            elif c == "<":
                if self.char(self.pos + 1) == "/":
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                self.emit(c)
                self.pos += 1
        if self.open_tags:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.open_tags[-1].name}"'
            )
        # The language of a <code> outside <pre> has nowhere to go in the Bot API.
        entities = [replace(e, language=None) if e.type == "code" else e for e in self.entities]
        entities.sort(key=lambda e: (e.offset, -e.length))
        return "".join(self.out), entities

    def text_entity(self) -> str:
        begin = self.pos
        decoded = self.decode_entity()
        if decoded is not None:
            return decoded
        end = begin + 1
        while self.char(end).isalnum() or self.char(end) == "#":
            end += 1
        if end == begin + 1:
            raise HtmlParseError(
                f'Character "&" must be escaped as "&amp;" at byte offset {self.byte_offset(begin)}'
            )
        if self.char(end) == ";":
            end += 1
        raise HtmlParseError(
            f'Unsupported HTML entity "{self.src[begin:end]}" at byte offset '
            f"{self.byte_offset(begin)}"
        )

    def decode_entity(self) -> str | None:
        """Decode the entity at ``pos`` and move past it, or return None and stay put.

        As in TDLib the closing ``;`` is optional.
        """
        end = self.pos + 1
        if self.char(end) == "#":
            end += 1
            hexadecimal = self.char(end) in ("x", "X")
            if hexadecimal:
                end += 1
            digits_begin = end
            allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            while self.char(end) != "" and self.char(end) in allowed:
                end += 1
            digits = self.src[digits_begin:end]
            if not digits:
                return None
            code = int(digits, 16 if hexadecimal else 10)
            if code == 0 or code > _MAX_CODE_POINT or 0xD800 <= code <= 0xDFFF:
                return None
            decoded = chr(code)
        else:
            while self.char(end).isascii() and self.char(end).isalpha():
                end += 1
            named = _NAMED_ENTITIES.get(self.src[self.pos + 1 : end])
            if named is None:
                return None
            decoded = named
        self.pos = end + 1 if self.char(end) == ";" else end
        return decoded

    def skip_spaces(self) -> None:
        while self.char(self.pos) in _SPACES and self.char(self.pos) != "":
            self.pos += 1

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        while self.char(self.pos) not in _SPACES and self.char(self.pos) not in (">", ""):
            self.pos += 1
        if self.char(self.pos) == "":
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = self.src[begin + 1 : self.pos].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )

        argument = ""
        expandable = False
        while self.char(self.pos) != ">":
            self.skip_spaces()
            if self.char(self.pos) == ">":
                break
            attr_begin = self.pos
            while self.char(self.pos) not in _SPACES and self.char(self.pos) not in ("=", ">", ""):
                self.pos += 1
            attr_name = self.src[attr_begin : self.pos]
            if not attr_name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset '
                    f"{self.byte_offset(begin)}"
                )
            self.skip_spaces()
            if self.char(self.pos) != "=":
                if name == "blockquote" and attr_name == "expandable":
                    expandable = True
                    continue
                if self.char(self.pos) == "":
                    raise HtmlParseError(
                        f'Unclosed start tag "{name}" at byte offset {self.byte_offset(begin)}'
                    )
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {self.byte_offset(begin)}'
                )
            self.pos += 1
            self.skip_spaces()
            if self.char(self.pos) == "":
                raise HtmlParseError(
                    f'Unclosed start tag "{name}" at byte offset {self.byte_offset(begin)}'
                )
            value = self.attribute_value()
            if self.char(self.pos) == "":
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if name == "a" and attr_name == "href":
                argument = value
            elif name == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif name == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif name == "tg-emoji" and attr_name == "emoji-id":
                argument = value
        self.pos += 1

        if name == "span" and argument != "spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        self.open_tags.append(_OpenTag(name, argument, self.utf16_offset, expandable))

    def attribute_value(self) -> str:
        quote = self.char(self.pos)
        if quote not in ("'", '"'):
            # An unquoted value is an SGML name token: letters, digits, '.', '-'.
            token_begin = self.pos
            while self.char(self.pos).isalnum() or self.char(self.pos) in (".", "-"):
                self.pos += 1
            if self.char(self.pos) not in _SPACES and self.char(self.pos) != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}"
                )
            return self.src[token_begin : self.pos].lower()
        self.pos += 1
        parts: list[str] = []
        while self.char(self.pos) not in (quote, ""):
            if self.char(self.pos) == "&":
                decoded = self.decode_entity()
                if decoded is not None:
                    parts.append(decoded)
                    continue
            parts.append(self.src[self.pos])
            self.pos += 1
        if self.char(self.pos) == quote:
            self.pos += 1
        return "".join(parts)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.open_tags:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 2
        while self.char(self.pos) not in _SPACES and self.char(self.pos) not in (">", ""):
            self.pos += 1
        end_name = self.src[begin + 2 : self.pos].lower()
        self.skip_spaces()
        if self.char(self.pos) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        tag = self.open_tags.pop()
        if end_name and end_name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        if self.utf16_offset > tag.utf16_offset:
            self.close_entity(tag, self.utf16_offset - tag.utf16_offset)

    def close_entity(self, tag: _OpenTag, length: int) -> None:
        offset = tag.utf16_offset
        simple = _SIMPLE_ENTITY_TYPES.get(tag.name)
        if simple is not None:
            self.entities.append(Entity(simple, offset, length))
        elif tag.name == "tg-emoji":
            if not tag.argument.isdecimal() or int(tag.argument) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            self.entities.append(
                Entity("custom_emoji", offset, length, custom_emoji_id=tag.argument)
            )
        elif tag.name == "a":
            url = tag.argument or self.text_since(offset)
            self.entities.append(Entity("text_link", offset, length, url=_normalize_url(url)))
        elif tag.name == "code":
            self.entities.append(Entity("code", offset, length, language=tag.argument or None))
        elif tag.name == "pre":
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last.type == "code"
                and (last.offset, last.length) == (offset, length)
            ):
                # <pre><code class="language-x"> is one pre entity carrying the language.
                self.entities[-1] = Entity("pre", offset, length, language=last.language)
            else:
                self.entities.append(Entity("pre", offset, length))
        else:
            kind = "expandable_blockquote" if tag.expandable else "blockquote"
            self.entities.append(Entity(kind, offset, length))

    def text_since(self, utf16_offset: int) -> str:
        text = "".join(self.out)
        encoded = text.encode("utf-16-le")
        return encoded[utf16_offset * 2 :].decode("utf-16-le")


def _normalize_url(url: str) -> str:
    if "://" in url or url.startswith(("mailto:", "tg:")):
        return url
    return f"http://{url}"


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse HTML-formatted text into the plain text and its entities.

    Raises HtmlParseError with Telegram's wording when Telegram would reject the text.
    """
    return _Parser(source).parse()
