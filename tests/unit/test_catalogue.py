"""The text catalogue: every language complete, with the same placeables, and every key the
code asks for present."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fluent.syntax import ast, parse
from fluent.syntax.visitor import Visitor

from bot.i18n import DEFAULT_LOCALE, LOCALES, LOCALES_DIR, Count, MissingText, translate
from bot.services.booking import ChangeRefusal, LimitReason
from db.models import BookingStatus, StaffRole

BOT = Path(__file__).resolve().parents[2] / "bot"
# Keys built from a value at run time: every value must have its text.
DYNAMIC = {
    "refusal": [r.value for r in ChangeRefusal],
    "limit": [r.value for r in LimitReason],
    "status": [s.value for s in BookingStatus],
    "action": ["booked", "confirmed", "cancelled", "moved", "rebooked", "unlinked"],
    "actor": ["patient", "staff", "system"],
    "btn-language": list(LOCALES),
    "command": ["start", "my", "forget", "language", "help"],
}


def _variables(node: object) -> set[str]:
    """Every variable a message uses, inside selectors and variants too."""
    found: set[str] = set()

    class Variables(Visitor):  # type: ignore[misc]
        def visit_VariableReference(self, ref: ast.VariableReference) -> None:
            found.add(ref.id.name)
            self.generic_visit(ref)

    Variables().visit(node)
    return found


def catalogue(locale: str) -> dict[str, set[str]]:
    messages: dict[str, set[str]] = {}
    for path in sorted((LOCALES_DIR / locale).glob("*.ftl")):
        resource = parse(path.read_text(encoding="utf-8"))
        junk = [entry for entry in resource.body if isinstance(entry, ast.Junk)]
        assert not junk, f"{path}: unparsable: {[j.content[:60] for j in junk]}"
        for entry in resource.body:
            if isinstance(entry, ast.Message):
                assert entry.id.name not in messages, f"{path}: {entry.id.name} twice"
                messages[entry.id.name] = _variables(entry.value)
    return messages


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != DEFAULT_LOCALE])
def test_every_language_has_every_key_with_the_same_placeables(locale: str) -> None:
    default, other = catalogue(DEFAULT_LOCALE), catalogue(locale)
    assert sorted(set(default) - set(other)) == [], f"missing in {locale}"
    assert sorted(set(other) - set(default)) == [], f"only in {locale}"
    differ = {k: (default[k], other[k]) for k in default if default[k] != other[k]}
    assert differ == {}


def _keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    for path in BOT.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z0-9-]+)["']""", source))
        keys |= set(re.findall(r"""translate\([^,]+,\s*["']([a-z0-9-]+)["']""", source))
    return keys


def test_every_key_the_code_uses_exists() -> None:
    known = set(catalogue(DEFAULT_LOCALE))
    used = _keys_used_in_code()
    assert len(used) > 100  # the scan does find the keys
    for prefix, values in DYNAMIC.items():
        used |= {f"{prefix}-{value.replace('_', '-')}" for value in values}
    assert sorted(used - known) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_renders_with_its_placeables(locale: str) -> None:
    for key, names in catalogue(locale).items():
        text = translate(locale, key, **{name: Count(2) for name in names})
        assert text.strip(), key


def test_a_missing_key_fails_loudly() -> None:
    with pytest.raises(MissingText):
        translate("en", "no-such-text")


def test_staff_roles_are_known() -> None:
    # Guards the DYNAMIC table: a new role or status needs its text.
    assert {r.value for r in StaffRole} <= {"admin", "registrar"}


def test_a_long_value_the_bot_built_is_put_in_whole() -> None:
    # Fluent alone refuses placeables over 2,500 characters; a day of many slots is longer.
    lines = "\n".join(f"{hour:02d}:00 — свободно" for hour in range(24)) * 20
    text = translate("ru", "staff-list", admins="1", members=lines)
    assert lines in text
    assert "\ue000" not in text
