"""The validation report: typed, JSON round-trippable, and what the pipeline's gate decides on."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from contracts.errors import ValidationError

Verdict = Literal["halt", "retrain", "proceed"]
Comparison = Literal["drift", "skew"]
Metric = Literal["jensen_shannon_divergence", "l_infinity"]
Source = Literal["tfdv", "project"]

# Anomaly types of ours, for cases TFDV does not report by itself.
EMPTY_BATCH = "EMPTY_BATCH"
UNREADABLE_FILE = "UNREADABLE_FILE"
ALL_NULL_COLUMN = "ALL_NULL_COLUMN"
BATCH_LEVEL = "(batch)"  # the feature name of anomalies about the batch as a whole

# Files inside a validation report artifact folder.
REPORT_FILE = "report.json"
ANOMALIES_FILE = "anomalies.pbtxt"


@dataclass(frozen=True)
class Anomaly:
    """One schema anomaly: a reason to halt.

    Attributes:
        feature: The feature concerned, or ``"(batch)"`` for the batch as a whole.
        type: TFDV's anomaly type name (``SCHEMA_MISSING_COLUMN``, ...) or one of ours (``EMPTY_BATCH``).
        description: What was found, in words.
        source: ``"tfdv"`` or ``"project"`` (our own checks).
    """

    feature: str
    type: str
    description: str
    source: Source = "tfdv"


@dataclass(frozen=True)
class DriftMeasurement:
    """One measured distance between two batches' distributions of a feature."""

    feature: str
    comparison: Comparison
    metric: Metric
    value: float
    threshold: float

    @property
    def exceeded(self) -> bool:
        return self.value > self.threshold


@dataclass(frozen=True)
class Unmeasured:
    """A feature configured for comparison that TFDV could not measure.

    TFDV skips a comparison without an anomaly (only a log line) when the other batch has no values or
    no histogram for the feature; the report says so instead of silently showing one row fewer.
    """

    feature: str
    comparison: Comparison


@dataclass(frozen=True)
class ValidationReport:
    """What validation found in one batch and what the pipeline should do about it.

    The verdict is derived from the findings, never stored apart from them, so the two cannot disagree.

    Attributes:
        batch: A name for the batch (file name or run-given label).
        num_examples: Rows in the batch (0 when empty or unreadable).
        anomalies: Schema anomalies, sorted by feature then type.
        measurements: Every drift and skew measurement taken, exceeded or not.
        unmeasured: Features configured for drift or skew that could not be measured (they do not change
            the verdict: the batch under test is not at fault).
    """

    batch: str
    num_examples: int
    anomalies: tuple[Anomaly, ...] = ()
    measurements: tuple[DriftMeasurement, ...] = ()
    unmeasured: tuple[Unmeasured, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """``halt`` on any anomaly; else ``retrain`` when a drift or skew measurement exceeds its
        threshold; else ``proceed``."""
        return decide(self.anomalies, self.measurements)

    @property
    def exceeded(self) -> tuple[DriftMeasurement, ...]:
        """The measurements above their threshold."""
        return tuple(m for m in self.measurements if m.exceeded)

    def anomaly_types(self, feature: str) -> set[str]:
        """The anomaly type names reported for one feature."""
        return {a.type for a in self.anomalies if a.feature == feature}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with the verdict first; measurements carry their ``exceeded`` flag."""
        data = {"verdict": self.verdict, **asdict(self)}
        for measurement, raw in zip(self.measurements, data["measurements"], strict=True):
            raw["exceeded"] = measurement.exceeded
        return data

    def to_json(self) -> str:
        """The report as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ValidationReport:
        """Parses ``to_json`` output.

        Raises:
            ValidationError: when the text is not a report.
        """
        try:
            data = json.loads(text)
            report = cls(
                batch=str(data["batch"]),
                num_examples=int(data["num_examples"]),
                anomalies=tuple(Anomaly(**raw) for raw in data["anomalies"]),
                measurements=tuple(
                    DriftMeasurement(**{k: v for k, v in raw.items() if k != "exceeded"})
                    for raw in data["measurements"]
                ),
                unmeasured=tuple(Unmeasured(**raw) for raw in data.get("unmeasured", [])),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(f"not a validation report: {exc}") from exc
        if data.get("verdict") != report.verdict:
            raise ValidationError(
                f"report says {data.get('verdict')!r} but its findings say {report.verdict!r}"
            )
        return report


def decide(anomalies: tuple[Anomaly, ...], measurements: tuple[DriftMeasurement, ...]) -> Verdict:
    """The gate's rule: anomalies halt, exceeded drift or skew retrains, anything else proceeds."""
    if anomalies:
        return "halt"
    if any(m.exceeded for m in measurements):
        return "retrain"
    return "proceed"


def write_report(report: ValidationReport, path: Path) -> Path:
    """Writes the report as JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.to_json(), encoding="utf-8")
    return path


def read_report(path: Path) -> ValidationReport:
    """Reads a report written by ``write_report``.

    Raises:
        ValidationError: when the file is missing or not a report.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read the validation report: {exc}") from exc
    return ValidationReport.from_json(text)
