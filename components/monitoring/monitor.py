"""One look at production: the window of served rows, its data checks, live performance, and the verdict.

Example:
    >>> with open_store(settings.metadata_uri) as store:
    ...     registry = ModelRegistry(store)
    ...     reference = load_reference(store, registry, registry.production().version)
    >>> result = check_production(
    ...     read_served(state / "requests"), read_feedback(state / "feedback"), reference,
    ...     config=load_monitor_config(), thresholds=load_thresholds(), schema=load_schema(), now=time.time())
    >>> result.status, result.reasons
    ('retrain', ('drift of temp: jensen_shannon_divergence 0.645 > 0.45', ...))
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tensorflow_metadata.proto.v0 import schema_pb2

from components.monitoring.config import MonitorConfig
from components.monitoring.data_checks import DataChecks, check_data
from components.monitoring.performance import LivePerformance, PerformanceCheck, live_performance
from components.monitoring.reference import ModelReference
from components.monitoring.served import ServedLog
from components.monitoring.window import ServedWindow, select_window
from components.validation.config import Thresholds
from components.validation.report import DriftMeasurement
from contracts.names import MODEL_NAME


class Signal(enum.StrEnum):
    """Why the monitor asks for retraining: the kinds of trigger it raises."""

    DRIFT = "drift"  # served data moved away from the training data (drift or skew)
    DEGRADATION = "degradation"  # live metrics fell below what evaluation measured


class Status(enum.StrEnum):
    HEALTHY = "healthy"
    RETRAIN = "retrain"
    INSUFFICIENT_DATA = "insufficient-data"


@dataclass(frozen=True)
class MonitorResult:
    """What one check found.

    Attributes:
        model: The registered model.
        reference: The production version and what it is compared with.
        checked_at: Unix time of the check (the window's end).
        window: The served rows judged.
        refused: Requests in the logs the server refused (they carry no prediction).
        unreadable_lines: Request log lines that could not be used.
        data: Drift and skew; None when the window is below ``min_rows``.
        performance: Live metrics against evaluation.
        min_rows: The window size the data checks need.
    """

    model: str
    reference: ModelReference
    checked_at: float
    window: ServedWindow
    refused: int
    unreadable_lines: int
    data: DataChecks | None
    performance: LivePerformance
    min_rows: int

    @property
    def version(self) -> str:
        return self.reference.version.version

    @property
    def signals(self) -> tuple[Signal, ...]:
        found = []
        if self.data is not None and self.data.acted_on:
            found.append(Signal.DRIFT)
        if self.performance.degraded:
            found.append(Signal.DEGRADATION)
        return tuple(found)

    @property
    def status(self) -> Status:
        if self.signals:
            return Status.RETRAIN
        if self.data is None and not self.performance.judged:
            return Status.INSUFFICIENT_DATA
        return Status.HEALTHY

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every finding behind the signals, in words with the measured values."""
        found = [_measurement_reason(m) for m in (self.data.acted_on if self.data else ())]
        found += [_performance_reason(c) for c in self.performance.degraded]
        return tuple(found)

    @property
    def notes(self) -> tuple[str, ...]:
        """What was not judged, and why."""
        notes = []
        if self.data is None:
            notes.append(
                f"data checks wait for {self.min_rows} rows of {self.version} (window has {self.window.size})"
            )
        if not self.performance.judged:
            notes.append(
                f"live performance waits for labelled rows (window has {self.performance.labelled_rows})"
            )
        if self.data is not None:
            ignored = sorted(
                {m.feature for m in self.data.measurements if m.exceeded and m.feature in self.data.ignored}
            )
            if ignored:
                notes.append(
                    f"exceeded but not acted on (monitor.toml [data] ignore_features): {', '.join(ignored)}"
                )
        return tuple(notes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the rows themselves are left out)."""
        data = None
        if self.data is not None:
            data = {
                "labelled_drift": self.data.labelled_drift,
                "anomalies": [a.__dict__ for a in self.data.anomalies],
                "measurements": [
                    {**m.__dict__, "exceeded": m.exceeded, "ignored": m.feature in self.data.ignored}
                    for m in self.data.measurements
                ],
            }
        return {
            "model": self.model,
            "version": self.version,
            "checked_at": self.checked_at,
            "status": self.status.value,
            "signals": [s.value for s in self.signals],
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "window": {
                "rows": self.window.size,
                "labelled_rows": len(self.window.labelled),
                "start": self.window.start,
                "end": self.window.end,
                "refused_requests": self.refused,
                "unreadable_lines": self.unreadable_lines,
            },
            "reference": {
                "training_data": self.reference.training_source,
                "statistics": self.reference.statistics_source,
                "evaluation": dict(self.reference.evaluation),
                "decision_threshold": self.reference.decision_threshold,
            },
            "data": data,
            "performance": self.performance.to_dict(),
        }


def check_production(
    served: ServedLog,
    feedback: pd.DataFrame,
    reference: ModelReference,
    *,
    config: MonitorConfig,
    thresholds: Thresholds,
    schema: schema_pb2.Schema,
    now: float,
    model: str = MODEL_NAME,
) -> MonitorResult:
    """Judges the window of rows the reference version answered.

    Args:
        served: The request log, read with ``read_served``.
        feedback: Labels, read with ``read_feedback``.
        reference: The version in production and its training statistics and metrics.
        config: Window and performance settings.
        thresholds: The pipeline's drift and skew thresholds.
        schema: The curated schema.
        now: Unix time the window ends at.
        model: The registered model's name, for the result.
    """
    window = select_window(
        served.rows, feedback, version=reference.version.version, now=now, config=config.window
    )
    data = None
    if window.size >= config.window.min_rows:
        data = check_data(
            window.rows,
            reference.training_statistics,
            schema,
            thresholds,
            config.data,
            min_labelled_rows=config.performance.min_labelled_rows,
        )
    performance = live_performance(
        window.rows,
        reference.evaluation,
        config.performance,
        decision_threshold=reference.decision_threshold,
    )
    return MonitorResult(
        model=model,
        reference=reference,
        checked_at=now,
        window=window,
        refused=served.refused,
        unreadable_lines=served.unreadable_lines,
        data=data,
        performance=performance,
        min_rows=config.window.min_rows,
    )


def _measurement_reason(m: DriftMeasurement) -> str:
    return f"{m.comparison} of {m.feature}: {m.metric} {m.value:.3f} > {m.threshold:g}"


def _performance_reason(check: PerformanceCheck) -> str:
    assert check.value is not None and check.live is not None
    if check.evaluated is None:
        return f"live {check.name.replace('_', ' ')} {check.live:.3f} > {check.limit:g}"
    metric = check.name.rsplit("_", 1)[0].replace("_", " ")
    return (
        f"live {metric} {check.live:.3f} vs {check.evaluated:.3f} at evaluation "
        f"({check.name.replace('_', ' ')} {check.value:.3f} > {check.limit:g})"
    )
