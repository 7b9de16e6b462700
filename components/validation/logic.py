"""Automatic data validation of a batch: schema anomalies, drift and skew, and the gate's verdict.

Typical use by a pipeline step::

    stats = compute_statistics(read_batch(batch_path))
    result = validate_statistics(stats, load_schema(), previous=read_statistics(previous_path))
    write_report(result.report, out / "report.json")
    write_anomalies(result.anomalies, out / "anomalies.pbtxt")

``unreadable_batch_result`` turns a batch that cannot be read into a ``halt`` report instead of an
exception, so a run can always record why it stopped (``step.validate_batch`` does both).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import tensorflow_data_validation as tfdv
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from components.schema.logic import TRAINING
from components.statistics.logic import Statistics, num_examples
from components.validation import checks
from components.validation.config import Thresholds, load_thresholds
from components.validation.drift import measurements, unmeasured, with_comparators
from components.validation.report import BATCH_LEVEL, UNREADABLE_FILE, Anomaly, ValidationReport
from contracts.errors import DataContractError, ValidationError

Anomalies: TypeAlias = anomalies_pb2.Anomalies
_TYPE_NAMES = anomalies_pb2.AnomalyInfo.Type


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating one batch.

    Attributes:
        report: Our typed report, with the verdict.
        anomalies: TFDV's anomalies proto, with our own findings added as ``CUSTOM_VALIDATION`` reasons.
        statistics: The batch's statistics, or ``None`` when the file could not be read.
    """

    report: ValidationReport
    anomalies: Anomalies
    statistics: Statistics | None


def _tfdv_anomalies(anomalies: Anomalies) -> list[Anomaly]:
    """TFDV's schema anomalies, one per reason; comparator reasons are drift and skew, not anomalies."""
    found = []
    infos = [(name, info) for name, info in anomalies.anomaly_info.items()]
    infos.append((BATCH_LEVEL, anomalies.dataset_anomaly_info))
    for name, info in infos:
        for reason in info.reason:
            type_name = _TYPE_NAMES.Name(reason.type)
            if not type_name.startswith("COMPARATOR_"):
                found.append(Anomaly(name, type_name, reason.description or reason.short_description))
    return found


def _comparable(stats: Statistics | None) -> Statistics | None:
    # An empty batch has no distribution to compare against; measuring against it would only add noise.
    return stats if stats is not None and num_examples(stats) > 0 else None


def validate_statistics(
    stats: Statistics,
    schema: schema_pb2.Schema,
    *,
    previous: Statistics | None = None,
    serving: Statistics | None = None,
    thresholds: Thresholds | None = None,
    environment: str = TRAINING,
    batch: str = "batch",
) -> ValidationResult:
    """Validates a batch's statistics against the schema, and measures drift and skew when asked.

    Args:
        stats: Statistics of the batch under test.
        schema: The curated schema (``components.schema.logic.load_schema()``).
        previous: Statistics of the previous batch: drift is measured against them when given.
        serving: Statistics of serving requests: training/serving skew is measured when given.
        thresholds: Drift and skew thresholds; ``load_thresholds()`` (the file beside this module) when
            omitted.
        environment: Schema environment the batch belongs to (``TRAINING`` keeps the label required).
        batch: Name of the batch in the report.

    Returns:
        The report (verdict ``halt``/``retrain``/``proceed``), TFDV's anomalies proto and ``stats``.

    Raises:
        ValidationError: when TFDV rejects the schema or the statistics themselves.
        ConfigError: when the default thresholds file is malformed.
    """
    thresholds = thresholds or load_thresholds()
    previous, serving = _comparable(previous), _comparable(serving)
    own = checks.empty_batch(stats)
    if own:
        # Every feature of an empty batch would be "missing": one clear finding beats 28 echoes of it.
        anomalies = Anomalies()
        anomalies.baseline.CopyFrom(schema)
        previous = serving = None
        found = own
    else:
        configured = with_comparators(
            schema, thresholds, drift=previous is not None, skew=serving is not None
        )
        try:
            anomalies = tfdv.validate_statistics(
                stats,
                configured,
                environment=environment,
                previous_statistics=previous,
                serving_statistics=serving,
            )
        except (ValueError, TypeError, RuntimeError) as exc:
            raise ValidationError(f"TFDV could not validate the statistics: {exc}") from exc
        reported = _tfdv_anomalies(anomalies)
        not_present = {a.feature for a in reported if a.type == "FEATURE_TYPE_NOT_PRESENT"}
        own = [a for a in checks.all_null_columns(stats, schema, environment) if a.feature not in not_present]
        found = reported + own
    checks.record(anomalies, own)
    found = sorted(found, key=lambda a: (a.feature, a.type))
    compared = previous is not None or serving is not None
    measured = measurements(anomalies, schema, thresholds) if compared else ()
    report = ValidationReport(
        batch=batch,
        num_examples=num_examples(stats),
        anomalies=tuple(found),
        measurements=measured,
        unmeasured=unmeasured(
            measured, schema, thresholds, drift=previous is not None, skew=serving is not None
        ),
    )
    return ValidationResult(report=report, anomalies=anomalies, statistics=stats)


def unreadable_batch_result(error: DataContractError, *, batch: str) -> ValidationResult:
    """A ``halt`` result for a batch file that could not be read, so the run can still record why.

    Args:
        error: What ``read_batch`` raised.
        batch: Name of the batch (usually the file name).
    """
    anomaly = Anomaly(BATCH_LEVEL, UNREADABLE_FILE, str(error), "project")
    anomalies = Anomalies()
    checks.record(anomalies, [anomaly])
    report = ValidationReport(batch=batch, num_examples=0, anomalies=(anomaly,))
    return ValidationResult(report=report, anomalies=anomalies, statistics=None)


def write_anomalies(anomalies: Anomalies, path: Path) -> Path:
    """Writes the anomalies proto in text format (``tfdv.load_anomalies_text`` reads it too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text_format.MessageToString(anomalies), encoding="utf-8")
    return path


def read_anomalies(path: Path) -> Anomalies:
    """Reads an anomalies proto written by ``write_anomalies``.

    Raises:
        ValidationError: when the file is missing or not an anomalies proto.
    """
    try:
        return text_format.Parse(path.read_text(encoding="utf-8"), Anomalies())
    except (OSError, text_format.ParseError) as exc:
        raise ValidationError(f"{path}: not a readable anomalies artifact: {exc}") from exc
