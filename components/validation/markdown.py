"""The validation report as Markdown, for the KFP dashboard's Markdown viewer."""

from __future__ import annotations

from components.validation.report import DriftMeasurement, ValidationReport

_METRIC_NAMES = {"jensen_shannon_divergence": "JS divergence", "l_infinity": "L-infinity"}
_NEXT_STEP = {
    "halt": "the batch breaks the schema: fix the data (or, if the world changed, the schema) before training",
    "retrain": "the batch is valid but its distribution moved beyond a threshold: retrain on it",
    "proceed": "the batch is valid and close to the previous one",
}


def _cell(text: str) -> str:
    # A pipe or newline inside a cell would break the table.
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _order(measurement: DriftMeasurement) -> tuple[str, bool, float, str]:
    ratio = measurement.value / measurement.threshold if measurement.threshold else 0.0
    return (measurement.comparison, not measurement.exceeded, -ratio, measurement.feature)


def render_report_markdown(report: ValidationReport) -> str:
    """Renders the verdict, a table of anomalies and a table of measured drift and skew.

    Args:
        report: The report to render.

    Returns:
        Markdown text ending with a newline.
    """
    lines = [
        f"## Data validation of `{_cell(report.batch)}`: **{report.verdict.upper()}**",
        "",
        f"{_NEXT_STEP[report.verdict]}. Rows: {report.num_examples:,}.",
        "",
        f"### Schema anomalies ({len(report.anomalies)})",
        "",
    ]
    if report.anomalies:
        lines += ["| feature | anomaly type | description |", "|---|---|---|"]
        lines += [f"| `{_cell(a.feature)}` | `{a.type}` | {_cell(a.description)} |" for a in report.anomalies]
    else:
        lines.append("None.")
    exceeded = len(report.exceeded)
    lines += ["", f"### Drift and skew ({len(report.measurements)} measured, {exceeded} above threshold)", ""]
    if report.measurements:
        lines += [
            "| comparison | feature | metric | value | threshold | exceeded |",
            "|---|---|---|---:|---:|---|",
        ]
        lines += [
            f"| {m.comparison} | `{m.feature}` | {_METRIC_NAMES[m.metric]} | {m.value:.4f} | {m.threshold:.4f} "
            f"| {'**yes**' if m.exceeded else 'no'} |"
            for m in sorted(report.measurements, key=_order)
        ]
    elif not report.unmeasured:
        lines.append("Not measured (no previous batch or serving statistics were given).")
    if report.unmeasured:
        names = ", ".join(f"{u.comparison} `{u.feature}`" for u in report.unmeasured)
        lines += ["", f"Could not be measured (the other batch has no values for them): {names}."]
    return "\n".join(lines) + "\n"
