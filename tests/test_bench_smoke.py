"""`python -m bench --tiny` keeps working: every section runs and prints its lines.

A smoke test only: the figures of a tiny run mean nothing, and no speed is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

EXPECTED = {
    "booking": (
        "size",
        "booked (PDF ticket received)",
        "bot CPU per update",
        "throughput",
        "latency per update p50",
        "latency per update p95",
        "whole walk",
    ),
    "ticket": ("PDF ticket",),
    "memory": ("idle RSS after start", "RSS growth per 1,000 open dialogues"),
    "registry": (
        "size",
        "import (import_data)",
        "import rate",
        "regeneration, nothing to change",
        "day grid",
        "time grid",
    ),
}


def test_tiny_run_prints_every_section() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["section", "measurement"]
    for section, measurements in EXPECTED.items():
        for measurement in measurements:
            assert any(line.startswith(section) and f" {measurement}" in line for line in lines), (
                f"no line {section!r} / {measurement!r} in:\n{done.stdout}"
            )
    # Every line of the table is a section's line (or the header and its rule).
    assert all(line.split()[0] in {*EXPECTED, "section"} for line in lines[2:]), done.stdout
    assert "booked (PDF ticket received)" in done.stdout
    assert "4/4" in done.stdout
