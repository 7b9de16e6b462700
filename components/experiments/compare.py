"""One table of an experiment's runs, on the same evaluation month, with the noise in each AUC stated.

A winner is marked only against a confidence interval: the difference between each run's AUC and the
best one gets a 95% interval from Hanley and McNeil's standard error of an AUC (1982), combined as if the
two AUCs were independent. The runs are scored on the same rows, which correlates their errors, so the
true interval is narrower: this one is conservative, and a difference it cannot tell from zero is reported
as a tie, never as progress.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.experiments.records import ExperimentRun

Z_95 = 1.959964
ORIGINS = ("EWR", "JFK", "LGA")


@dataclass(frozen=True)
class RunFacts:
    """What the registry and lineage hold about one run's model (None where nothing was recorded)."""

    stage: str | None = None
    blessed: bool | None = None
    metrics: Mapping[str, Any] | None = None
    training_seconds: float | None = None
    model_size_mb: float | None = None


@dataclass(frozen=True)
class ComparedRun:
    """One row of the comparison.

    Attributes:
        mark: ``best``, ``tie`` (the interval of its difference to the best includes 0), ``worse`` (the
            interval lies above 0) or ``failed``.
        auc_gap: The best AUC minus this one's; None without an AUC.
        auc_gap_ci: The 95% interval of that gap; None when rows and positives were not recorded.
    """

    run: ExperimentRun
    facts: RunFacts
    auc: float | None
    auc_se: float | None
    auc_gap: float | None
    auc_gap_ci: tuple[float, float] | None
    mark: str

    def to_dict(self) -> dict[str, Any]:
        metrics = self.facts.metrics or {}
        return {
            **self.run.to_dict(),
            "stage": self.facts.stage,
            "blessed": self.facts.blessed,
            "auc": self.auc,
            "auc_se": self.auc_se,
            "auc_gap_to_best": self.auc_gap,
            "auc_gap_ci95": list(self.auc_gap_ci) if self.auc_gap_ci else None,
            "auc_by_origin": dict(metrics.get("auc_by_origin") or {}),
            "log_loss": metrics.get("log_loss"),
            "training_seconds": self.facts.training_seconds,
            "model_size_mb": self.facts.model_size_mb,
            "mark": self.mark,
        }


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley and McNeil's standard error of an AUC measured on ``positives`` and ``negatives`` rows.

    Example:
        >>> round(auc_standard_error(0.75, 100, 300), 4)
        0.0305
    """
    if positives < 1 or negatives < 1:
        raise ValueError("an AUC needs at least one positive and one negative row")
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    return math.sqrt(max(variance, 0.0))


def compare(runs: Sequence[ExperimentRun], facts: Mapping[str, RunFacts]) -> list[ComparedRun]:
    """The rows of the comparison, in run order, the best AUC marked and every gap to it bounded."""
    measured = []
    for run in runs:
        fact = facts.get(run.label, RunFacts())
        metrics = fact.metrics or {}
        auc = metrics.get("auc")
        se = None
        if auc is not None and metrics.get("rows") and metrics.get("positives") is not None:
            rows, positives = int(metrics["rows"]), int(metrics["positives"])
            se = auc_standard_error(float(auc), positives, rows - positives)
        measured.append((run, fact, None if auc is None else float(auc), se))
    scored = [entry for entry in measured if entry[2] is not None]
    best = max(scored, key=lambda entry: entry[2] or 0.0) if scored else None
    compared = []
    for run, fact, auc, se in measured:
        if auc is None or best is None:
            compared.append(ComparedRun(run, fact, auc, se, None, None, "failed"))
            continue
        gap = (best[2] or 0.0) - auc
        interval = None
        if se is not None and best[3] is not None:
            half = Z_95 * math.sqrt(se * se + best[3] * best[3])
            interval = (gap - half, gap + half)
        if run.label == best[0].label:
            mark = "best"
        elif interval is not None and interval[0] > 0:
            mark = "worse"
        else:
            mark = "tie"
        compared.append(ComparedRun(run, fact, auc, se, gap, interval, mark))
    return compared


def swept_keys(runs: Sequence[ExperimentRun]) -> list[str]:
    """The parameters whose value differs between runs, in the order they first appear."""
    keys: list[str] = []
    for run in runs:
        keys += [key for key in run.parameters if key not in keys]
    return [key for key in keys if len({_shown(run.parameters.get(key)) for run in runs}) > 1]


def render_text(experiment: str, rows: Sequence[ComparedRun]) -> str:
    """The comparison as a fixed-width table for a terminal."""
    table = _table(rows, log_loss=True)
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    lines = [f"experiment {experiment}: {len(rows)} run(s), judged on month {_months(rows)} of 2013"]
    for index, line in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append(
        "gap to best: the best AUC minus the run's, with a conservative 95% interval (Hanley-McNeil, "
        "unpaired); 'tie' = the interval includes 0, so the difference may be noise"
    )
    return "\n".join(lines)


def render_html(experiment: str, rows: Sequence[ComparedRun]) -> str:
    """A self-contained page (no external fetches): the table, and AUC against each swept parameter."""
    header, *lines = _table(rows, log_loss=False)
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = []
    for row, cells in zip(rows, lines, strict=True):
        style = ' style="font-weight:bold"' if row.mark == "best" else ""
        body.append(f"<tr{style}>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    plots = "".join(_plot(key, rows) for key in swept_keys([row.run for row in rows]))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>experiment {html.escape(experiment)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}figure{display:inline-block;margin:1em}</style>"
        f"</head><body><h1>Experiment {html.escape(experiment)}</h1>"
        f"<p>{len(rows)} run(s), every one judged on month {_months(rows)} of 2013. The gap to the best AUC "
        "carries a conservative 95% interval (Hanley-McNeil, unpaired): a 'tie' may be noise.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"<h2>AUC against each swept parameter (bars: ±1.96 standard errors)</h2>{plots or '<p>nothing was swept</p>'}"
        "</body></html>\n"
    )


def _table(rows: Sequence[ComparedRun], *, log_loss: bool) -> list[list[str]]:
    """The header and one line of cells per run, shared by the text and the HTML renderings."""
    keys = sorted({key for row in rows for key in row.run.parameters})
    loss_header = ["log loss"] if log_loss else []
    header = ["run", *keys, "version", "stage", "AUC", "gap to best [95% CI]", *ORIGINS, *loss_header]
    table = [[*header, "train s", "MB", ""]]
    for row in rows:
        metrics = row.facts.metrics or {}
        by_origin = metrics.get("auc_by_origin") or {}
        table.append(
            [
                row.run.label,
                *(_shown(row.run.parameters.get(key, "-")) for key in keys),
                row.run.version or "-",
                row.facts.stage or "-",
                _number(row.auc),
                _gap(row),
                *(_number(by_origin.get(origin)) for origin in ORIGINS),
                *([_number(metrics.get("log_loss"))] if log_loss else []),
                _number(row.facts.training_seconds, 1),
                _number(row.facts.model_size_mb, 2),
                _mark_text(row),
            ]
        )
    return table


def _plot(key: str, rows: Sequence[ComparedRun]) -> str:
    points = [row for row in rows if row.auc is not None]
    if not points:
        return ""
    values = [row.run.parameters.get(key) for row in points]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    numeric = len(numbers) == len(values)
    categories = sorted({_shown(value) for value in values})
    width, height, margin = 360, 220, 40

    def x_of(value: Any) -> float:
        if numeric:
            low, high = min(numbers), max(numbers)
            share = 0.5 if high == low else (float(value) - low) / (high - low)
        else:
            share = (categories.index(_shown(value)) + 0.5) / len(categories)
        return margin + share * (width - 2 * margin)

    spans = [(row.auc or 0.0) - Z_95 * (row.auc_se or 0.0) for row in points]
    tops = [(row.auc or 0.0) + Z_95 * (row.auc_se or 0.0) for row in points]
    low, high = min(spans), max(tops)
    if high - low < 1e-6:
        low, high = low - 0.005, high + 0.005

    def y_of(auc: float) -> float:
        return height - margin - (auc - low) / (high - low) * (height - 2 * margin)

    marks = []
    for row, value in zip(points, values, strict=True):
        x, auc, se = x_of(value), row.auc or 0.0, row.auc_se or 0.0
        colour = "#c00" if row.mark == "best" else "#036"
        marks.append(
            f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{y_of(auc - Z_95 * se):.1f}' y2='{y_of(auc + Z_95 * se):.1f}' "
            f"stroke='{colour}'/><circle cx='{x:.1f}' cy='{y_of(auc):.1f}' r='4' fill='{colour}'>"
            f"<title>{html.escape(row.run.label)}: {key}={html.escape(_shown(value))}, AUC {auc:.4f}</title></circle>"
            f"<text x='{x:.1f}' y='{height - margin + 14}' font-size='10' text-anchor='middle'>"
            f"{html.escape(_shown(value))}</text>"
        )
    axis = (
        f"<line x1='{margin}' x2='{margin}' y1='{margin}' y2='{height - margin}' stroke='#888'/>"
        f"<text x='4' y='{y_of(high) + 4:.1f}' font-size='10'>{high:.3f}</text>"
        f"<text x='4' y='{y_of(low) + 4:.1f}' font-size='10'>{low:.3f}</text>"
    )
    return (
        f"<figure><svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>{axis}{''.join(marks)}"
        f"</svg><figcaption>AUC against {html.escape(key)}</figcaption></figure>"
    )


def _months(rows: Sequence[ComparedRun]) -> str:
    return ", ".join(str(month) for month in sorted({row.run.eval_month for row in rows})) or "-"


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "/".join(str(part) for part in value)
    return "-" if value is None else str(value)


def _number(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"


def _gap(row: ComparedRun) -> str:
    if row.auc_gap is None:
        return "-"
    if row.mark == "best":
        return "0"
    interval = f" [{row.auc_gap_ci[0]:+.4f}, {row.auc_gap_ci[1]:+.4f}]" if row.auc_gap_ci else ""
    return f"{row.auc_gap:+.4f}{interval}"


def _mark_text(row: ComparedRun) -> str:
    return {"best": "★ best", "tie": "tie (noise)", "worse": "worse", "failed": "failed"}[row.mark]
