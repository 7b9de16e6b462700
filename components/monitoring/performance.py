"""Live performance: the production model's metrics on rows whose true outcome came back, next to the
metrics its evaluation recorded. The metrics are the evaluation step's own functions, so "AUC" means the
same computation in both places; accuracy uses the model's own decision threshold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from components.evaluate.results import BinaryMetrics
from components.evaluate.slices import binary_metrics
from components.monitoring.config import PerformanceConfig
from contracts.data_contract import LABEL


@dataclass(frozen=True)
class PerformanceCheck:
    """One comparison of a live metric with its evaluation value.

    Attributes:
        name: ``auc_drop``, ``accuracy_drop``, ``log_loss_increase`` or ``calibration_error``.
        live: The live metric.
        evaluated: The evaluation's value (None for the absolute calibration check or when unrecorded).
        value: What is compared with the limit (a drop, an increase, or the live value itself).
        limit: The most ``value`` may be.
    """

    name: str
    live: float | None
    evaluated: float | None
    value: float | None
    limit: float

    @property
    def degraded(self) -> bool:
        return self.value is not None and self.value > self.limit

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "degraded": self.degraded}


@dataclass(frozen=True)
class LivePerformance:
    """Live metrics of the window and how they compare.

    Attributes:
        labelled_rows: Rows of the window with their outcome back.
        metrics: Live metrics; None below ``min_labelled_rows``.
        checks: The comparisons; empty when not judged.
    """

    labelled_rows: int
    metrics: BinaryMetrics | None
    checks: tuple[PerformanceCheck, ...]

    @property
    def judged(self) -> bool:
        return self.metrics is not None

    @property
    def degraded(self) -> tuple[PerformanceCheck, ...]:
        return tuple(c for c in self.checks if c.degraded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "labelled_rows": self.labelled_rows,
            "judged": self.judged,
            "metrics": asdict(self.metrics) if self.metrics else None,
            "checks": [c.to_dict() for c in self.checks],
        }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _difference(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else first - second


def live_performance(
    rows: pd.DataFrame,
    evaluation: Mapping[str, Any],
    config: PerformanceConfig,
    *,
    decision_threshold: float | None,
) -> LivePerformance:
    """Measures the labelled rows of a window and compares them with the evaluation metrics.

    Args:
        rows: Window rows with ``prediction`` and ``delayed`` (missing where no outcome came back).
        evaluation: The version's registry metrics (``auc``, ``accuracy``, ``log_loss``).
        config: Limits and the labelled rows needed.
        decision_threshold: The model's threshold; without it accuracy is not compared.
    """
    labelled = rows[rows[LABEL].notna()]
    count = len(labelled)
    if count < config.min_labelled_rows:
        return LivePerformance(labelled_rows=count, metrics=None, checks=())
    labels = labelled[LABEL].astype("int64").to_numpy()
    scores = labelled["prediction"].to_numpy(dtype=np.float64)
    metrics = binary_metrics(labels, scores, decision_threshold if decision_threshold is not None else 0.5)
    auc, accuracy, log_loss = (_number(evaluation.get(k)) for k in ("auc", "accuracy", "log_loss"))
    checks = [
        PerformanceCheck("auc_drop", metrics.auc, auc, _difference(auc, metrics.auc), config.max_auc_drop),
        PerformanceCheck(
            "log_loss_increase",
            metrics.log_loss,
            log_loss,
            _difference(metrics.log_loss, log_loss),
            config.max_log_loss_increase,
        ),
        PerformanceCheck(
            "calibration_error",
            metrics.expected_calibration_error,
            None,
            metrics.expected_calibration_error,
            config.max_calibration_error,
        ),
    ]
    if decision_threshold is not None:
        checks.insert(
            1,
            PerformanceCheck(
                "accuracy_drop",
                metrics.accuracy,
                accuracy,
                _difference(accuracy, metrics.accuracy),
                config.max_accuracy_drop,
            ),
        )
    return LivePerformance(labelled_rows=count, metrics=metrics, checks=tuple(checks))
