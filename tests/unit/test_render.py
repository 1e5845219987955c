from __future__ import annotations

import pytest

from bot.sandbox.render import render_html
from bot.standin.html import parse_html


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<b>Запись</b> на приём", "<b>Запись</b> на приём"),
        ("a <b>b <i>c</i></b> d", "a <b>b <i>c</i></b> d"),
        ("x &lt;script&gt; y", "x &lt;script&gt; y"),
        ("😀 <b>жирный</b>", "😀 <b>жирный</b>"),
        ('<a href="https://example.org/?a=1&amp;b=2">ссылка</a>', None),
        ("line\nbreak", "line\nbreak"),
    ],
)
def test_round_trip_of_the_bots_html(source: str, expected: str | None) -> None:
    text, entities = parse_html(source)
    rendered = render_html(text, [e.to_api() for e in entities])
    if expected is not None:
        assert rendered == expected
    else:
        assert 'href="https://example.org/?a=1&amp;b=2"' in rendered
        assert ">ссылка</a>" in rendered


def test_unsafe_links_are_not_clickable() -> None:
    html = render_html(
        "click", [{"type": "text_link", "offset": 0, "length": 5, "url": "javascript:alert(1)"}]
    )
    assert html == "click"
