"""Wall time of the read-only `mlops` commands, each a fresh process as a user types it.

Run with `make bench-cli`. Each command runs against the state folder of `make run` (MLOPS_STATE_DIR or
.mlops), whatever it holds; a command that fails is reported with its exit code rather than timed.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
from pathlib import Path

from _timing import median_time

REPOSITORY = Path(__file__).resolve().parents[1]
COMMANDS = (
    ["--help"],
    ["models", "list"],
    ["runs", "list"],
    ["lineage", "v1"],
    ["rollout", "status", "--local"],
    ["images", "list"],
)


def run_once(command: list[str]) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *command],
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command; the median is reported")
    args = parser.parse_args()
    print(f"| command | median wall (s) of {args.repeats} | exit |")
    print("|---|---|---|")
    for command in COMMANDS:
        code, seconds = median_time(functools.partial(run_once, command), args.repeats)
        print(f"| mlops {' '.join(command)} | {seconds:.2f} | {code} |")


if __name__ == "__main__":
    main()
