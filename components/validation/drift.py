"""Drift and skew comparators: put into a copy of the schema from the thresholds, read back as values.

The curated schema holds no comparator: thresholds live in ``thresholds.toml`` only, and are attached
to a copy of the schema for each validation. TFDV then measures every configured feature and reports
the value in ``drift_skew_info`` whether or not it is above the threshold.
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from components.validation.config import ComparisonThresholds, Thresholds
from components.validation.report import Comparison, DriftMeasurement, Metric, Unmeasured

_METRICS: dict[int, Metric] = {
    anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: "jensen_shannon_divergence",
    anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: "l_infinity",
}


def is_numeric(feature: schema_pb2.Feature) -> bool:
    """Numeric features are compared by Jensen-Shannon divergence, the others by L-infinity.

    TFDV's L-infinity needs value frequencies, which it keeps only for string features: on an INT
    feature it silently measures 0, so integer codes and the 0/1 label must use the divergence.
    """
    return feature.type in (schema_pb2.INT, schema_pb2.FLOAT)


def _configure(
    feature: schema_pb2.Feature, comparator: schema_pb2.FeatureComparator, threshold: float
) -> None:
    if is_numeric(feature):
        comparator.jensen_shannon_divergence.threshold = threshold
    else:
        comparator.infinity_norm.threshold = threshold


def with_comparators(
    schema: schema_pb2.Schema, thresholds: Thresholds, *, drift: bool, skew: bool
) -> schema_pb2.Schema:
    """A copy of ``schema`` whose compared features carry drift and/or skew comparators."""
    configured = schema_pb2.Schema()
    configured.CopyFrom(schema)
    for feature in configured.feature:
        if drift and feature.name in thresholds.drift.features:
            threshold = thresholds.drift.threshold_for(feature.name, numeric=is_numeric(feature))
            _configure(feature, feature.drift_comparator, threshold)
        if skew and feature.name in thresholds.skew.features:
            threshold = thresholds.skew.threshold_for(feature.name, numeric=is_numeric(feature))
            _configure(feature, feature.skew_comparator, threshold)
    return configured


def _read(
    info: anomalies_pb2.DriftSkewInfo,
    comparison: Comparison,
    config: ComparisonThresholds,
    schema_features: dict[str, schema_pb2.Feature],
) -> list[DriftMeasurement]:
    name = info.path.step[-1]
    feature = schema_features.get(name)
    raw = info.drift_measurements if comparison == "drift" else info.skew_measurements
    if feature is None or name not in config.features:
        return []
    return [
        DriftMeasurement(
            feature=name,
            comparison=comparison,
            metric=_METRICS[measurement.type],
            value=float(measurement.value),
            # Ours rather than the proto's: the proto stores it as a double that may print as 0.45000000001.
            threshold=config.threshold_for(name, numeric=is_numeric(feature)),
        )
        for measurement in raw
        if measurement.type in _METRICS
    ]


def measurements(
    anomalies: anomalies_pb2.Anomalies, schema: schema_pb2.Schema, thresholds: Thresholds
) -> tuple[DriftMeasurement, ...]:
    """Every drift and skew measurement TFDV took, sorted by comparison, then feature."""
    features = {feature.name: feature for feature in schema.feature}
    found: list[DriftMeasurement] = []
    for info in anomalies.drift_skew_info:
        found += _read(info, "drift", thresholds.drift, features)
        found += _read(info, "skew", thresholds.skew, features)
    return tuple(sorted(found, key=lambda m: (m.comparison, m.feature)))


def unmeasured(
    found: tuple[DriftMeasurement, ...],
    schema: schema_pb2.Schema,
    thresholds: Thresholds,
    *,
    drift: bool,
    skew: bool,
) -> tuple[Unmeasured, ...]:
    """Compared features of the schema that have no measurement, sorted by comparison, then feature."""
    measured = {(m.comparison, m.feature) for m in found}
    wanted: list[tuple[Comparison, ComparisonThresholds]] = []
    if drift:
        wanted.append(("drift", thresholds.drift))
    if skew:
        wanted.append(("skew", thresholds.skew))
    missing = [
        Unmeasured(feature.name, comparison)
        for comparison, config in wanted
        for feature in schema.feature
        if feature.name in config.features and (comparison, feature.name) not in measured
    ]
    return tuple(sorted(missing, key=lambda u: (u.comparison, u.feature)))
