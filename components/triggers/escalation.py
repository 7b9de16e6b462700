"""When retraining again would not help: a major change, answered by an experiment cycle, not a retrain.

Monitoring's output either retrains (a minor change: the same pipeline on newer data) or starts a new
experiment cycle (a major change). A degradation of a model that was itself the retraining of a
degradation is the sign of the second kind: the last retraining did not recover, so a third run of the
same parameters would only repeat it. The cycle is a wider sweep of the pipeline's knobs, named for its
cause, recorded in the trigger ledger, explained in a report for people, and never promoted by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from components.lineage import LineageStore
from components.registry import ModelVersion
from components.triggers.kinds import TriggerKind
from components.triggers.window import DataWindow

# The wider sweep: step sizes a decade apart around the default, and a wider network beside the default.
WIDE_SWEEP: tuple[str, ...] = ("learning_rate=0.0003,0.001,0.003", "hidden_units=64/32,128/64")


@dataclass(frozen=True)
class Escalation:
    """A major change and the experiment cycle that answers it.

    Attributes:
        cause: Why retraining again would not help, in words for people.
        experiment: The cycle's experiment name, after its cause.
        grid: The sweep's ``--grid`` assignments.
    """

    cause: str
    experiment: str
    grid: tuple[str, ...] = WIDE_SWEEP


def unrecovered_degradation(store: LineageStore, production: ModelVersion) -> str | None:
    """Why a degradation of ``production`` is a major change, or None when retraining may still recover.

    It is one when ``production`` was registered by a run that a degradation itself started: that
    retraining took over and live performance is below threshold again.
    """
    register_step = store.producer(production.artifact_id)
    started_by = register_step.parameters.get("trigger") if register_step else None
    if started_by != TriggerKind.DEGRADATION.value:
        return None
    return (
        f"{production.version} was itself retrained because live performance degraded, and its own live "
        "performance is below threshold again: the last retraining did not recover, so retraining with the "
        "same parameters a third time would not either"
    )


def escalate(cause: str, kind: TriggerKind, now: float) -> Escalation:
    """The experiment cycle for ``cause``, named after the trigger and the moment."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dt%H%M%S")
    return Escalation(cause=cause, experiment=f"major-{kind.value}-{stamp}")


def write_escalation_report(
    path: Path, escalation: Escalation, *, model: str, window: DataWindow, evidence: str
) -> Path:
    """The report for people: what happened, why it is a major change, what runs, and what to do next."""
    grid = " ".join(f"--grid {assignment}" for assignment in escalation.grid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"# Major change: {escalation.experiment}\n\n"
        f"Model **{model}**.\n\n"
        f"## Why not retrain again\n\n{escalation.cause}.\n\n"
        f"What the monitor measured: {evidence or 'see the latest monitor report'}.\n\n"
        "## What runs\n\n"
        f"An experiment cycle instead of a retraining: `mlops experiment run {escalation.experiment} "
        f"{grid} --months {window.train_months[0]}-{window.train_months[-1]}` ({window.describe()}). "
        "Each run registers a candidate; nothing is promoted by this cycle.\n\n"
        "## What to do next\n\n"
        f"1. Compare the runs: `mlops experiment compare {escalation.experiment} --html compare.html`.\n"
        "2. If the cause lies outside these knobs (new features, a changed schema upstream, a shift no "
        "window covers), change the pipeline itself.\n"
        f"3. Promote a winner through the usual blessing: `mlops experiment promote {escalation.experiment} RUN`.\n",
        encoding="utf-8",
    )
    return path
