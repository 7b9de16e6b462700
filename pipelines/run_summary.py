"""What a finished local run did, read back from the lineage store."""

from __future__ import annotations

from typing import Any

from components.errors import LineageError
from components.lineage import LineageStore
from pipelines.local_runner import LocalRun
from pipelines.output import format_table

REQUEST_ID_PARAMETER = "request_id"


def find_run(store: LineageStore, request_id: str) -> str | None:
    """The run id whose first step recorded ``request_id``, newest runs first; None if no step ran."""
    for run in sorted(store.list_runs(), key=lambda record: record.created, reverse=True):
        for execution in store.executions_of_run(run.run_id):
            if execution.parameters.get(REQUEST_ID_PARAMETER) == request_id:
                return run.run_id
    return None


def summarise_run(store: LineageStore, run_id: str | None, outcome: LocalRun) -> dict[str, Any]:
    """A JSON-ready summary of a run, with a ``text`` rendering for people."""
    if run_id is None:
        if outcome.succeeded:
            raise LineageError(
                f"run {outcome.request_id} succeeded but recorded nothing in the lineage store"
            )
        steps: list[dict[str, Any]] = []
    else:
        steps = [record.to_dict() for record in store.executions_of_run(run_id)]
    summary: dict[str, Any] = {
        "run_id": run_id,
        "request_id": outcome.request_id,
        "succeeded": outcome.succeeded,
        "error": outcome.error,
        "steps": steps,
    }
    rows = [
        {
            "step": step["component"],
            "state": step["state"],
            "seconds": f"{step['duration_seconds']:.2f}",
            "outputs": ", ".join(f"{o['name']} ({_describe(o['properties'])})" for o in step["outputs"]),
        }
        for step in steps
    ]
    status = "succeeded" if outcome.succeeded else "FAILED"
    lines = [f"run {run_id or '(no step recorded)'} {status}  [request {outcome.request_id}]"]
    lines.append(format_table(rows, ["step", "state", "seconds", "outputs"]))
    verdicts = [
        o["properties"]["verdict"]
        for step in steps
        for o in step["outputs"]
        if o["type"] == "ValidationReport"
    ]
    if verdicts:
        summary["validation_verdict"] = verdicts[-1]
        lines.append(f"validation verdict: {verdicts[-1]}")
    failures = [f"{step['component']}: {step['error_message']}" for step in steps if step["error_message"]]
    if failures:
        summary["failures"] = failures
        lines += [f"FAILED {failure}" for failure in failures]
    elif outcome.error:
        lines.append(f"error: {outcome.error}")
    if outcome.log_path:
        summary["log"] = str(outcome.log_path)
        lines.append(f"steps' logs: {outcome.log_path}")
    summary["text"] = "\n".join(lines)
    return summary


def _describe(properties: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(properties.items()))
