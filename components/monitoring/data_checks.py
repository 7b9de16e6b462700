"""Drift and skew of served data, judged by the pipeline's own validation code and thresholds.

- Drift: the window's statistics against the training data's, with the ``[drift]`` comparators of
  ``components/validation/thresholds.toml``. When enough outcomes have come back, the labelled rows are
  compared with their label, so a change in the delay rate shows as drift of ``delayed``.
- Skew: the training statistics against the window's as serving statistics, with the ``[skew]``
  comparators: TFDV's training/serving skew check, exactly as ``validate_statistics(serving=...)`` does it.

Served requests carry the model's features only; the schema is narrowed to those (and the label) so the
absent key columns (flight number, tail number, ...) are not reported as missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from tensorflow_metadata.proto.v0 import schema_pb2

from components.monitoring.config import DataConfig
from components.monitoring.served import feature_frame
from components.schema.logic import SERVING, TRAINING
from components.statistics.logic import Statistics, compute_statistics
from components.validation.config import Thresholds
from components.validation.logic import validate_statistics
from components.validation.report import Anomaly, DriftMeasurement, ValidationReport
from contracts.data_contract import FEATURE_NAMES, LABEL


@dataclass(frozen=True)
class DataChecks:
    """What the window's data looks like next to the training data.

    Attributes:
        statistics: TFDV statistics of the window's features.
        drift: The window validated with drift against the training statistics.
        skew: The training statistics validated with skew against the window.
        labelled_drift: Whether drift was measured on labelled rows, label included.
        ignored: Features whose measurements are reported but not acted on.
    """

    statistics: Statistics
    drift: ValidationReport
    skew: ValidationReport
    labelled_drift: bool
    ignored: tuple[str, ...]

    @property
    def measurements(self) -> tuple[DriftMeasurement, ...]:
        return self.drift.measurements + self.skew.measurements

    @property
    def anomalies(self) -> tuple[Anomaly, ...]:
        """Schema anomalies of the served window (the skew call validates the training data: not ours)."""
        return self.drift.anomalies

    @property
    def acted_on(self) -> tuple[DriftMeasurement, ...]:
        """Exceeded measurements of features that are not ignored."""
        return tuple(m for m in self.measurements if m.exceeded and m.feature not in self.ignored)

    @property
    def drifted(self) -> bool:
        return any(m.comparison == "drift" for m in self.acted_on)

    @property
    def skewed(self) -> bool:
        return any(m.comparison == "skew" for m in self.acted_on)


def served_schema(schema: schema_pb2.Schema) -> schema_pb2.Schema:
    """A copy of the schema holding the model's features and the label only."""
    kept = {*FEATURE_NAMES, LABEL}
    narrowed = schema_pb2.Schema()
    narrowed.CopyFrom(schema)
    del narrowed.feature[:]
    narrowed.feature.extend(f for f in schema.feature if f.name in kept)
    return narrowed


def check_data(
    rows: pd.DataFrame,
    training: Statistics,
    schema: schema_pb2.Schema,
    thresholds: Thresholds,
    config: DataConfig,
    *,
    min_labelled_rows: int,
) -> DataChecks:
    """Measures drift and skew of served rows against the training statistics.

    Args:
        rows: The window's rows (served features, ``delayed`` where it came back).
        training: Statistics of the training data.
        schema: The curated schema.
        thresholds: The pipeline's drift and skew thresholds.
        config: Which features are not acted on.
        min_labelled_rows: Labelled rows needed to measure drift with the label.
    """
    narrowed = served_schema(schema)
    features = feature_frame(rows)
    served = compute_statistics(features)
    labelled = rows[LABEL].notna()
    with_label = int(labelled.sum()) >= min_labelled_rows
    if with_label:
        batch = features[labelled.to_numpy()].assign(
            **{LABEL: rows.loc[labelled, LABEL].astype("int64").to_numpy()}
        )
        drift = validate_statistics(
            compute_statistics(batch),
            narrowed,
            previous=training,
            thresholds=thresholds,
            environment=TRAINING,
            batch="served window (labelled)",
        )
    else:
        drift = validate_statistics(
            served,
            narrowed,
            previous=training,
            thresholds=thresholds,
            environment=SERVING,
            batch="served window",
        )
    skew = validate_statistics(
        training, narrowed, serving=served, thresholds=thresholds, environment=TRAINING, batch="training data"
    )
    return DataChecks(
        statistics=served,
        drift=drift.report,
        skew=skew.report,
        labelled_drift=with_label,
        ignored=config.ignore_features,
    )
