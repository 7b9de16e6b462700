"""Evaluation results as typed records, and their JSON form (what the pipeline stores and compares)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from contracts.errors import EvaluationError

# Files inside an evaluation artifact folder (the evaluate step writes them, the register step reads them).
CANDIDATE_FILE = "candidate.json"
PRODUCTION_FILE = "production.json"
VERDICT_FILE = "verdict.json"

CONFUSION_CATEGORIES: tuple[str, ...] = ("on_time", "delayed")


@dataclass(frozen=True)
class BinaryMetrics:
    """Metrics of one set of rows.

    ``auc`` is None when the rows hold a single class; ``precision`` is 0.0 when nothing is predicted
    delayed. Threshold-dependent metrics (accuracy, precision, recall, f1) use ``threshold``.
    """

    rows: int
    positives: int
    positive_rate: float
    auc: float | None
    log_loss: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    expected_calibration_error: float
    threshold: float


@dataclass(frozen=True)
class SliceMetrics:
    """Metrics of the rows where ``feature == value``; ``gated`` False when too few rows to judge."""

    feature: str
    value: str
    gated: bool
    metrics: BinaryMetrics


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width probability bin of the reliability diagram."""

    lower: float
    upper: float
    rows: int
    mean_predicted: float | None
    observed_rate: float | None


@dataclass(frozen=True)
class FeatureImportance:
    """Drop in AUC when one feature column is shuffled, overall and within each origin."""

    feature: str
    overall: float | None
    by_origin: Mapping[str, float | None]


@dataclass(frozen=True)
class EvaluationResult:
    """Everything measured about one model on one evaluation frame.

    Attributes:
        model_name: Which model this is (``"candidate"``, ``"production"``, or a registry name).
        data_fingerprint: Hash of the evaluation rows; results compare only when it is equal.
        months: Months of the evaluation rows.
        overall: Metrics on every row.
        slices: Per-origin then per-carrier metrics.
        reliability: Calibration bins of the overall rows.
        roc_fpr: ROC false-positive rates (at most 200 points), for ``log_roc_curve``.
        roc_tpr: ROC true-positive rates, same length.
        roc_thresholds: Score thresholds of the ROC points, same length.
        confusion_categories: Class names in matrix order, for ``log_confusion_matrix``.
        confusion_matrix: Rows are actual, columns predicted classes, at ``overall.threshold``.
        importance: Permutation importance per feature, most important first (empty when skipped).
    """

    model_name: str
    data_fingerprint: str
    months: tuple[int, ...]
    overall: BinaryMetrics
    slices: tuple[SliceMetrics, ...]
    reliability: tuple[ReliabilityBin, ...]
    roc_fpr: tuple[float, ...]
    roc_tpr: tuple[float, ...]
    roc_thresholds: tuple[float, ...]
    confusion_categories: tuple[str, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]
    importance: tuple[FeatureImportance, ...] = ()

    def slice(self, feature: str, value: str) -> SliceMetrics | None:
        """The slice ``feature == value``, or None when the evaluation rows had none."""
        return next((s for s in self.slices if s.feature == feature and s.value == value), None)

    def slices_of(self, feature: str) -> tuple[SliceMetrics, ...]:
        """Every slice of one feature, in stored order."""
        return tuple(s for s in self.slices if s.feature == feature)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists when dumped)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> EvaluationResult:
        """Rebuilds a result from ``to_dict`` output.

        Raises:
            EvaluationError: for a missing or malformed field.
        """
        try:
            return cls(
                model_name=values["model_name"],
                data_fingerprint=values["data_fingerprint"],
                months=tuple(values["months"]),
                overall=BinaryMetrics(**values["overall"]),
                slices=tuple(
                    SliceMetrics(
                        feature=s["feature"],
                        value=s["value"],
                        gated=s["gated"],
                        metrics=BinaryMetrics(**s["metrics"]),
                    )
                    for s in values["slices"]
                ),
                reliability=tuple(ReliabilityBin(**b) for b in values["reliability"]),
                roc_fpr=tuple(values["roc_fpr"]),
                roc_tpr=tuple(values["roc_tpr"]),
                roc_thresholds=tuple(values["roc_thresholds"]),
                confusion_categories=tuple(values["confusion_categories"]),
                confusion_matrix=tuple(tuple(row) for row in values["confusion_matrix"]),
                importance=tuple(
                    FeatureImportance(
                        feature=i["feature"], overall=i["overall"], by_origin=dict(i["by_origin"])
                    )
                    for i in values.get("importance", ())
                ),
            )
        except (KeyError, TypeError) as exc:
            raise EvaluationError(f"malformed evaluation result: {exc!r}") from exc


def write_json(document: Mapping[str, Any], path: Path) -> Path:
    """Writes a dict as indented JSON (NaN refused: it is not JSON), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    except ValueError as exc:
        raise EvaluationError(f"cannot write {path}: {exc}") from exc
    return path


def read_json(path: Path) -> dict[str, Any]:
    """Reads a JSON object.

    Raises:
        EvaluationError: when the file is absent or not a JSON object.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise EvaluationError(f"{path} does not hold a JSON object")
    return document


def save_result(result: EvaluationResult, path: Path) -> Path:
    """Writes an evaluation result as JSON."""
    return write_json(result.to_dict(), path)


def load_result(path: Path) -> EvaluationResult:
    """Reads an evaluation result written by ``save_result``."""
    return EvaluationResult.from_dict(read_json(path))


def registry_metrics(result: EvaluationResult) -> dict[str, object]:
    """The headline metrics a registered version carries."""
    return {
        "auc": result.overall.auc,
        # The evaluation rows' size and positives: what an AUC's confidence interval is computed from.
        "rows": result.overall.rows,
        "positives": result.overall.positives,
        "log_loss": result.overall.log_loss,
        "accuracy": result.overall.accuracy,
        "precision": result.overall.precision,
        "recall": result.overall.recall,
        "expected_calibration_error": result.overall.expected_calibration_error,
        "auc_by_origin": {s.value: s.metrics.auc for s in result.slices_of("origin")},
    }
