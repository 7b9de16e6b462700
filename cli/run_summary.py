"""What a finished local run did, read back from the lineage store and the registry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cli.output import format_table
from contracts.errors import LineageError
from pipelines.local_runner import LocalRun

if TYPE_CHECKING:
    from components.lineage import ExecutionRecord, LineageStore


REQUEST_ID_PARAMETER = "request_id"

# The properties worth a glance per output type; the full record is in `mlops runs show RUN --json`.
HIGHLIGHTS = {
    "Dataset": ("rows", "source"),
    "Statistics": ("num_examples", "unreadable"),
    "ValidationReport": ("verdict", "anomalies", "drift_exceeded"),
    "DataApproval": ("verdict",),
    "TimeOrderApproval": ("last_training_departure", "first_new_departure"),
    "Model": ("validation_auc", "epochs_run", "training_seconds"),
    "InfraValidation": ("passed", "single-row p99 latency (ms)", "resident memory (MB)"),
    "Evaluation": ("blessed", "auc", "log_loss", "compared_with"),
    "ModelVersion": ("version", "stage", "blessed"),
}


def find_run(store: LineageStore, request_id: str) -> str | None:
    """The run id whose steps recorded ``request_id``, newest runs first; None if no step ran."""
    for run in sorted(store.list_runs(), key=lambda record: record.created, reverse=True):
        for execution in store.executions_of_run(run.run_id):
            if execution.parameters.get(REQUEST_ID_PARAMETER) == request_id:
                return run.run_id
    return None


def summarise_run(store: LineageStore, run_id: str | None, outcome: LocalRun) -> dict[str, Any]:
    """A JSON-ready summary of a run, with a ``text`` rendering for people."""
    if run_id is None and outcome.succeeded:
        raise LineageError(f"run {outcome.request_id} succeeded but recorded nothing in the lineage store")
    steps = store.executions_of_run(run_id) if run_id else []
    summary: dict[str, Any] = {
        "run_id": run_id,
        "request_id": outcome.request_id,
        "succeeded": outcome.succeeded,
        "steps": [step.to_dict() for step in steps],
    }
    status = "succeeded" if outcome.succeeded else "FAILED"
    lines = [f"run {run_id or '(no step recorded)'} {status}  [request {outcome.request_id}]", ""]
    lines.append(format_table([_row(step) for step in steps], ["step", "state", "seconds", "outputs"]))
    lines.append("")
    lines += _facts(steps, summary)
    failures = [f"{step.component}: {step.error_message}" for step in steps if step.error_message]
    summary["failures"] = failures
    lines += [f"FAILED {failure}" for failure in failures]
    if outcome.error and not failures:
        summary["error"] = outcome.error
        lines.append(f"error: {outcome.error}")
    if outcome.log_path:
        summary["log"] = str(outcome.log_path)
        lines.append(f"steps' logs: {outcome.log_path}")
    summary["text"] = "\n".join(lines)
    return summary


def _row(step: ExecutionRecord) -> dict[str, str]:
    shown = []
    for output in step.outputs:
        keys = HIGHLIGHTS.get(output.type, ())
        values = [f"{key}={output.properties[key]}" for key in keys if key in output.properties]
        if values:
            shown.append(f"{output.name}: " + ", ".join(values))
    label = step.parameters.get("batch") or step.parameters.get("title") or ""
    return {
        "step": f"{step.component} ({label})" if label else step.component,
        "state": step.state.value,
        "seconds": f"{step.duration_seconds:.1f}",
        "outputs": "; ".join(shown),
    }


def _facts(steps: list[ExecutionRecord], summary: dict[str, Any]) -> list[str]:
    """Verdicts, metrics and the registered version, in the words a person looks for."""
    lines = []
    outputs = {output.type: output.properties for step in steps for output in step.outputs}
    verdicts = [
        f"{step.parameters.get('batch')}: {output.properties['verdict']}"
        for step in steps
        for output in step.outputs
        if output.type == "ValidationReport"
    ]
    if verdicts:
        summary["validation"] = verdicts
        lines.append("validation verdict    " + "; ".join(verdicts))
    version = outputs.get("ModelVersion")
    if version:
        metrics = json.loads(str(version.get("metrics", "{}")))
        summary["metrics"] = metrics
        by_origin = ", ".join(
            f"{origin} {auc:.3f}" for origin, auc in metrics.get("auc_by_origin", {}).items() if auc
        )
        lines.append(
            f"evaluation            AUC {metrics.get('auc', 0):.3f}, log loss {metrics.get('log_loss', 0):.3f}, "
            f"accuracy {metrics.get('accuracy', 0):.3f}; AUC by origin: {by_origin}"
        )
        checks = json.loads(str(version.get("blessing_checks", "[]")))
        failed = [check["name"] for check in checks if not check["passed"]]
        blessing = "blessed" if version.get("blessed") else "NOT blessed, failed: " + ", ".join(failed)
        summary["blessing"] = {"blessed": version.get("blessed"), "checks": len(checks), "failed": failed}
        lines.append(
            f"blessing              {blessing} ({len(checks) - len(failed)}/{len(checks)} checks passed)"
        )
        summary["registered"] = {"version": version.get("version"), "stage": version.get("stage")}
        lines.append(f"registered            {version.get('version')} as {version.get('stage')}")
    return lines
