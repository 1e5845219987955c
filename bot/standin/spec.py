"""Validation of Bot API requests against the machine-readable API description.

``botapi_spec.json`` lists every method's parameters and every type's fields with their types
and whether they are required. Telegram itself silently ignores unknown parameters and fields;
the stand-in rejects them, because in a bot they are typos or fields from a newer API version
and the intended effect never happens.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BotApiSpec",
    "FieldSpec",
    "InvalidRequest",
    "MethodSpec",
    "TypeSpec",
    "UploadedFile",
    "load_spec",
]

_SPEC_PATH = Path(__file__).with_name("botapi_spec.json")
_ARRAY_PREFIX = "Array of "
_ATTACH_PREFIX = "attach://"
_INTEGER_RE = re.compile(r"-?\d+")
_BOOLEAN_STRINGS = {"true": True, "1": True, "false": False, "0": False}
# "Scope type, must be chat" / 'Type of the reaction, always "emoji"'
_DISCRIMINATOR_RE = re.compile(r'(?:must be|always) "?([a-z_]+)"?\s*$')

# Parameters removed from the documentation in Bot API 7.0 that Telegram still honours and
# aiogram still sends (e.g. disable_web_page_preview from DefaultBotProperties); each is
# accepted wherever its successor parameter exists.
_LEGACY_PARAMS: dict[str, tuple[str, str]] = {
    "reply_to_message_id": ("reply_parameters", "Integer"),
    "allow_sending_without_reply": ("reply_parameters", "Boolean"),
    "disable_web_page_preview": ("link_preview_options", "Boolean"),
}

# Telegram's own wording for the most common missing parameters.
_MISSING_WORDING = {"chat_id": "chat_id is empty", "text": "message text is empty"}
_JSON_PARAM_WORDING = {"reply_markup": "reply keyboard markup"}


class InvalidRequest(ValueError):
    """The request does not match the Bot API; ``description`` is the error for the bot."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A multipart file part of a request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"<file {self.filename!r}, {len(self.data)} bytes>"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    fields: Mapping[str, FieldSpec]


@dataclass(frozen=True, slots=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    # Alternatives for abstract types such as BotCommandScope; type expressions, not just names.
    subtypes: tuple[str, ...]
    # (field name, constant) telling this variant of an abstract type apart, e.g. ("type", "chat").
    discriminator: tuple[str, str] | None


class _Mismatch(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f'field "{path}" {problem}')
        self.path = path
        # Deeper mismatches describe the intended alternative of a union better.
        self.depth = path.count(".") + path.count("[")


def _field_specs(raw_fields: Sequence[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {
        f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"])) for f in raw_fields
    }


def _discriminator(raw_fields: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    for f in raw_fields:
        if f["required"] and f["types"] == ["String"]:
            match = _DISCRIMINATOR_RE.search(f.get("description", ""))
            if match:
                return f["name"], match.group(1)
    return None


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_PRIMITIVE_CHECKS: dict[str, Callable[[object], bool]] = {
    "Integer": _is_integer,
    "Float": _is_float,
    "Boolean": lambda value: isinstance(value, bool),
    "True": lambda value: value is True,
    "String": lambda value: isinstance(value, str),
}

_SCALAR_TYPES = frozenset({*_PRIMITIVE_CHECKS, "InputFile"})


class BotApiSpec:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = raw["version"]
        self._methods = {
            name.lower(): MethodSpec(name, _field_specs(m.get("fields", [])))
            for name, m in raw["methods"].items()
        }
        self.types = {
            name: TypeSpec(
                name,
                _field_specs(t.get("fields", [])),
                tuple(t.get("subtypes", ())),
                _discriminator(t.get("fields", [])),
            )
            for name, t in raw["types"].items()
        }

    def method(self, name: str) -> MethodSpec | None:
        """Look a method up case-insensitively, as Telegram does."""
        return self._methods.get(name.lower())

    def validate(self, method: MethodSpec, params: Mapping[str, object]) -> dict[str, object]:
        """Check the request parameters and return them decoded.

        ``params`` hold form strings, JSON values (JSON bodies) and UploadedFile parts. Decoded:
        numbers and booleans parsed, JSON objects and arrays parsed, and ``attach://name``
        references replaced by their file parts.
        """
        return _RequestCheck(self, method, params).run()


class _RequestCheck:
    def __init__(self, spec: BotApiSpec, method: MethodSpec, params: Mapping[str, object]) -> None:
        self.spec = spec
        self.method = method
        self.params = params
        self.attached: set[str] = set()

    def run(self) -> dict[str, object]:
        fields = dict(self.method.fields)
        for name, (successor, type_name) in _LEGACY_PARAMS.items():
            if successor in fields:
                fields[name] = FieldSpec(name, (type_name,), required=False)

        for name, value in self.params.items():
            if name not in fields and not isinstance(value, UploadedFile):
                raise InvalidRequest(
                    f'Bad Request: unknown parameter "{name}" for method {self.method.name}'
                )
        for spec in fields.values():
            if spec.required and spec.name not in self.params:
                wording = _MISSING_WORDING.get(spec.name, f'parameter "{spec.name}" is required')
                raise InvalidRequest(f"Bad Request: {wording}")

        decoded = {
            name: self.decode_param(spec, self.params[name])
            for name, spec in fields.items()
            if name in self.params
        }
        for name, value in self.params.items():
            if isinstance(value, UploadedFile) and name not in fields and name not in self.attached:
                raise InvalidRequest(
                    f'Bad Request: file part "{name}" is neither a parameter of '
                    f"{self.method.name} nor referenced as attach://{name}"
                )
        return decoded

    def decode_param(self, spec: FieldSpec, raw: object) -> object:
        mismatches: list[_Mismatch] = []
        for type_expr in spec.types:
            try:
                return self.decode_top(spec.name, type_expr, raw)
            except _Mismatch as exc:
                mismatches.append(exc)
        if all(t in _SCALAR_TYPES for t in spec.types):
            raise InvalidRequest(
                f'Bad Request: parameter "{spec.name}" must be of type {" or ".join(spec.types)}'
            )
        deepest = max(mismatches, key=lambda m: m.depth)
        wording = _JSON_PARAM_WORDING.get(spec.name, spec.name)
        raise InvalidRequest(f"Bad Request: can't parse {wording} JSON object: {deepest}")

    def decode_top(self, name: str, type_expr: str, raw: object) -> object:
        """Decode a top-level parameter, where scalars arrive as strings in forms."""
        if isinstance(raw, UploadedFile):
            if type_expr != "InputFile":
                raise _Mismatch(name, "must not be a file upload")
            return raw
        if type_expr == "InputFile":
            return self.resolve_attachment(name, raw)
        if isinstance(raw, str) and type_expr != "String":
            value = _decode_form_string(type_expr, raw)
            if value is None:
                problem = "is not valid JSON" if type_expr not in _SCALAR_TYPES else ""
                raise _Mismatch(name, problem or f"must be of type {type_expr}")
            raw = value
        self.check(type_expr, raw, name)
        return raw

    def resolve_attachment(self, path: str, raw: object) -> UploadedFile:
        if not isinstance(raw, str) or not raw.startswith(_ATTACH_PREFIX):
            raise _Mismatch(path, "must be a file upload or attach://<name>")
        part_name = raw.removeprefix(_ATTACH_PREFIX)
        part = self.params.get(part_name)
        if not isinstance(part, UploadedFile):
            raise InvalidRequest(f'Bad Request: can\'t find the attached file "{raw}"')
        self.attached.add(part_name)
        return part

    def check(self, type_expr: str, value: object, path: str) -> None:
        """Check a JSON value (nested in an object parameter) against a type expression."""
        if type_expr.startswith(_ARRAY_PREFIX):
            if not isinstance(value, list):
                raise _Mismatch(path, "must be an Array")
            item_type = type_expr.removeprefix(_ARRAY_PREFIX)
            for index, item in enumerate(value):
                self.check(item_type, item, f"{path}[{index}]")
            return
        primitive = _PRIMITIVE_CHECKS.get(type_expr)
        if primitive is not None:
            if not primitive(value):
                raise _Mismatch(path, f"must be of type {type_expr}")
            return
        if type_expr == "InputFile":
            self.resolve_attachment(path, value)
            return
        spec = self.spec.types.get(type_expr)
        if spec is None:
            raise _Mismatch(path, f"has type {type_expr} unknown to the stand-in")
        if spec.subtypes:
            self.check_union(spec.subtypes, value, path)
            return
        self.check_object(spec, value, path)

    def check_object(self, spec: TypeSpec, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise _Mismatch(path, f"must be a JSON object ({spec.name})")
        for key in value:
            if key not in spec.fields:
                raise _Mismatch(f"{path}.{key}", f"is not a field of {spec.name}")
        for fld in spec.fields.values():
            if fld.name in value:
                self.check_union(fld.types, value[fld.name], f"{path}.{fld.name}")
            elif fld.required:
                raise _Mismatch(f"{path}.{fld.name}", f"is required in {spec.name}")
        if spec.discriminator is not None:
            key, constant = spec.discriminator
            if value[key] != constant:
                raise _Mismatch(f"{path}.{key}", f'must be "{constant}" in {spec.name}')

    def check_union(self, type_exprs: Sequence[str], value: object, path: str) -> None:
        mismatches: list[tuple[str, _Mismatch]] = []
        for type_expr in type_exprs:
            try:
                self.check(type_expr, value, path)
            except _Mismatch as exc:
                mismatches.append((type_expr, exc))
            else:
                return
        if len(mismatches) == 1:
            raise mismatches[0][1]
        for type_expr, mismatch in mismatches:
            spec = self.spec.types.get(type_expr)
            if spec is not None and spec.discriminator is not None and isinstance(value, dict):
                key, constant = spec.discriminator
                if value.get(key) == constant:
                    raise mismatch
        raise max((mismatch for _, mismatch in mismatches), key=lambda m: m.depth)


def _decode_form_string(type_expr: str, raw: str) -> object | None:
    """Decode a form-encoded value; None if it cannot be of the type."""
    if type_expr == "Integer":
        return int(raw) if _INTEGER_RE.fullmatch(raw) else None
    if type_expr == "Float":
        try:
            number = float(raw)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    if type_expr in ("Boolean", "True"):
        return _BOOLEAN_STRINGS.get(raw.lower())
    try:
        decoded: object = json.loads(raw)
    except ValueError:
        return None
    return decoded


@functools.cache
def load_spec() -> BotApiSpec:
    """The bundled Bot API description, parsed once per process."""
    with _SPEC_PATH.open(encoding="utf-8") as fp:
        return BotApiSpec(json.load(fp))
