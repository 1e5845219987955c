"""`python -m bench`: Talon's performance suite, one table of measurements and ratios.

Sections (see bench/README.md for what each measures and how):

* booking: N patients booking at once through the stand-in, against a bare aiogram bot;
* ticket: the PDF ticket against a naive fpdf2 document with the same fonts and text;
* memory: idle RSS of the bot process and its growth per 1,000 open dialogues;
* registry: import, regeneration with nothing to change, day and time grid queries.

::

    python -m bench                  # full size, about 16 minutes on 2 vCPUs
    python -m bench --tiny           # smoke test, well under a minute
    python -m bench --only booking --patients 64

Nothing here asserts a speed: the exit status is 0 when every section measured what it set
out to (all patients booked, no rejected request, the grids agree with their floors).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.clinic import MAX_DIALOGUE_PATIENTS
from bench.driver import BenchError
from bench.table import Row, render

SECTIONS = ("booking", "ticket", "memory", "registry")
FULL = {
    "patients": 32,
    "rounds": 5,
    "doctors": 1000,
    "days": 60,
    "dialogues": 1000,
    "ticket_repeats": 30,
    "grid_repeats": 15,
}
TINY = {
    "patients": 4,
    "rounds": 1,
    "doctors": 5,
    "days": 3,
    "dialogues": 200,
    "ticket_repeats": 5,
    "grid_repeats": 5,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Talon's benchmark suite: one table of ratios."
    )
    parser.add_argument(
        "--tiny", action="store_true", help="everything at a very small size (a CI smoke test)"
    )
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this section (may be given more than once)",
    )
    parser.add_argument("--patients", type=int, help="patients booking at once (32; tiny 4)")
    parser.add_argument(
        "--rounds", type=int, help="booking rounds per bot, alternating; medians (5; tiny 1)"
    )
    parser.add_argument("--doctors", type=int, help="doctors of the registry (1000; tiny 5)")
    parser.add_argument("--days", type=int, help="booking horizon of the registry (60; tiny 3)")
    parser.add_argument("--dialogues", type=int, help="dialogues opened (1000; tiny 200)")
    parser.add_argument("--ticket-repeats", type=int, help="tickets rendered (30; tiny 5)")
    parser.add_argument("--grid-repeats", type=int, help="runs of each grid query (15; tiny 5)")
    args = parser.parse_args(argv)
    for name, default in (TINY if args.tiny else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, default)
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.patients * args.rounds >= MAX_DIALOGUE_PATIENTS:
        parser.error(f"--patients × --rounds must be below {MAX_DIALOGUE_PATIENTS}")
    return args


async def run(args: argparse.Namespace) -> list[Row]:
    chosen = args.only or SECTIONS
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="talon-bench-") as tmp:
        for name in SECTIONS:
            if name not in chosen:
                continue
            began = time.perf_counter()
            folder = Path(tmp) / name
            folder.mkdir(mode=0o700)
            if name == "booking":
                from bench import booking_bench

                rows += await booking_bench.run(args.patients, args.rounds, folder)
            elif name == "ticket":
                from bench import ticket_bench

                rows += ticket_bench.run(args.ticket_repeats)
            elif name == "memory":
                from bench import memory_bench

                rows += await memory_bench.run(args.dialogues, folder)
            else:
                from bench import registry_bench

                rows += await registry_bench.run(args.doctors, args.days, args.grid_repeats)
            seconds = time.perf_counter() - began
            print(f"{name}: done in {seconds:.1f} s", file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        rows = asyncio.run(run(args))
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except TimeoutError:
        print("benchmark failed: a step took longer than its time limit", file=sys.stderr)
        return 1
    print(render(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
