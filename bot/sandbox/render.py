"""Telegram message text + entities → the HTML a chat shows, safe to put into a page."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import urlparse

_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
}


def _utf16_units(text: str) -> list[str]:
    """One entry per UTF-16 code unit (a non-BMP character, then an empty filler)."""
    units: list[str] = []
    for char in text:
        units.append(char)
        if ord(char) > 0xFFFF:
            units.append("")
    return units


def _open_tag(entity: dict[str, Any]) -> tuple[str, str] | None:
    kind = entity.get("type")
    if kind == "text_link":
        url = str(entity.get("url", ""))
        # Only ordinary links: a "javascript:" URL must not become clickable in the page.
        if urlparse(url).scheme not in ("http", "https", "tg", "mailto"):
            return None
        return f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener">', "</a>"
    return _TAGS.get(str(kind))


def render_html(text: str, entities: Sequence[dict[str, Any]]) -> str:
    units = _utf16_units(text)
    opens: dict[int, list[tuple[int, str]]] = {}
    closes: dict[int, list[tuple[int, str]]] = {}
    for index, entity in enumerate(entities):
        tags = _open_tag(entity)
        if tags is None:
            continue
        start, end = int(entity["offset"]), int(entity["offset"]) + int(entity["length"])
        # Outer entities (longer, earlier) open first and close last, so tags nest.
        opens.setdefault(start, []).append((-(end - start) * 10_000 + index, tags[0]))
        closes.setdefault(end, []).append(((end - start) * 10_000 - index, tags[1]))
    out: list[str] = []
    for position in range(len(units) + 1):
        out.extend(tag for _, tag in sorted(closes.get(position, [])))
        out.extend(tag for _, tag in sorted(opens.get(position, [])))
        if position < len(units):
            out.append(escape(units[position], quote=False))
    return "".join(out)
