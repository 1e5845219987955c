"""What a refused file reports: every mistake with its location, and the refusal itself.

The lowest module of the package: reading the file (schema) and checking it (validation) both
refuse with ImportErrors, so it can live in neither without an import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ImportErrors", "ImportIssue"]


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One mistake in the file: where it is (1-based, with the record's name) and what it is."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ImportErrors(Exception):
    """The file was refused; `issues` lists every mistake found, in file order."""

    def __init__(self, issues: Sequence[ImportIssue]) -> None:
        self.issues: list[ImportIssue] = list(issues)
        super().__init__(self._text())

    def report(self, source: str | None = None) -> str:
        """The refusal as the person who edits the file reads it: a header naming `source`
        (the file, when known), then one indented line per mistake."""
        refused = f"не импортирован, ничего не изменено. Ошибок: {len(self.issues)}."
        lines = [f"{source}: файл {refused}" if source else f"Файл {refused}"]
        lines.extend(f"  {issue}" for issue in self.issues)
        return "\n".join(lines)

    def _text(self) -> str:
        return self.report()

    def __str__(self) -> str:
        return self._text()
