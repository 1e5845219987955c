"""The text catalogue: every text a patient or a staff member reads, in Fluent files per
language (bot/locales/<language>/*.ftl), and the language of the current update.

Russian is the default and complete; English is complete too (a test compares the keys and
placeables of every language). The language is set per update by a middleware from the
account's choice (or Telegram's language_code at first contact) and kept in a context
variable, like aiogram's own i18n, so any code rendering a text in that update uses it;
code that writes to another chat (a notice, a reminder) renders under that chat's language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from fluent.runtime import FluentBundle, FluentResource

LOCALES_DIR: Final = Path(__file__).parent / "locales"
DEFAULT_LOCALE: Final = "ru"
LOCALES: Final = ("ru", "en")
# Russian for those whose Telegram speaks Russian or a language of its neighbours where
# Russian is widely read; English for everyone else (a tourist, a foreign student).
_RUSSIAN_READERS: Final = frozenset({"ru", "uk", "be", "kk", "ky", "uz", "tg", "hy", "az"})

_LONG_VALUE: Final = 2000

_current: ContextVar[str] = ContextVar("talon_locale", default=DEFAULT_LOCALE)


@dataclass(frozen=True, slots=True)
class Count:
    """A number a text chooses its plural form by (other numbers are shown as given)."""

    value: int


class MissingText(KeyError):
    pass


@cache
def bundle(locale: str) -> FluentBundle:
    """All of a language's catalogue files, parsed once per process."""
    # No Unicode isolation marks around values: Telegram shows them as stray characters.
    loaded = FluentBundle([locale], use_isolating=False)
    for path in sorted((LOCALES_DIR / locale).glob("*.ftl")):
        loaded.add_resource(FluentResource(path.read_text(encoding="utf-8")))
    return loaded


def translate(locale: str, key: str, /, **args: object) -> str:
    """The text `key` in `locale`. Values are shown as given (str()), so an id or a year is
    never grouped like «7 001»; a `Count` selects the plural form."""
    catalogue = bundle(locale)
    if not catalogue.has_message(key):
        raise MissingText(f"{locale}: no text {key!r}")
    message = catalogue.get_message(key)
    values: dict[str, str | int] = {
        name: value.value if isinstance(value, Count) else str(value)
        for name, value in args.items()
    }
    # Fluent refuses a value over 2,500 characters (a guard against expansion); our long
    # values are lists the bot built itself (a day's slots, the registrars), so they go in
    # after formatting, in place of a marker no text contains.
    long = {n: v for n, v in values.items() if isinstance(v, str) and len(v) > _LONG_VALUE}
    values.update({name: f"\ue000{name}\ue001" for name in long})
    if message.value is None:
        raise MissingText(f"{locale}: text {key!r} has no value")
    text, errors = catalogue.format_pattern(message.value, values)
    if errors:
        raise MissingText(f"{locale}: text {key!r}: {errors[0]}")
    result = str(text)
    for name, value in long.items():
        result = result.replace(f"\ue000{name}\ue001", str(value))
    return result


def t(key: str, /, **args: object) -> str:
    """The text `key` in the current update's language."""
    return translate(_current.get(), key, **args)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Render in `locale` within the block (e.g. a message to another chat)."""
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def set_locale(locale: str) -> None:
    """The language of the rest of this update (the middleware sets it at its start)."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def locale_for(language_code: str | None) -> str:
    """The language for a new account from Telegram's language_code (e.g. "en-US")."""
    if not language_code:
        return DEFAULT_LOCALE
    base = language_code.split("-")[0].lower()
    return "ru" if base in _RUSSIAN_READERS else "en"
