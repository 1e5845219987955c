"""The sentences of identity.py's errors, rendered from the text catalogue (identity.ftl).

identity.py says what is wrong with a typed value by a code and plain parameters; this module
turns them into the text a reader sees: the patient in the chat (in their language), or the
operator reading an import report (in Russian).
"""

from __future__ import annotations

from bot.i18n import Count, t, translate
from bot.services.identity import FOREIGN_DIGIT, IdentityFormatError, Param

__all__ = ["render"]

_CODE_POINT = "U+"


def render(error: IdentityFormatError, *, locale: str | None = None) -> str:
    """The error's text in `locale`, or in the current update's language when None."""
    args: dict[str, object] = {}
    for name, value in error.params.items():
        if name == "more":
            continue  # folded into `chars`
        if name == "chars":
            args[name] = _chars(value, more=error.params.get("more") is True, locale=locale)
        elif isinstance(value, bool):
            raise TypeError(f"identity error {error.code!r}: a flag {name!r} is not shown")
        elif isinstance(value, int):
            # Counts and limits choose plural forms; the catalogue shows them ungrouped.
            args[name] = Count(value)
        else:
            args[name] = value
    return _text(locale, f"identity-{error.code}", **args)


def _text(locale: str | None, key: str, /, **args: object) -> str:
    return t(key, **args) if locale is None else translate(locale, key, **args)


def _chars(tokens: Param, *, more: bool, locale: str | None) -> str:
    """The offending characters named in the reader's language (tokens: see identity.py)."""
    if not isinstance(tokens, tuple):
        raise TypeError("chars must be a tuple of tokens")
    named = []
    for token in tokens:
        if token == FOREIGN_DIGIT:
            named.append(_text(locale, "identity-char-foreign-digit"))
        elif token.startswith(_CODE_POINT) and len(token) > 1:
            code = token.removeprefix(_CODE_POINT)
            named.append(_text(locale, "identity-char-invisible", code=code))
        else:
            named.append(_text(locale, "identity-char", char=token))
    listed = ", ".join(named)
    return _text(locale, "identity-chars-and-others", listed=listed) if more else listed
