"""Turning what is wrong into issues a person can act on: where in the file, and what, in Russian.

Locations are 1-based and name the innermost record (`organizations[1].doctors[2] (Иванова А.
П.).hours.fri[1]`), so they can be found in a hand-edited file. Identity values (OMS numbers,
document numbers, birth dates) never appear in an issue: messages are built from error types and
limits, messages from identity.py are redacted, and every issue is scrubbed once more at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.services.importing.errors import ImportIssue
from bot.services.importing.schema import DOCUMENT_KINDS

__all__ = ["IssueCollector", "Loc", "redact", "render_location", "scrub"]

# A pydantic-style location: keys and 0-based list indexes from the top of the file.
Loc = tuple[str | int, ...]

_NAMED_LISTS: Final = frozenset({"organizations", "services", "doctors", "patients"})
_DIGIT_RUN: Final = re.compile(r"\d+")

_M = TypeVar("_M", bound=BaseModel)


# --- Locations -----------------------------------------------------------------------------------


def _person(record: Mapping[str, Any]) -> str | None:
    last = record.get("last_name")
    if not isinstance(last, str) or not last.strip():
        return None
    initials = "".join(
        f" {part.strip()[0]}."
        for part in (record.get("first_name"), record.get("middle_name"))
        if isinstance(part, str) and part.strip()
    )
    return f"{last.strip()}{initials}"


def _record_name(kind: str | None, record: Any) -> str | None:
    """How a person finds the record in the file: a name, or a code; None for other lists."""
    if kind not in _NAMED_LISTS or not isinstance(record, Mapping):
        return None
    if kind in ("doctors", "patients"):
        return _person(record)
    keys = ("short_name", "name", "code") if kind == "organizations" else ("code",)
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def render_location(raw: Any, loc: Loc) -> str:
    """`organizations[1].doctors[2] (Иванова А. П.).hours.fri[1]` for a 0-based pydantic loc.

    The raw data is walked alongside, to name the innermost record and to drop the index that
    pydantic reports for a single value written where a list is also allowed.
    """
    parts: list[str] = []
    label: tuple[int, str] | None = None
    node: Any = raw
    key: str | None = None
    for item in loc:
        if not isinstance(item, int):
            key = item
            parts.append(item)
            node = node.get(item) if isinstance(node, Mapping) else None
            continue
        if not isinstance(node, list):
            node = None
            continue
        if parts:
            parts[-1] += f"[{item + 1}]"
        else:
            parts.append(f"[{item + 1}]")
        node = node[item] if 0 <= item < len(node) else None
        if (name := _record_name(key, node)) is not None:
            label = (len(parts) - 1, name)
    if label is not None:
        position, name = label
        parts[position] += f" ({name})"
    return ".".join(parts)


# --- Messages ------------------------------------------------------------------------------------


def _pydantic_message(error: ErrorDetails) -> str:
    # Messages are built from the error type and its limits, never from the input value.
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    match error["type"]:
        case "missing":
            return "обязательное поле не заполнено"
        case "extra_forbidden":
            return "неизвестное поле (опечатка в названии?)"
        case "string_type":
            return "ожидается текст в кавычках"
        case "string_too_short":
            return "не может быть пустым"
        case "string_too_long":
            return f"слишком длинно: не больше {ctx.get('max_length')} символов"
        case "int_type" | "int_parsing" | "int_from_float":
            return "ожидается целое число (без кавычек)"
        case "greater_than_equal":
            return f"должно быть не меньше {ctx.get('ge')}"
        case "less_than_equal":
            return f"должно быть не больше {ctx.get('le')}"
        case "list_type":
            return "ожидается список в квадратных скобках"
        case "too_short":
            return f"нужно хотя бы {ctx.get('min_length')} значение"
        case "model_type" | "model_attributes_type" | "dict_type":
            return "ожидается таблица TOML (поля «ключ = значение» или { … })"
        case "literal_error":  # the only Literal field is a document's kind
            return "допустимые значения: " + ", ".join(DOCUMENT_KINDS)
        case "value_error":
            return str(ctx.get("error", error["msg"]))
        case _:
            return error["msg"]


def redact(message: str, *, raw: str) -> str:
    """The message with any piece of `raw` removed.

    identity.py speaks to the patient who typed the value and may quote parts of it back
    ("в марте 1985 года"); in an import report read by staff it must not.
    """
    pieces = set(_DIGIT_RUN.findall(raw))
    message = _DIGIT_RUN.sub(lambda m: "…" if m.group() in pieces else m.group(), message)
    stripped = raw.strip()
    return message.replace(stripped, "…") if stripped else message


# --- Collecting ----------------------------------------------------------------------------------


class IssueCollector:
    """Every issue of one file, in the order found; locations rendered against the raw file."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.issues: list[ImportIssue] = []

    def add(self, loc: Loc, message: str) -> None:
        self.issues.append(ImportIssue(render_location(self.raw, loc), message))

    def where(self, loc: Loc) -> str:
        return render_location(self.raw, loc)

    def parse(self, model: type[_M], value: Any, loc: Loc) -> _M | None:
        """`value` as `model`, or None with each of its mistakes added at `loc`."""
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                self.add((*loc, *error["loc"]), _pydantic_message(error))
            return None


# --- The last line of defence --------------------------------------------------------------------


def _identity_candidates(patient: Mapping[str, Any]) -> Iterable[Any]:
    yield patient.get("oms")
    yield patient.get("birth_date")
    documents = patient.get("documents")
    for document in documents if isinstance(documents, list) else []:
        if isinstance(document, Mapping):
            yield document.get("number")


def _identity_values(raw: Mapping[str, Any]) -> set[str]:
    values: set[str] = set()
    patients = raw.get("patients")
    for patient in patients if isinstance(patients, list) else []:
        if not isinstance(patient, Mapping):
            continue
        for value in _identity_candidates(patient):
            if isinstance(value, date):
                values.add(value.isoformat())
                value = f"{value:%d.%m.%Y}"
            if isinstance(value, str | int) and len(text := str(value).strip()) >= 6:
                values.add(text)
                values.add(re.sub(r"\D", "", text))
    values.discard("")
    return values


def scrub(issues: list[ImportIssue], *, raw: Mapping[str, Any]) -> list[ImportIssue]:
    """The issues with every identity value of the file replaced by "…"."""
    # Whatever produced a message, no identity value leaves here.
    secrets = sorted((v for v in _identity_values(raw) if len(v) >= 6), key=len, reverse=True)

    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "…")
        return text

    return [ImportIssue(clean(issue.location), clean(issue.message)) for issue in issues]
