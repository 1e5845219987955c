"""The one table `python -m bench` prints: a line per measurement, with its baseline and ratio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HEADER = ("section", "measurement", "Talon", "baseline", "ratio")


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    what: str
    value: str
    baseline: str = ""
    ratio: str = ""


def ratio(value: float, baseline: float) -> str:
    """value / baseline as "12.3×", or "—" when the baseline is too small to divide by."""
    if baseline <= 1e-12:
        return "—"
    return f"{value / baseline:.2f}×"


def ms(seconds: float) -> str:
    millis = seconds * 1000
    if millis < 1:
        return f"{millis:.3f} ms"
    if millis < 100:
        return f"{millis:.2f} ms"
    return f"{millis:.0f} ms"


def mib(value: float) -> str:
    return f"{value:.1f} MiB"


def render(rows: Sequence[Row]) -> str:
    cells = [HEADER, *((r.section, r.what, r.value, r.baseline, r.ratio) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    lines = []
    for number, row in enumerate(cells):
        left = [row[i].ljust(widths[i]) for i in range(2)]
        right = [row[i].rjust(widths[i]) for i in range(2, len(HEADER))]
        lines.append("  ".join(left + right).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
