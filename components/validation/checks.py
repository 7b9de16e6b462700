"""Checks TFDV does not make by itself, reported under anomaly type names of ours.

Each finding is also recorded in the TFDV ``Anomalies`` proto as a ``CUSTOM_VALIDATION`` reason whose
short description is our type name, so the artifact lineage points to says what the report says.
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from components.statistics.logic import Statistics, num_examples
from components.validation.report import (
    ALL_NULL_COLUMN,
    BATCH_LEVEL,
    EMPTY_BATCH,
    Anomaly,
)


def empty_batch(stats: Statistics) -> list[Anomaly]:
    """``EMPTY_BATCH`` when the batch has a header but no row: there is nothing to train on."""
    if num_examples(stats):
        return []
    return [Anomaly(BATCH_LEVEL, EMPTY_BATCH, "the batch has no rows (a header at most)", "project")]


def all_null_columns(stats: Statistics, schema: schema_pb2.Schema, environment: str) -> list[Anomaly]:
    """``ALL_NULL_COLUMN`` for each schema feature present as a column whose every value is missing.

    TFDV names it ``FEATURE_TYPE_NOT_PRESENT`` only when the schema sets ``presence.min_count`` (the
    curated schema does, for every feature); with a drafted or hand-written schema that does not, an
    all-empty column of a mostly-missing feature would pass. The caller drops findings TFDV already made.
    """
    total = num_examples(stats)
    if not total:
        return []
    expected = {
        feature.name
        for feature in schema.feature
        if environment not in feature.not_in_environment
        and (not feature.in_environment or environment in feature.in_environment)
    }
    found = []
    for feature in stats.datasets[0].features:
        name = feature.path.step[-1] if feature.path.step else feature.name
        which = feature.WhichOneof("stats")
        common = getattr(feature, which).common_stats if which else None
        if name in expected and (common is None or common.num_non_missing == 0):
            found.append(Anomaly(name, ALL_NULL_COLUMN, f"all {total:,} values are missing", "project"))
    return found


def record(anomalies: anomalies_pb2.Anomalies, found: list[Anomaly]) -> None:
    """Adds our findings to the TFDV anomalies proto as ``CUSTOM_VALIDATION`` reasons."""
    for anomaly in found:
        if anomaly.feature == BATCH_LEVEL:
            info = anomalies.dataset_anomaly_info
        else:
            info = anomalies.anomaly_info[anomaly.feature]
            if not info.path.step:
                info.path.step.append(anomaly.feature)
        info.severity = anomalies_pb2.AnomalyInfo.ERROR
        reason = info.reason.add()
        reason.type = anomalies_pb2.AnomalyInfo.CUSTOM_VALIDATION
        reason.short_description = anomaly.type
        reason.description = anomaly.description
        if not info.description:
            info.description = anomaly.description
