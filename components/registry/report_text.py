"""Plain-text rendering of a version's lineage report, for people at a terminal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def render_lineage(report: Mapping[str, Any]) -> str:
    """Renders ``version_lineage``'s report as text: the version, its steps, artifacts and stage history.

    Args:
        report: The dict ``version_lineage`` returned (or its JSON round trip).

    Returns:
        Text without a trailing newline.
    """
    version = report["version"]
    this = version["artifact_id"]
    lines = [
        f"{report['model']} {version['version']}  stage={version['stage']}  "
        f"blessed={'yes' if version['blessed'] else 'NO'}",
        f"  model uri:            {version['uri']}",
        f"  run:                  {version['run_id']} ({version['pipeline']})",
        f"  code version:         {version['code_version']}",
        f"  registered:           {version['registered_at']}",
        f"  previous production:  {version['previous_production'] or '-'}",
        f"  metrics:              {_metrics(version['metrics'])}",
        "",
        "blessing checks:",
    ]
    lines += [f"  {_check(check)}" for check in version["blessing_checks"]] or ["  (none recorded)"]
    timing = report["timing"]
    lines += [
        "",
        f"steps, producers first ({timing['wall_seconds']:.1f} s wall, {timing['step_seconds']:.1f} s in steps):",
    ]
    for index, step in enumerate(report["steps"], start=1):
        lines.append(
            f"  {index}. {step['component']}  code={step['code_version']}  {step['state']}  "
            f"{step['started']}  {step['duration_seconds']:.2f} s  run={step['run_id']}"
        )
        if step["parameters"]:
            lines.append(f"       parameters: {_pairs(step['parameters'])}")
        lines += [f"       in  {_artifact(a, this)}" for a in step["inputs"]]
        lines += [f"       out {_artifact(a, this)}" for a in step["outputs"]]
    lines += ["", "artifacts by type:"]
    for type_name, artifacts in report["artifacts"].items():
        lines += [f"  {type_name}: {_artifact(a, this)}" for a in artifacts]
    lines += ["", "stage history:"]
    lines += [
        f"  #{t['sequence']} {t['time']}  {t['from_stage'] or '(new)'} -> {t['to_stage']}  "
        f"[{t['trigger']} by {t['actor']}]  {t['reason']}"
        for t in report["transitions"]
    ]
    return "\n".join(lines)


def _metrics(metrics: Mapping[str, Any]) -> str:
    parts = []
    for key, value in sorted(metrics.items()):
        if isinstance(value, Mapping):
            parts.append(f"{key}({_pairs(value)})")
        else:
            parts.append(f"{key}={_number(value)}")
    return ", ".join(parts) or "-"


def _check(check: Mapping[str, Any]) -> str:
    verdict = "PASS" if check.get("passed") else "FAIL"
    details = _pairs({k: v for k, v in check.items() if k not in ("name", "passed")})
    return f"{verdict} {check.get('name', '?')}" + (f"  {details}" if details else "")


def _artifact(artifact: Mapping[str, Any], version_id: int) -> str:
    text = f"{artifact['name'] or '-'} [{artifact['type']} #{artifact['id']}] {artifact['uri']}"
    if artifact["id"] == version_id:
        # Its properties are the registry fields printed at the top; repeating them buries the chain.
        return f"{text}  (this version)"
    properties = _pairs(artifact["properties"])
    return f"{text}  ({properties})" if properties else text


def _pairs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={_number(value)}" for key, value in sorted(values.items()))


def _number(value: Any) -> str:
    # Metrics are floats with noisy tails; four places is what a person compares at a glance.
    return f"{value:.4f}" if isinstance(value, float) else str(value)
