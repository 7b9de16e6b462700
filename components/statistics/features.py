"""A flat, typed view of each feature's statistics, shared by the HTML and Markdown renderings."""

from __future__ import annotations

from dataclasses import dataclass

from tensorflow_metadata.proto.v0 import statistics_pb2

from components.statistics.logic import Statistics

_TYPE_NAMES = statistics_pb2.FeatureNameStatistics.Type


@dataclass(frozen=True)
class Bucket:
    """One bar of a chart: a numeric range or a category, and how many rows fall in it."""

    label: str
    count: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class FeatureSummary:
    """What a reader wants to know about one feature of one batch."""

    name: str
    kind: str  # INT, FLOAT, STRING, BYTES or STRUCT, as TFDV typed the column
    present: int
    missing: int
    mean: float | None = None
    std_dev: float | None = None
    minimum: float | None = None
    median: float | None = None
    maximum: float | None = None
    zeros: int | None = None
    unique: int | None = None
    top_values: tuple[Bucket, ...] = ()
    histogram: tuple[Bucket, ...] = ()

    @property
    def numeric(self) -> bool:
        return self.kind in ("INT", "FLOAT")

    @property
    def missing_fraction(self) -> float:
        total = self.present + self.missing
        return self.missing / total if total else 0.0


def _numeric(name: str, kind: str, stats: statistics_pb2.NumericStatistics) -> FeatureSummary:
    common = stats.common_stats
    standard = [h for h in stats.histograms if h.type == statistics_pb2.Histogram.STANDARD]
    buckets = tuple(
        Bucket(
            label=f"{b.low_value:g} to {b.high_value:g}",
            count=b.sample_count,
            low=b.low_value,
            high=b.high_value,
        )
        for b in (standard[0].buckets if standard else ())
    )
    has_values = common.num_non_missing > 0
    return FeatureSummary(
        name=name,
        kind=kind,
        present=int(common.num_non_missing),
        missing=int(common.num_missing),
        mean=stats.mean if has_values else None,
        std_dev=stats.std_dev if has_values else None,
        minimum=stats.min if has_values else None,
        median=stats.median if has_values else None,
        maximum=stats.max if has_values else None,
        zeros=int(stats.num_zeros) if has_values else None,
        histogram=buckets,
    )


def _categorical(name: str, kind: str, stats: statistics_pb2.StringStatistics) -> FeatureSummary:
    common = stats.common_stats
    return FeatureSummary(
        name=name,
        kind=kind,
        present=int(common.num_non_missing),
        missing=int(common.num_missing),
        unique=int(stats.unique),
        top_values=tuple(Bucket(label=top.value, count=top.frequency) for top in stats.top_values),
    )


def summarise(stats: Statistics) -> list[FeatureSummary]:
    """One summary per feature of the first dataset, in the order TFDV lists them."""
    if not stats.datasets:
        return []
    summaries = []
    for feature in stats.datasets[0].features:
        name = feature.path.step[-1] if feature.path.step else feature.name
        kind = _TYPE_NAMES.Name(feature.type)
        which = feature.WhichOneof("stats")
        if which == "num_stats":
            summaries.append(_numeric(name, kind, feature.num_stats))
        elif which == "string_stats":
            summaries.append(_categorical(name, kind, feature.string_stats))
        else:
            # Bytes and struct statistics carry only the common part worth showing.
            common = getattr(feature, which).common_stats if which else statistics_pb2.CommonStatistics()
            summaries.append(
                FeatureSummary(
                    name=name, kind=kind, present=int(common.num_non_missing), missing=int(common.num_missing)
                )
            )
    return summaries
