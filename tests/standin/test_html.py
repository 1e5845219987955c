import pytest

from bot.standin.html import Entity, HtmlParseError, parse_html, utf16_len


def entities(*items: tuple[str, int, int] | Entity) -> list[Entity]:
    return [item if isinstance(item, Entity) else Entity(*item) for item in items]


@pytest.mark.parametrize(
    ("source", "text", "expected"),
    [
        ("plain text", "plain text", []),
        ("", "", []),
        (
            "<b>bold</b> and <strong>strong</strong>",
            "bold and strong",
            [("bold", 0, 4), ("bold", 9, 6)],
        ),
        ("<i>a</i><em>b</em>", "ab", [("italic", 0, 1), ("italic", 1, 1)]),
        ("<u>a</u><ins>b</ins>", "ab", [("underline", 0, 1), ("underline", 1, 1)]),
        (
            "<s>a</s><strike>b</strike><del>c</del>",
            "abc",
            [("strikethrough", i, 1) for i in range(3)],
        ),
        (
            '<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>',
            "xy",
            [("spoiler", 0, 1), ("spoiler", 1, 1)],
        ),
        ("<B>upper case tags</B>", "upper case tags", [("bold", 0, 15)]),
        ("<b>bold <i>both</i></b>", "bold both", [("bold", 0, 9), ("italic", 5, 4)]),
        ("<b></b>empty tags make no entity", "empty tags make no entity", []),
        ("a &lt;b&gt; &amp; &quot;c&quot;", 'a <b> & "c"', []),
        ("&#1046;&#x416;&#128512;", "ЖЖ😀", []),
        ("&amp without semicolon", "& without semicolon", []),
        ("<code>x = 1</code>", "x = 1", [("code", 0, 5)]),
        ('<code class="language-python">x</code>', "x", [("code", 0, 1)]),
        ("<pre>block</pre>", "block", [("pre", 0, 5)]),
        (
            '<pre><code class="language-python">print(1)</code></pre>',
            "print(1)",
            [Entity("pre", 0, 8, language="python")],
        ),
        (
            '<a href="https://example.com/?a=1&b=2">link</a>',
            "link",
            [Entity("text_link", 0, 4, url="https://example.com/?a=1&b=2")],
        ),
        ("<a href='example.com'>x</a>", "x", [Entity("text_link", 0, 1, url="http://example.com")]),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [Entity("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")],
        ),
        ("<blockquote>q</blockquote>", "q", [("blockquote", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("😀<b>ж😀</b>", "😀ж😀", [("bold", 2, 3)]),
        ("<b >spaces in tags</b >", "spaces in tags", [("bold", 0, 14)]),
        ("<b>x</>", "x", [("bold", 0, 1)]),
    ],
)
def test_parses_supported_html(
    source: str, text: str, expected: list[tuple[str, int, int] | Entity]
) -> None:
    assert parse_html(source) == (text, entities(*expected))


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("ж<p>x</p>", 'Unsupported start tag "p" at byte offset 2'),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        (
            "<a href>y</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
        ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
        ("Tom & Jerry", 'Character "&" must be escaped as "&amp;" at byte offset 4'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("&#0;", 'Unsupported HTML entity "&#0;" at byte offset 0'),
        ("&#xD800;", 'Unsupported HTML entity "&#xD800;" at byte offset 0'),
    ],
)
def test_rejects_broken_html_with_telegram_wording(source: str, reason: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(source)
    assert caught.value.reason == reason
    assert caught.value.description == f"Bad Request: can't parse entities: {reason}"


@pytest.mark.parametrize(
    ("text", "length"),
    [("", 0), ("abc", 3), ("жук", 3), ("😀", 2), ("👨‍💻", 5)],
)
def test_utf16_length_counts_code_units(text: str, length: int) -> None:
    assert utf16_len(text) == length


def test_entity_to_api_omits_absent_fields() -> None:
    assert Entity("bold", 1, 2).to_api() == {"type": "bold", "offset": 1, "length": 2}
    assert Entity("pre", 0, 3, language="py").to_api() == {
        "type": "pre",
        "offset": 0,
        "length": 3,
        "language": "py",
    }
