from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date

import pytest

from bot.i18n import LOCALES, Count, translate, use_locale
from bot.services.identity import (
    CODES,
    FOREIGN_DIGIT,
    IdentityFormatError,
    Param,
    luhn_is_valid,
    mask,
    normalize_document,
    normalize_document_number,
    normalize_oms,
    parse_birth_date,
    snils_is_valid,
)
from bot.services.identity_texts import render

TODAY = date(2026, 6, 15)


def _message(excinfo: pytest.ExceptionInfo[IdentityFormatError], locale: str = "ru") -> str:
    """The error as the reader sees it; its str() is the code alone, never typed data."""
    error = excinfo.value
    assert error.code in CODES
    assert str(error) == error.code
    return render(error, locale=locale)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("7788899730000765", True),
        ("7788899730000766", False),
        ("7788899730000756", False),  # adjacent digits swapped
        ("79927398713", True),
        ("79927398710", False),
        ("0", True),
        ("18", True),
        ("4111111111111111", True),
        ("", False),
        ("7788 8997 3000 0765", False),
        ("77888997300007б5", False),
        ("٧٧", False),  # non-ASCII digits are not digits here
    ],
)
def test_luhn_is_valid(digits: str, expected: bool) -> None:
    assert luhn_is_valid(digits) is expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("11223344595", True),  # the usual example 112-233-445 95
        ("11223344594", False),
        ("12345678964", True),  # s = 165 > 101 -> 165 mod 101 = 64
        ("12345678965", False),
        ("00132667899", True),  # s = 99 < 100 -> check is s itself
        ("00150881500", True),  # s = 100 -> 00
        ("00150881510", False),  # s = 100 must not be written as "10" or "100"
        ("00143754400", True),  # s = 101 -> 00
        ("00143754401", False),
        ("00131875901", True),  # s = 102 -> 1
        ("00256996149", True),  # s = 150 -> 49
        ("00699668200", True),  # s = 201 -> 201 mod 101 = 100 -> 00
        ("00100199812", True),  # 001-001-998 and below carry no check number
        ("00000000000", True),
        ("00100199912", False),  # 001-001-999 is the first checked number (s = 65)
        ("00100199965", True),
        ("1122334459", False),
        ("112233445950", False),
        ("112-233-445 95", False),
        ("", False),
    ],
)
def test_snils_is_valid(digits: str, expected: bool) -> None:
    assert snils_is_valid(digits) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7788899730000765", "7788899730000765"),
        ("  7788 8997 3000 0765 ", "7788899730000765"),
        ("7788-8997-3000-0765", "7788899730000765"),
        ("7788\u00a08997\u00a03000\u00a00765", "7788899730000765"),
        ("7788–8997–3000–0765", "7788899730000765"),
        ("0000000000000000", "0000000000000000"),
        ("123456789", "123456789"),  # temporary certificate, no check known
        ("123 456 789", "123456789"),
        ("123456", "123456"),  # old-style policies: 6..16 digits, unchecked
        ("1234567890", "1234567890"),
        ("123456789012345", "123456789012345"),
        ("№ 123456789", "123456789"),
    ],
)
def test_normalize_oms_accepts(raw: str, expected: str) -> None:
    assert normalize_oms(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ["16 цифр"]),
        ("   ", ["16 цифр"]),
        ("ЯМ 1234567", ["буквы", "серия", "только номер"]),
        ("AB 7788899730000765", ["буквы"]),
        ("7788899730000766", ["контрольной цифре", "проверьте, нет ли опечатки"]),
        ("7788 8997 3000 0756", ["проверьте, нет ли опечатки"]),
        ("12345", ["5 цифр", "не меньше 6"]),
        ("1", ["1 цифра", "не меньше 6"]),
        ("1234", ["4 цифры"]),
        ("77888997300007651", ["17 цифр", "не больше 16"]),
        ("778889973000076512345", ["21 цифра"]),
        ("7788.8997.3000.0765", ["лишние символы", "«.»"]),
        ("7788/8997", ["«/»"]),
        ("+7788899730000765", ["«+»"]),
    ],
)
def test_normalize_oms_rejects(raw: str, fragments: list[str]) -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        normalize_oms(raw)
    message = _message(excinfo)
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123456", "123456"),  # passport or birth certificate number
        (" 123 456 ", "123456"),
        ("№ 654321", "654321"),
        ("112-233-445 95", "11223344595"),  # СНИЛС as usually written
        ("112 233 445 95", "11223344595"),
        ("11223344595", "11223344595"),
        ("001-001-998 12", "00100199812"),  # old СНИЛС without check number
        ("1234567", "1234567"),  # social cards vary in length
        ("123456789", "123456789"),
        ("123456789012", "123456789012"),
        ("12345678901234567890", "12345678901234567890"),
    ],
)
def test_normalize_document_number_accepts(raw: str, expected: str) -> None:
    assert normalize_document_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ["номер документа", "без серии"]),
        ("IV-АИ 123456", ["буквы", "без серии", "IV-АИ", "только номер"]),
        ("IVАИ123456", ["буквы"]),
        ("паспорт 123456", ["буквы"]),
        ("45 06 123456", ["серию и номер паспорта", "6 цифр", "без серии из 4 цифр"]),
        ("4506123456", ["10 цифр", "6 цифр"]),
        ("112-233-445 94", ["СНИЛС", "контрольному числу", "проверьте, нет ли опечатки"]),
        ("12345678965", ["СНИЛС", "проверьте, нет ли опечатки"]),
        ("12345", ["5 цифр", "не меньше 6"]),
        ("12", ["2 цифры"]),
        ("123456789012345678901", ["21 цифра", "не больше 20"]),
        ("123.456", ["лишние символы", "«.»"]),
        ("123456#", ["«#»"]),
    ],
)
def test_normalize_document_number_rejects(raw: str, fragments: list[str]) -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        normalize_document_number(raw)
    message = _message(excinfo)
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("passport", "123456", "123456"),
        ("passport", " 123-456 ", "123456"),
        ("birth_certificate", "654321", "654321"),
        ("snils", "112-233-445 95", "11223344595"),
        ("snils", "00100199812", "00100199812"),
        ("social_card", "123456", "123456"),
        ("social_card", "1234567890", "1234567890"),  # kind is known: not a passport slip
        ("social_card", "11223344594", "11223344594"),  # nor a СНИЛС to be checked
        ("social_card", "12345678901234567890", "12345678901234567890"),
    ],
)
def test_normalize_document_accepts(kind: str, raw: str, expected: str) -> None:
    assert normalize_document(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "fragments"),
    [
        ("passport", "12345", ["паспорта", "5 цифр", "ровно 6 цифр"]),
        ("passport", "1234567", ["7 цифр", "ровно 6"]),
        ("passport", "4506 123456", ["серию и номер паспорта"]),
        ("passport", "", ["номер паспорта"]),
        ("birth_certificate", "IV-АИ 123456", ["буквы", "IV-АИ"]),
        ("birth_certificate", "1234567", ["свидетельства о рождении", "ровно 6"]),
        ("snils", "112-233-445 94", ["проверьте, нет ли опечатки"]),
        ("snils", "123456", ["СНИЛС", "ровно 11 цифр"]),
        ("snils", " ", ["Введите номер СНИЛС цифрами."]),
        ("social_card", "12345", ["социальной карты", "от 6 до 20"]),
        ("social_card", "123456789012345678901", ["21 цифра"]),
        ("social_card", "12 34 5x", ["буквы"]),
        ("driver_license", "123456", ["Неизвестный вид документа", "driver_license"]),
        ("", "123456", ["Неизвестный вид документа"]),
    ],
)
def test_normalize_document_rejects(kind: str, raw: str, fragments: list[str]) -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        normalize_document(kind, raw)
    message = _message(excinfo)
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05.03.1984", date(1984, 3, 5)),
        ("5.3.1984", date(1984, 3, 5)),
        ("05.3.1984", date(1984, 3, 5)),
        ("  31.12.1999 ", date(1999, 12, 31)),
        ("29.02.2000", date(2000, 2, 29)),  # divisible by 400: leap
        ("29.02.2024", date(2024, 2, 29)),
        ("05/03/1984", date(1984, 3, 5)),
        ("05-03-1984", date(1984, 3, 5)),
        ("05,03,1984", date(1984, 3, 5)),
        ("15.06.2026", TODAY),  # born today
        ("15.06.1901", date(1901, 6, 15)),  # exactly 125 years ago
    ],
)
def test_parse_birth_date_accepts(raw: str, expected: date) -> None:
    assert parse_birth_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ["ДД.ММ.ГГГГ"]),
        ("5 марта 1984", ["Не удалось распознать", "ДД.ММ.ГГГГ"]),
        ("05031984", ["ДД.ММ.ГГГГ"]),
        ("1984-03-05", ["ДД.ММ.ГГГГ"]),
        ("05.03-1984", ["ДД.ММ.ГГГГ"]),  # mixed separators
        ("05.03.84", ["четырьмя цифрами"]),
        ("05.03.019840", ["четырьмя цифрами"]),
        ("31.02.2000", ["Такой даты нет", "в феврале 2000 года 29 дней"]),
        ("29.02.2023", ["в феврале 2023 года 28 дней"]),
        ("29.02.1900", ["в феврале 1900 года 28 дней"]),  # divisible by 100: not leap
        ("31.04.1990", ["в апреле 1990 года 30 дней"]),
        ("00.05.1990", ["Такой даты нет", "нулевым"]),
        ("12.13.1990", ["Такой даты нет", "от 01 до 12", "указан 13"]),
        ("12.00.1990", ["указан 00"]),
        ("16.06.2026", ["позже сегодняшней", "15.06.2026"]),
        ("01.01.2207", ["позже сегодняшней"]),
        ("14.06.1901", ["больше 125 лет"]),
        ("01.01.0001", ["больше 125 лет"]),
        ("01.01.0000", ["больше 125 лет"]),
    ],
)
def test_parse_birth_date_rejects(raw: str, fragments: list[str]) -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        parse_birth_date(raw, today=TODAY)
    message = _message(excinfo)
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("today", "raw", "accepted"),
    [
        (date(2028, 2, 29), "01.03.1903", True),
        (date(2028, 2, 29), "28.02.1903", False),
        (date(2026, 1, 1), "01.01.1901", True),
        (date(2026, 1, 1), "31.12.1900", False),
    ],
)
def test_parse_birth_date_age_limit_edges(today: date, raw: str, accepted: bool) -> None:
    if accepted:
        assert parse_birth_date(raw, today=today).strftime("%d.%m.%Y") == raw
    else:
        with pytest.raises(IdentityFormatError) as excinfo:
            parse_birth_date(raw, today=today)
        assert excinfo.value.code == "date-too-old"
        assert "125 лет" in _message(excinfo)


@pytest.mark.parametrize(
    ("value", "visible", "expected"),
    [
        ("7788899730000765", 2, "••••••••••••••65"),
        ("7788899730000765", 4, "••••••••••••0765"),
        ("11223344595", 2, "•••••••••95"),
        ("123456", 0, "••••••"),
        ("12", 2, "••"),  # never reveal a whole value
        ("1", 2, "•"),
        ("", 2, ""),
        ("Иванов", 1, "•••••в"),
    ],
)
def test_mask(value: str, visible: int, expected: str) -> None:
    assert mask(value, visible=visible) == expected


def test_mask_default_keeps_two() -> None:
    assert mask("123456") == "••••56"


def test_mask_rejects_negative_visible() -> None:
    with pytest.raises(ValueError, match="visible"):
        mask("123456", visible=-1)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^oms-checksum$") as excinfo:
        normalize_oms("7788899730000766")
    assert isinstance(excinfo.value, IdentityFormatError)
    assert excinfo.value.params == {}
    assert "контрольной цифре" in render(excinfo.value, locale="ru")


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown identity error code"):
        IdentityFormatError("no-such-code")


def test_render_uses_the_current_language_by_default() -> None:
    error = IdentityFormatError("oms-too-short", count=5, min=6)
    with use_locale("en"):
        assert render(error) == render(error, locale="en")
        assert "5 digits" in render(error)
    with use_locale("ru"):
        assert render(error) == render(error, locale="ru")
        assert "5 цифр" in render(error)


# ---- Replies stay short whatever is typed -------------------------------------------------

EMOJI = "".join(chr(0x1F300 + i) for i in range(900))  # 900 distinct pictographs
# Well below Telegram's 4,096: the error is shown together with the prompt of the step.
MESSAGE_BOUND = 300
HOSTILE = [
    EMOJI,
    "1" * 5000,
    "1-" * 2000,
    "№" * 4000,
    "7" * 8 + "\u0301" * 3000,  # combining accents
    "\u202e7788899730000765\u202c",  # right-to-left override around the number
    "\u200f" * 10 + "123456",  # right-to-left marks
    "<&>" * 1000,
    "１２３４５６",  # fullwidth digits
    "٧٧٨٨٨٩٩٧٣٠",  # Arabic-Indic digits
    "12²³④⑤",
    "\ud800123",  # a lone surrogate, as JSON may carry one
    "\x00\x1b[31m123",
    "1.1." + "9" * 5000,
]


def _errors(raw: str, locale: str) -> list[str]:
    messages = []
    for parse in (
        normalize_oms,
        normalize_document_number,
        lambda value: parse_birth_date(value, today=TODAY),
        lambda value: normalize_document("passport", value),
        lambda value: normalize_document(value, "123456"),
    ):
        with pytest.raises(IdentityFormatError) as excinfo:
            parse(raw)
        messages.append(_message(excinfo, locale))
    return messages


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("raw", HOSTILE)
def test_every_error_is_short_and_printable_whatever_the_input(raw: str, locale: str) -> None:
    for message in _errors(raw, locale):
        assert len(message) < MESSAGE_BOUND, message
        # No control, format, surrogate or combining character reaches the reply.
        assert all(unicodedata.category(char)[0] not in "CM" for char in message), message


@pytest.mark.parametrize(
    "parse", [normalize_oms, normalize_document_number], ids=["oms", "document"]
)
def test_only_the_first_three_distinct_foreign_characters_are_named(
    parse: Callable[[str], str],
) -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        parse("12" + EMOJI + "34")
    message = _message(excinfo)
    assert "лишние символы: «🌀», «🌁», «🌂» и другие." in message
    assert "🌃" not in message
    with pytest.raises(IdentityFormatError) as excinfo:
        parse("1.2.3/4/5")
    assert "лишние символы: «.», «/». " in _message(excinfo)  # distinct, no «и другие»


@pytest.mark.parametrize(
    "parse", [normalize_oms, normalize_document_number], ids=["oms", "document"]
)
def test_foreign_characters_are_named_in_english_too(parse: Callable[[str], str]) -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        parse("12" + EMOJI + "34")
    assert excinfo.value.params == {"chars": ("🌀", "🌁", "🌂"), "more": True}
    message = _message(excinfo, "en")
    assert "extra characters: “🌀”, “🌁”, “🌂” and others." in message
    assert "🌃" not in message
    with pytest.raises(IdentityFormatError) as excinfo:
        parse("12\u202e34５")
    assert excinfo.value.params == {"chars": ("U+202E", FOREIGN_DIGIT), "more": False}
    message = _message(excinfo, "en")
    assert "invisible character U+202E, a digit other than 0–9." in message
    assert "\u202e" not in message
    assert "５" not in message


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("7788\u200f8997", "служебный символ U+200F"),
        ("7788\u0301", "служебный символ U+0301"),
        ("7788\u202e8997", "служебный символ U+202E"),
        ("7788\ufeff8997", "служебный символ U+FEFF"),
    ],
)
def test_invisible_and_combining_characters_are_named_by_code_point(raw: str, named: str) -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        normalize_oms(raw)
    message = _message(excinfo)
    assert named in message
    assert raw[4] not in message
    english = _message(excinfo, "en")
    assert named.replace("служебный символ", "invisible character") in english
    assert raw[4] not in english


@pytest.mark.parametrize("raw", ["１２３４５６７", "٧٧٨٨٨٩٩", "123456²", "123④56"])
def test_digits_of_other_scripts_are_described_never_echoed(raw: str) -> None:
    for parse in (normalize_oms, normalize_document_number):
        with pytest.raises(IdentityFormatError) as excinfo:
            parse(raw)
        message = _message(excinfo)
        assert "цифра не из набора 0–9" in message
        assert not {char for char in raw if not char.isascii()} & set(message)
        english = _message(excinfo, "en")
        assert "a digit other than 0–9" in english
        assert not {char for char in raw if not char.isascii()} & set(english)


def test_an_unknown_document_kind_is_echoed_cut() -> None:
    with pytest.raises(IdentityFormatError) as excinfo:
        normalize_document("x" * 5000, "123456")
    message = _message(excinfo)
    assert "«" + "x" * 30 + "…»" in message
    assert len(message) < MESSAGE_BOUND
    english = _message(excinfo, "en")
    assert "“" + "x" * 30 + "…”" in english
    assert len(english) < MESSAGE_BOUND


# ---- Every code has a text in every language ----------------------------------------------

# Representative parameters of every code, the widest the code's raiser can produce.
SAMPLES: dict[str, dict[str, Param]] = {
    "oms-empty": {},
    "oms-letters": {},
    "oms-foreign-chars": {"chars": ("🌀", "U+202E", FOREIGN_DIGIT), "more": True},
    "oms-too-short": {"count": 1, "min": 6},
    "oms-too-long": {"count": 4000, "max": 16},
    "oms-checksum": {},
    "snils-checksum": {},
    "document-empty": {"kind": "snils"},
    "document-letters": {},
    "document-foreign-chars": {"chars": (".",), "more": False},
    "document-too-short": {"count": 2, "min": 6},
    "document-too-long": {"count": 21, "max": 20},
    "passport-with-series": {},
    "document-wrong-length": {"kind": "birth_certificate", "count": 5, "expected": 6},
    "social-card-length": {"count": 22, "min": 6, "max": 20},
    "unknown-document-kind": {"given": "x" * 30 + "…"},
    "date-empty": {},
    "date-unrecognized": {},
    "date-short-year": {},
    "date-bad-month": {"month": "13"},
    "date-zero-day": {},
    "date-day-out-of-month": {"month": 2, "year": 1900, "days": 28},
    "date-too-old": {"years": 125},
    "date-in-future": {"today": "15.06.2026"},
}
# What each sample must read like in each language: plural forms and selected variants.
EXPECTED: dict[str, tuple[str, str]] = {
    "oms-foreign-chars": (
        "«🌀», служебный символ U+202E, цифра не из набора 0–9 и другие",
        "“🌀”, invisible character U+202E, a digit other than 0–9 and others",
    ),
    "oms-too-short": ("1 цифра, а должно быть не меньше 6", "has 1 digit, but it must have"),
    "oms-too-long": ("4000 цифр", "4000 digits"),
    "document-empty": ("Введите номер СНИЛС цифрами.", "Enter the SNILS number in digits."),
    "document-foreign-chars": ("лишние символы: «.». ", "extra characters: “.”. "),
    "document-too-short": ("2 цифры", "2 digits"),
    "document-too-long": ("21 цифра", "21 digits"),
    "document-wrong-length": (
        "В номере свидетельства о рождении 5 цифр, а должно быть ровно 6 цифр.",
        "The birth certificate number has 5 digits, but it must have exactly 6 digits.",
    ),
    "social-card-length": ("22 цифры, а должно быть от 6 до 20", "22 digits"),
    "unknown-document-kind": ("«" + "x" * 30 + "…»", "“" + "x" * 30 + "…”"),
    "date-bad-month": ("указан 13", "it is 13"),
    "date-day-out-of-month": ("в феврале 1900 года 28 дней", "February 1900 has 28 days"),
    "date-too-old": ("больше 125 лет", "over 125 years old"),
    "date-in-future": ("(15.06.2026)", "(15.06.2026)"),
}


def test_every_code_has_a_sample() -> None:
    assert set(SAMPLES) == CODES


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_renders_in_every_language(code: str) -> None:
    error = IdentityFormatError(code, **SAMPLES[code])
    rendered = {locale: render(error, locale=locale) for locale in LOCALES}
    for locale, message in rendered.items():
        assert 20 < len(message) < MESSAGE_BOUND, (locale, message)
        assert not {"{", "}"} & set(message), (locale, message)
        assert all(unicodedata.category(char)[0] not in "CM" for char in message), message
    assert rendered["ru"] != rendered["en"]
    assert not set("абвгдежзиклмнопрстуфхцчшщыэюя") & set(rendered["en"].replace("IV-АИ", ""))
    if code in EXPECTED:
        russian, english = EXPECTED[code]
        assert russian in rendered["ru"]
        assert english in rendered["en"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("days", "russian", "english"),
    [(1, "1 день", "1 day"), (3, "3 дня", "3 days"), (28, "28 дней", "28 days")],
)
def test_day_counts_take_their_plural_forms(
    locale: str, days: int, russian: str, english: str
) -> None:
    text = translate(
        locale, "identity-date-day-out-of-month", month=Count(4), year=Count(1990), days=Count(days)
    )
    assert (russian if locale == "ru" else english) in text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_month_has_its_name(locale: str) -> None:
    names = {
        render(
            IdentityFormatError("date-day-out-of-month", month=month, year=2001, days=30),
            locale=locale,
        )
        for month in range(1, 13)
    }
    assert len(names) == 12
