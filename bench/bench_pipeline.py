"""Wall time of every step and of the whole continuous-training pipeline on 1, 6 and 12 months.

Run: ``make bench-pipeline`` (or ``.venv/bin/python bench/bench_pipeline.py``). Each size is one fresh
local run (kfp.local, its own lineage store). Steps run one after another, so a step's wall time is the
time from the previous step's end to its own end: process start, imports and work. "work" is the time
the step itself recorded in ML Metadata, without start-up.

| size | training window | new batch |
|---|---|---|
| 1 month | June | July |
| 6 months | January-June | July |
| 12 months | January-November | December (the year's twelve months in one run) |
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cli.output import format_table
from cli.run_summary import find_run
from components.lineage import ExecutionRecord, open_store
from components.settings import ProjectSettings
from pipelines.local_runner import run_pipeline_locally
from pipelines.training import continuous_training

SIZES: dict[str, dict[str, object]] = {
    "1 month": {"train_months": [6], "eval_month": 7, "previous_month": 6},
    "6 months": {"train_months": list(range(1, 7)), "eval_month": 7, "previous_month": 6},
    "12 months": {"train_months": list(range(1, 12)), "eval_month": 12, "previous_month": 11},
}


def run_size(arguments: dict[str, object]) -> tuple[float, list[ExecutionRecord]]:
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        settings = ProjectSettings.resolve({}, Path(folder))
        started = time.perf_counter()
        outcome = run_pipeline_locally(
            continuous_training, settings, {"code_version": "bench", **arguments}, quiet=True
        )
        wall = time.perf_counter() - started
        if not outcome.succeeded:
            raise SystemExit(f"the pipeline failed: {outcome.error} (log: {outcome.log_path})")
        with open_store(settings.metadata_uri) as store:
            run_id = find_run(store, outcome.request_id)
            assert run_id is not None
            return wall, store.executions_of_run(run_id)


def step_rows(steps: Sequence[ExecutionRecord]) -> list[dict[str, str]]:
    rows = []
    previous_end: datetime | None = None
    for step in sorted(steps, key=lambda record: record.ended):
        label = step.parameters.get("batch") or step.parameters.get("title") or ""
        since: float | None = (step.ended - previous_end).total_seconds() if previous_end else None
        previous_end = step.ended
        rows.append(
            {
                "step": f"{step.component} ({label})" if label else step.component,
                "wall s": f"{since:.1f}" if since is not None else "-",
                "work s": f"{step.duration_seconds:.1f}",
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    args = parser.parse_args(argv)
    totals = []
    for size in args.sizes:
        wall, steps = run_size(SIZES[size])
        print(f"\n{size}: {wall:.1f} s for the whole pipeline")
        print(format_table(step_rows(steps), ["step", "wall s", "work s"]))
        totals.append({"size": size, "pipeline s": f"{wall:.1f}", "steps": str(len(steps))})
    print("\nwhole pipeline")
    print(format_table(totals, ["size", "pipeline s", "steps"]))


if __name__ == "__main__":
    main()
