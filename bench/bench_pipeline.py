"""Wall time, start-up and work of every step, peak memory and AUC of the continuous-training pipeline.

Run: ``make bench-pipeline`` (or ``.venv/bin/python bench/bench_pipeline.py``). Every case is one local run
(kfp.local) in one state folder, in this order:

| case | training window | new batch | state folder |
|---|---|---|---|
| 12 months, fresh | January-November | December | new: the feature store is built and the year retrieved |
| 12 months, warm | January-November | December | the same again: store built, retrieval kept, a production model |
| 6 months, warm | January-June | July | the same |
| 1 month, warm | June | July | the same |
| 12 months, warm, subprocess runner | January-November | December | the same, every step a new interpreter |

Every case but the last runs with the default runner (steps forked from the warm step server); the last
is kfp.local's own subprocess runner, for comparison (``--runners`` changes which runners are measured).

Steps run one after another. A step's "start-up" is the time from the previous step's end (the run's
start for the first) to the start it recorded in ML Metadata: process start, imports, kfp's own work.
"work" is what the step recorded in ML Metadata (its end minus its start). "peak MB" is the largest sum
of the proportional set sizes (PSS) of this process and all its descendants (the step server, the steps,
the features worker, the model server) sampled every 0.15 s over the run, or over the step's start-up and
work: the memory the tree holds. "rss MB" is the same for the resident sets, which count every shared page
once per process that maps it (forked steps share the step server's imports), so it errs high. "AUC" is the
candidate's on the new batch, as the evaluate step recorded it. "cpu s" is the user and system time of
this process and all its descendants: other work on a shared machine stretches wall time far more than
it does CPU time, so read wall times beside "load" (the 1-minute load average at the run's end).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _memory import TreeMemorySampler

from cli.output import format_table
from cli.run_summary import find_run
from components.lineage import ExecutionRecord, open_store
from components.settings import ProjectSettings
from pipelines.local_runner import Runner, run_pipeline_locally
from pipelines.training import continuous_training

SIZES: dict[str, dict[str, object]] = {
    "1 month": {"train_months": [6], "eval_month": 7, "previous_month": 6},
    "6 months": {"train_months": list(range(1, 7)), "eval_month": 7, "previous_month": 6},
    "12 months": {"train_months": list(range(1, 12)), "eval_month": 12, "previous_month": 11},
}
MB = 1024 * 1024


@dataclass(frozen=True)
class RunMeasure:
    case: str
    started: float  # time.time() at the run's start
    wall_seconds: float
    cpu_seconds: float  # this process and every waited-for descendant, user + system
    load: float  # the machine's 1-minute load average at the run's end
    steps: list[ExecutionRecord]
    sampler: TreeMemorySampler

    @property
    def auc(self) -> float | None:
        for step in self.steps:
            for output in step.outputs:
                if step.component == "evaluate" and output.name == "evaluation":
                    return float(output.properties["auc"])
        return None


def run_case(
    case: str, arguments: dict[str, object], settings: ProjectSettings, runner: Runner = Runner.FORKED
) -> RunMeasure:
    with TreeMemorySampler() as sampler:
        started, cpu_before = time.time(), _cpu_seconds()
        outcome = run_pipeline_locally(
            continuous_training, settings, {"code_version": "bench", **arguments}, quiet=True, runner=runner
        )
        wall, cpu = time.time() - started, _cpu_seconds() - cpu_before
    if not outcome.succeeded:
        raise SystemExit(f"{case}: the pipeline failed: {outcome.error} (log: {outcome.log_path})")
    with open_store(settings.metadata_uri) as store:
        run_id = find_run(store, outcome.request_id)
        assert run_id is not None
        steps = sorted(store.executions_of_run(run_id), key=lambda record: record.ended)
    return RunMeasure(case, started, wall, cpu, os.getloadavg()[0], steps, sampler)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def step_rows(measure: RunMeasure) -> list[dict[str, str]]:
    rows = []
    previous_end = measure.started
    for step in measure.steps:
        label = step.parameters.get("batch") or step.parameters.get("title") or ""
        months = step.parameters.get("months") if step.component == "ingest" else None
        label = label or (f"months {months}" if months else "")
        begin, end = step.started.timestamp(), step.ended.timestamp()
        rows.append(
            {
                "step": f"{step.component} ({label})" if label else step.component,
                "start-up s": f"{begin - previous_end:.1f}",
                "work s": f"{step.duration_seconds:.1f}",
                "peak MB": f"{measure.sampler.peak_bytes(previous_end, end) / MB:.0f}",
                "rss MB": f"{measure.sampler.peak_bytes(previous_end, end, kind='rss') / MB:.0f}",
            }
        )
        previous_end = end
    return rows


def summary_row(measure: RunMeasure) -> dict[str, str]:
    work = sum(step.duration_seconds for step in measure.steps)
    auc = measure.auc
    return {
        "case": measure.case,
        "wall s": f"{measure.wall_seconds:.1f}",
        "start-up s": f"{measure.wall_seconds - work:.1f}",
        "work s": f"{work:.1f}",
        "cpu s": f"{measure.cpu_seconds:.1f}",
        "peak MB": f"{measure.sampler.peak_bytes() / MB:.0f}",
        "rss MB": f"{measure.sampler.peak_bytes(kind='rss') / MB:.0f}",
        "AUC": f"{auc:.4f}" if auc is not None else "-",
        "steps": str(len(measure.steps)),
        "load": f"{measure.load:.1f}",
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", choices=list(SIZES), default=["12 months", "6 months", "1 month"]
    )
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh run (needs --state-dir)")
    parser.add_argument(
        "--runners",
        nargs="+",
        choices=[Runner.FORKED.value, Runner.SUBPROCESS.value],
        default=[Runner.FORKED.value, Runner.SUBPROCESS.value],
        help="the first runs every case; each other one runs the 12-month warm case, for comparison",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="state folder to run in (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch:
        state_dir = args.state_dir or Path(scratch)
        settings = ProjectSettings.resolve({}, state_dir)
        if args.no_fresh and not (settings.feature_repo / "feature_store.yaml").is_file():
            raise SystemExit(f"--no-fresh needs a state folder whose feature store is built: {state_dir}")
        main_runner, *other_runners = (Runner(name) for name in args.runners)
        cases = [] if args.no_fresh else [("12 months, fresh", SIZES["12 months"], main_runner)]
        cases += [(f"{size}, warm", SIZES[size], main_runner) for size in args.sizes]
        cases += [
            (f"12 months, warm, {runner} runner", SIZES["12 months"], runner) for runner in other_runners
        ]
        measures = []
        for case, arguments, runner in cases:
            measure = run_case(case, arguments, settings, runner)
            measures.append(measure)
            print(f"\n{case}: {measure.wall_seconds:.1f} s for the whole pipeline", flush=True)
            print(
                format_table(step_rows(measure), ["step", "start-up s", "work s", "peak MB", "rss MB"]),
                flush=True,
            )
    print("\nwhole pipeline")
    print(
        format_table(
            [summary_row(measure) for measure in measures],
            ["case", "wall s", "start-up s", "work s", "cpu s", "peak MB", "rss MB", "AUC", "steps", "load"],
        )
    )


if __name__ == "__main__":
    main()
