"""Wall time of a 4-run sweep on the production pipeline (`mlops experiment run`), run by run.

Run with `make bench-experiments`. The sweep runs in its own state folder (build/bench/experiments by
default), so its candidates never join the registry of `make run`; the first sweep there also builds the
feature store, which the table reports as part of the first run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
GRID = ["--grid", "learning_rate=0.001,0.003", "--grid", "hidden_units=64/32,32"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=REPOSITORY / "build" / "bench" / "experiments")
    parser.add_argument("--months", default="1-6", help="training window of every run (default 1-6)")
    args = parser.parse_args()
    name = f"bench-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "experiment",
        "run",
        name,
        "--months",
        args.months,
        *GRID,
    ]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--json"],
        cwd=REPOSITORY,
        env={**os.environ, "MLOPS_STATE_DIR": str(args.state)},
        capture_output=True,
        text=True,
        check=False,
    )
    total = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"the sweep failed (exit {done.returncode}): {done.stderr[-2000:]}")
    runs = json.loads(done.stdout)["runs"]
    print(f"4-run sweep {name}, months {args.months}, state {args.state}")
    print("| run | parameters | wall (s) | AUC | mark |")
    print("|---|---|---|---|---|")
    for run in runs:
        shown = " ".join(f"{key}={value}" for key, value in run["parameters"].items())
        auc = "-" if run["auc"] is None else f"{run['auc']:.4f}"
        print(f"| {run['label']} | {shown} | {run['wall_seconds']:.1f} | {auc} | {run['mark']} |")
    print(f"| all | | {total:.1f} (with start-up and comparison) | | |")


if __name__ == "__main__":
    main()
