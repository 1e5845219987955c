"""kill -9 during a burst of 50 bookings, many times: the end-to-end test's trials, longer.

    python -m bench.kill_bench [--trials 30] [--seed N]

Runs tests/e2e/test_booking_kill.py's trials (one set-up, then a SIGKILL of the real bot
process at a drawn moment of each burst and a restart) and prints one line, e.g.

    kill -9 during 50 bookings: 30 trials, 0 lost, D duplicates (all in the documented window)

A trial whose checks fail (a lost confirmation, a success without a booking row, a copy not
on a `resent` row) raises with its trial number and seed, so it can be replayed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tests.e2e.test_booking_kill import SEED, run_kill_trials


async def bench(trials: int, seed: int) -> str:
    with tempfile.TemporaryDirectory(prefix="talon-kill-") as workdir:
        summary = await run_kill_trials(Path(workdir), trials=trials, seed=seed)
    return summary.line()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_bench", description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    print(asyncio.run(bench(args.trials, args.seed)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
