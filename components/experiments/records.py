"""Experiments in ML Metadata: a context per experiment, an ``ExperimentRun`` action per run.

Each run's action names its parameters, its pipeline run and the model version it registered, which it
takes as an input: the version is thereby attributed to the experiment's context, and its whole lineage
(data, steps, metrics) is one ``mlops lineage`` away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from components.lineage import ActionSpec, LineageStore, PropertyValue
from contracts.errors import ConfigError

EXPERIMENT_TYPE = "Experiment"
RUN_ACTION = "ExperimentRun"
_LABEL_ATTEMPTS = 20


@dataclass(frozen=True)
class ExperimentRun:
    """One run of an experiment as recorded.

    Attributes:
        label: ``r1``, ``r2``, ... in the order the runs were recorded.
        parameters: The knobs it set (the pipeline's defaults hold for the others).
        eval_month: The month of 2013 it was judged on.
        run_id: The pipeline run ("" when none started).
        succeeded: Whether the pipeline run succeeded.
        error: Why it failed, when it did.
        version: The model version it registered ("" when none).
        version_artifact_id: That version's ML Metadata artifact (0 when none).
        wall_seconds: The pipeline run's wall time.
        recorded: When the run was recorded.
    """

    label: str
    parameters: Mapping[str, Any]
    eval_month: int
    run_id: str
    succeeded: bool
    error: str
    version: str
    version_artifact_id: int
    wall_seconds: float
    recorded: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "parameters": dict(self.parameters),
            "eval_month": self.eval_month,
            "run_id": self.run_id,
            "succeeded": self.succeeded,
            "error": self.error,
            "version": self.version,
            "wall_seconds": self.wall_seconds,
            "recorded": self.recorded.isoformat(),
        }


def record_run(
    store: LineageStore,
    experiment: str,
    *,
    parameters: Mapping[str, Any],
    eval_month: int,
    run_id: str,
    succeeded: bool,
    error: str,
    version: str,
    version_artifact_id: int,
    wall_seconds: float,
) -> str:
    """Records a finished run under the experiment's context and returns its label."""
    context = store.ensure_context(EXPERIMENT_TYPE, experiment)
    properties: dict[str, PropertyValue] = {
        "experiment": experiment,
        "parameters": json.dumps(dict(parameters), sort_keys=True),
        "eval_month": eval_month,
        "run_id": run_id,
        "succeeded": succeeded,
        "error": error[-2000:],
        "version": version,
        "wall_seconds": round(wall_seconds, 3),
    }
    inputs = {"model_version": version_artifact_id} if version_artifact_id else {}
    for _ in range(_LABEL_ATTEMPTS):
        # Labels follow the runs already recorded; a writer that took the same label first wins it.
        label = f"r{len(store.actions_of_context(context.id, RUN_ACTION)) + 1}"
        action = ActionSpec(RUN_ACTION, f"{experiment}/{label}", {**properties, "label": label}, inputs)
        if store.commit_actions(context.id, [action]) is not None:
            return label
    raise ConfigError(f"could not record a run of experiment {experiment!r}: too many concurrent writers")


def experiment_runs(store: LineageStore, experiment: str) -> list[ExperimentRun]:
    """Every recorded run of the experiment, in label order.

    Raises:
        ConfigError: when no experiment of that name was ever run.
    """
    context = store.find_context(EXPERIMENT_TYPE, experiment)
    if context is None:
        raise ConfigError(
            f"no experiment named {experiment!r}: start one with `mlops experiment run {experiment}`"
        )
    runs = []
    for action in store.actions_of_context(context.id, RUN_ACTION):
        values = action.properties
        runs.append(
            ExperimentRun(
                label=str(values["label"]),
                parameters=json.loads(str(values["parameters"])),
                eval_month=int(values["eval_month"]),
                run_id=str(values["run_id"]),
                succeeded=bool(values["succeeded"]),
                error=str(values["error"]),
                version=str(values["version"]),
                version_artifact_id=action.inputs[0].id if action.inputs else 0,
                wall_seconds=float(values["wall_seconds"]),
                recorded=action.created,
            )
        )
    return sorted(runs, key=lambda run: int(run.label[1:]))


def find_run(store: LineageStore, experiment: str, label: str) -> ExperimentRun:
    """The run ``label`` (``r2`` or ``2``) of the experiment.

    Raises:
        ConfigError: when the experiment or the run does not exist.
    """
    wanted = label if label.startswith("r") else f"r{label}"
    runs = experiment_runs(store, experiment)
    for run in runs:
        if run.label == wanted:
            return run
    raise ConfigError(
        f"experiment {experiment!r} has no run {label!r}; its runs: {', '.join(r.label for r in runs) or 'none'}"
    )
