"""The Markdown report that explains a verdict to a person reading the KFP run."""

from __future__ import annotations

from collections.abc import Sequence

from components.evaluate.blessing import Verdict
from components.evaluate.results import BinaryMetrics, EvaluationResult, SliceMetrics
from components.evaluate.slices import CARRIER, ORIGIN
from contracts.data_contract import ORIGINS

PASS, FAIL = "✅", "❌"
_METRICS = ("auc", "log_loss", "accuracy", "precision", "recall", "f1", "expected_calibration_error")


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _metric(metrics: BinaryMetrics, name: str) -> float | None:
    value = getattr(metrics, name)
    return None if value is None else float(value)


def _overall_section(candidate: EvaluationResult, production: EvaluationResult | None) -> list[str]:
    header = ["metric", "candidate"] + (["production", "change"] if production else [])
    rows = []
    for name in _METRICS:
        value = _metric(candidate.overall, name)
        row = [name, _number(value)]
        if production is not None:
            other = _metric(production.overall, name)
            change = None if value is None or other is None else value - other
            row += [_number(other), "n/a" if change is None else f"{change:+.4f}"]
        rows.append(row)
    return ["## Overall metrics", "", *_table(header, rows)]


def _checks_section(verdict: Verdict) -> list[str]:
    rows = [
        [
            PASS if check.passed else FAIL,
            f"`{check.name}`",
            check.description,
            _number(check.value),
            f"{check.threshold:g}",
        ]
        for check in verdict.checks
    ]
    return ["## Checks", "", *_table(["", "check", "rule", "measured", "threshold"], rows)]


def _slice_rows(slices: Sequence[SliceMetrics]) -> list[list[str]]:
    return [
        [
            f"{item.value}",
            str(item.metrics.rows),
            f"{item.metrics.positive_rate:.1%}",
            _number(item.metrics.auc),
            _number(item.metrics.log_loss),
            _number(item.metrics.precision),
            _number(item.metrics.recall),
            _number(item.metrics.expected_calibration_error),
            "yes" if item.gated else "no (too few rows or one class)",
        ]
        for item in slices
    ]


def _slices_section(candidate: EvaluationResult) -> list[str]:
    header = ["slice", "rows", "delayed", "AUC", "log loss", "precision", "recall", "ECE", "gated"]
    return [
        "## Slices by origin",
        "",
        *_table(header, _slice_rows(candidate.slices_of(ORIGIN))),
        "",
        "## Slices by carrier",
        "",
        *_table(header, _slice_rows(candidate.slices_of(CARRIER))),
    ]


def _calibration_section(candidate: EvaluationResult) -> list[str]:
    rows = [
        [
            f"{b.lower:.1f} to {b.upper:.1f}",
            str(b.rows),
            _number(b.mean_predicted, 3),
            _number(b.observed_rate, 3),
        ]
        for b in candidate.reliability
    ]
    return [
        "## Calibration",
        "",
        *_table(["predicted", "rows", "mean predicted", "observed delay rate"], rows),
    ]


def _confusion_section(candidate: EvaluationResult) -> list[str]:
    categories = candidate.confusion_categories
    rows = [
        [f"actual {categories[index]}", *(str(count) for count in row)]
        for index, row in enumerate(candidate.confusion_matrix)
    ]
    return [
        f"## Confusion matrix (threshold {candidate.overall.threshold:g})",
        "",
        *_table(["", *(f"predicted {name}" for name in categories)], rows),
    ]


def _importance_section(candidate: EvaluationResult) -> list[str]:
    if not candidate.importance:
        return []
    rows = [
        [
            f"`{item.feature}`",
            _number(item.overall),
            *(_number(item.by_origin.get(origin)) for origin in ORIGINS),
        ]
        for item in candidate.importance
    ]
    return [
        "## Permutation importance (AUC drop when the feature is shuffled)",
        "",
        *_table(["feature", "overall", *ORIGINS], rows),
    ]


def render_report(
    candidate: EvaluationResult, verdict: Verdict, production: EvaluationResult | None = None
) -> str:
    """The whole report: verdict, overall metrics, checks, slices, calibration, confusion, importance.

    Args:
        candidate: The candidate's evaluation.
        verdict: The judgement of that evaluation.
        production: The production model's evaluation on the same rows, when there is one.

    Returns:
        Markdown text, self-contained (no images, no external links).
    """
    title = "BLESSED" if verdict.blessed else "NOT BLESSED"
    comparison = (
        "compared with the production model on the same rows"
        if verdict.compared_with_production
        else "first model: judged by absolute thresholds only"
    )
    months = ", ".join(str(month) for month in candidate.months) or "n/a"
    lines = [
        f"# Evaluation of `{candidate.model_name}`: {PASS if verdict.blessed else FAIL} {title}",
        "",
        f"{verdict.summary()} ({comparison}).",
        "",
        f"Evaluated on {candidate.overall.rows} rows of month(s) {months}; "
        f"{candidate.overall.positive_rate:.1%} delayed; decision threshold {candidate.overall.threshold:g}.",
        "",
        *_overall_section(candidate, production),
        "",
        *_checks_section(verdict),
        "",
        *_slices_section(candidate),
        "",
        *_calibration_section(candidate),
        "",
        *_confusion_section(candidate),
        "",
        *_importance_section(candidate),
    ]
    return "\n".join(lines).rstrip() + "\n"
