"""Mistakes in the settings in the operator's words: Russian lines naming the file (or the
environment variable) and the key, one per mistake.

pydantic reports in English («Extra inputs are not permitted», «Input should be a valid
integer») and names neither the file nor where the key sits; tomllib likewise. An
administrator editing config.toml reads instead:

    config.toml: [booking] horizon_days: ожидается целое число, получено "abc"
    config.toml: [booking] horizonn_days: неизвестный ключ (может быть, horizon_days?)
    TALON_BOOKING__HORIZON_DAYS: значение должно быть не больше 60

A value is quoted back only when it can't be a secret (never a token, a key, a password or
an address that may carry one) and only for a scalar.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError

from bot.config import Settings

__all__ = ["describe_settings_error", "describe_toml_error", "describe_validation_error"]

ENV_PREFIX: Final = "TALON_"
ENV_DELIMITER: Final = "__"
# Where a value came from when neither a file nor a variable is known (values passed in code).
UNKNOWN_SOURCE: Final = "настройки"
# Keys whose values are never quoted back, whatever their type: they may be secrets or carry
# one (a database address with its password).
_SECRET_WORDS: Final = ("token", "secret", "key", "password", "url")
_SHOWN_MAX: Final = 40


def describe_settings_error(
    error: Exception, *, path: Path | None, environ: Mapping[str, str] | None = None
) -> list[str] | None:
    """Russian lines for a failure to load the settings from `path` (None: no file) and the
    environment; None for an exception that is not about the settings."""
    if isinstance(error, ValidationError):
        return describe_validation_error(error, path=path, environ=environ)
    if isinstance(error, tomllib.TOMLDecodeError):
        return [describe_toml_error(error, path=path)]
    if isinstance(error, SettingsError):
        return [_describe_env_parsing(error, environ=os.environ if environ is None else environ)]
    if isinstance(error, UnicodeDecodeError):
        return [f"{path or UNKNOWN_SOURCE}: файл настроек должен быть в кодировке UTF-8"]
    if isinstance(error, OSError) and path is not None:
        reason = error.strerror or type(error).__name__
        return [f"{path}: файл настроек не прочитан ({reason})"]
    return None


def describe_toml_error(error: tomllib.TOMLDecodeError, *, path: Path | None) -> str:
    """«config.toml, строка 3, столбец 9: ошибка синтаксиса TOML: …» (the import's wording)."""
    from bot.services.importing.schema import describe_toml_error as toml_in_russian

    position, message = toml_in_russian(error)
    where = str(path) if path is not None else UNKNOWN_SOURCE
    return f"{where}, {position}: {message}" if position else f"{where}: {message}"


def describe_validation_error(
    error: ValidationError, *, path: Path | None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """One line per mistake: «<file or variable>: [section] key: what is wrong»."""
    env = {name.upper(): name for name in (os.environ if environ is None else environ)}
    return [_line(details, path=path, env=env) for details in error.errors()]


# --- one mistake ---------------------------------------------------------------------------------


def _line(details: ErrorDetails, *, path: Path | None, env: Mapping[str, str]) -> str:
    loc = tuple(details["loc"])
    source = _source(loc, path=path, env=env)
    if details["type"] == "extra_forbidden" and len(loc) == 1:
        return f"{source}: {_unknown_top_level(str(loc[0]), details.get('input'))}"
    message = _message(details, loc)
    shown = _shown(details, loc)
    if shown is not None and details["type"] in _QUOTES_INPUT:
        message = f"{message}, получено {shown}"
    return f"{source}: {_where(loc)}: {message}"


def _source(loc: tuple[int | str, ...], *, path: Path | None, env: Mapping[str, str]) -> str:
    """The environment variable that set the value if there is one (it wins over the file),
    else the file."""
    names = [str(part).upper() for part in loc if isinstance(part, str)]
    candidates = []
    if len(names) >= 2:
        candidates.append(f"{ENV_PREFIX}{names[0]}{ENV_DELIMITER}{names[1]}")
    if names:
        candidates.append(f"{ENV_PREFIX}{names[0]}")
    for candidate in candidates:
        if candidate in env:
            return env[candidate]
    return str(path) if path is not None else UNKNOWN_SOURCE


def _where(loc: tuple[int | str, ...]) -> str:
    """("booking", "horizon_days") → "[booking] horizon_days"; list items count from 1, as in
    the import's reports: ("staff", "admins", 0) → "[staff] admins[1]"."""
    if not loc:
        return "настройки"
    section, *rest = loc
    if not rest:
        return f"[{section}]"
    key = str(rest[0])
    for part in rest[1:]:
        key += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return f"[{section}] {key}"


def _unknown_top_level(key: str, value: object) -> str:
    sections = list(Settings.model_fields)
    if isinstance(value, Mapping):
        return f"[{key}]: неизвестный раздел{_suggestion(key, sections, brackets=True)}"
    homes = [section for section in sections if key in _section_fields(section)]
    if homes:
        where = " или ".join(f"[{section}]" for section in homes)
        return (
            f"{key}: ключ стоит вне раздела; его место в разделе {where} "
            "(ниже строки с заголовком раздела)"
        )
    return f"{key}: неизвестный ключ вне раздела (разделы: {', '.join(sections)})"


def _section_fields(section: str) -> list[str]:
    model = _section_model(section)
    return list(model.model_fields) if model is not None else []


def _section_model(section: str) -> type[BaseModel] | None:
    field = Settings.model_fields.get(section)
    annotation = field.annotation if field is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _suggestion(key: str, known: Sequence[str], *, brackets: bool = False) -> str:
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (может быть, [{close[0]}]?)" if brackets else f" (может быть, {close[0]}?)"


# --- what is wrong -------------------------------------------------------------------------------


def _message(details: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    kind = details["type"]
    ctx: dict[str, Any] = dict(details.get("ctx") or {})
    if kind == "extra_forbidden":
        known = _section_fields(str(loc[0])) if len(loc) == 2 else []
        hint = _suggestion(str(loc[-1]), known)
        if not hint and known:
            hint = f" (ключи раздела: {', '.join(known)})"
        return f"неизвестный ключ{hint}"
    if kind in ("model_type", "model_attributes_type", "dict_type") and len(loc) == 1:
        return f"ожидается раздел [{loc[0]}] с ключами, а не одно значение"
    if kind in ("value_error", "assertion_error"):
        return _validator_message(str(ctx.get("error", details["msg"])))
    if kind in ("enum", "literal_error"):
        return f"допустимые значения: {ctx.get('expected', '?')}"
    if (bound := _BOUNDS.get(kind)) is not None:
        name, words = bound
        return f"значение должно быть {words} {_number(ctx.get(name, '?'))}"
    if (lengths := _LENGTHS.get(kind)) is not None:
        name, words = lengths
        return words.format(ctx.get(name, "?"))
    for kinds, text in _TYPES:
        if kind in kinds:
            return text
    if kind.startswith("url_"):
        return "ожидается адрес (URL), например http://127.0.0.1:8081"
    return f"недопустимое значение (ошибка {kind})"


def _number(value: object) -> str:
    """0.0 as 0: a bound of a float setting reads as the operator would write it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_BOUNDS: Final = {
    "greater_than": ("gt", "больше"),
    "greater_than_equal": ("ge", "не меньше"),
    "less_than": ("lt", "меньше"),
    "less_than_equal": ("le", "не больше"),
    "multiple_of": ("multiple_of", "кратно"),
}
_LENGTHS: Final = {
    "string_too_short": ("min_length", "текст должен быть не короче {} символов"),
    "string_too_long": ("max_length", "текст должен быть не длиннее {} символов"),
    "too_short": ("min_length", "должно быть не меньше {} элементов"),
    "too_long": ("max_length", "должно быть не больше {} элементов"),
}
_TYPES: Final[tuple[tuple[frozenset[str], str], ...]] = (
    (frozenset({"int_parsing", "int_type", "int_parsing_size"}), "ожидается целое число"),
    (frozenset({"int_from_float"}), "ожидается целое число, без дробной части"),
    (frozenset({"float_parsing", "float_type", "decimal_parsing"}), "ожидается число"),
    (frozenset({"finite_number"}), "ожидается конечное число"),
    (frozenset({"bool_parsing", "bool_type"}), "ожидается true или false"),
    (frozenset({"string_type", "string_unicode"}), "ожидается текст в кавычках"),
    (frozenset({"path_type"}), "ожидается путь к файлу в кавычках"),
    (
        frozenset({"list_type", "tuple_type", "set_type", "frozen_set_type", "iterable_type"}),
        "ожидается список в квадратных скобках [ ]",
    ),
    (
        frozenset({"dict_type", "model_type", "model_attributes_type", "mapping_type"}),
        "ожидается таблица в фигурных скобках { }",
    ),
    (frozenset({"missing"}), "обязательный ключ не задан"),
    (frozenset({"json_invalid", "json_type"}), "значение не разобрано как JSON"),
)
# Errors after which the value given is worth quoting back (a wrong type or a bound).
_QUOTES_INPUT: Final = frozenset(
    {kind for kinds, _ in _TYPES for kind in kinds if kind != "missing"}
    | set(_BOUNDS)
    | {"enum", "literal_error"}
)


def _shown(details: ErrorDetails, loc: tuple[int | str, ...]) -> str | None:
    """The value given, if it is a short scalar of a key that can't hold a secret."""
    if "input" not in details or _may_be_secret(loc):
        return None
    value = details["input"]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and len(value) <= _SHOWN_MAX and value.isprintable():
        return f'"{value}"'
    return None


def _may_be_secret(loc: tuple[int | str, ...]) -> bool:
    names = [part.lower() for part in loc if isinstance(part, str)]
    if any(word in name for name in names for word in _SECRET_WORDS):
        return True
    if len(names) >= 2 and (model := _section_model(names[0])) is not None:
        field = model.model_fields.get(names[1])
        return field is not None and "SecretStr" in str(field.annotation)
    return False


# The settings' own validators (bot/config.py and the parsers it calls) speak English.
_VALIDATOR_MESSAGES: Final[tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]] = (
    (
        re.compile(r"must be 16 to 256 characters: letters, digits, _ and -"),
        lambda _: "нужно от 16 до 256 символов: латинские буквы, цифры, _ и -",
    ),
    (re.compile(r"must start with /"), lambda _: "должно начинаться с /"),
    (
        re.compile(r"unknown log level (?P<value>.+)"),
        lambda m: (
            f"неизвестный уровень журнала {m['value']}: DEBUG, INFO, WARNING, ERROR или CRITICAL"
        ),
    ),
    (
        re.compile(r"reminder offset must look like .+, got (?P<value>.+)"),
        lambda m: (
            f"срок напоминания {m['value']} записан неверно: пишите как «24h», «30m», «1d» "
            "или «1h30m»"
        ),
    ),
    (
        re.compile(r"reminder offset must be positive, got (?P<value>.+)"),
        lambda m: f"срок напоминания {m['value']} должен быть больше нуля",
    ),
    (
        re.compile(r"reminder offset (?P<value>.+) repeats (?P<other>.+)"),
        lambda m: f"срок напоминания {m['value']} повторяет {m['other']}",
    ),
    (
        re.compile(r"quiet hours must look like .+, got (?P<value>.+)"),
        lambda m: f"тихие часы пишутся как «21:00-08:00» или «off», а не {m['value']}",
    ),
    (
        re.compile(r"quiet hours (?P<value>.+): (?P<time>\S+) is not a time of day"),
        lambda m: f"тихие часы {m['value']}: времени {m['time']} в сутках нет",
    ),
    (re.compile(r"not base64"), lambda _: "ключ должен быть записан в base64"),
    (
        re.compile(r"must be (?P<want>\d+) bytes in base64, not (?P<got>\d+)"),
        lambda m: f"ключ должен быть {m['want']} байта в base64, а не {m['got']}",
    ),
)


def _validator_message(text: str) -> str:
    for pattern, russian in _VALIDATOR_MESSAGES:
        if match := pattern.fullmatch(text.strip()):
            return russian(match)
    return f"недопустимое значение: {text}"


def _describe_env_parsing(error: SettingsError, *, environ: Mapping[str, str]) -> str:
    """pydantic-settings could not parse a variable (a list or a table is written as JSON)."""
    match = re.search(r'field "(?P<field>\w+)"', str(error))
    field = match["field"].upper() if match else ""
    prefix = f"{ENV_PREFIX}{field}"
    names = sorted(
        name
        for name in environ
        if field and (name.upper() == prefix or name.upper().startswith(prefix + ENV_DELIMITER))
    )
    where = ", ".join(names) or "переменные окружения TALON_*"
    return (
        f"{where}: значение не разобрано; список или таблица пишутся в JSON, "
        'например [1, 2] или {"en": "…"}'
    )
