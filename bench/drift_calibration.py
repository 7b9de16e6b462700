"""Measures the natural month-over-month drift of 2013 and the drift of the catalogue's deliberate shifts.

Run: ``.venv/bin/python bench/drift_calibration.py``. Prints the Markdown tables quoted in
``components/validation/README.md``; thresholds in ``thresholds.toml`` were chosen from them. The values
are TFDV's own measurements, taken by the same ``validate_statistics`` the pipeline runs.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from components.features.offline import OfflineFeatures
from components.ingest.logic import MONTHS, load_year, select_months
from components.schema.logic import load_schema
from components.settings import ProjectSettings
from components.statistics.features import summarise
from components.statistics.logic import Statistics, compute_statistics
from components.validation.config import load_thresholds
from components.validation.drift import is_numeric
from components.validation.logic import validate_statistics
from components.validation.report import DriftMeasurement

SAMPLE_ROWS = 3_000


def _drift(current: Statistics, previous: Statistics) -> list[DriftMeasurement]:
    schema, thresholds = load_schema(), load_thresholds()
    return list(
        validate_statistics(current, schema, previous=previous, thresholds=thresholds).report.measurements
    )


def _largest(found: list[DriftMeasurement], metric: str) -> DriftMeasurement:
    return max((m for m in found if m.metric == metric), key=lambda m: m.value)


def _mean_temp(stats: Statistics) -> float:
    return next(f.mean for f in summarise(stats) if f.name == "temp") or 0.0


def _month_pairs(month_stats: dict[int, Statistics]) -> dict[str, tuple[float, str]]:
    print(
        "| months | mean temp °F | max JS divergence (numeric) | max L-infinity (categorical) | temp JS "
        "| above threshold |"
    )
    print("|---|---|---|---|---:|---|")
    per_feature: dict[str, tuple[float, str]] = defaultdict(lambda: (0.0, ""))
    for month in MONTHS[1:]:
        found = _drift(month_stats[month], month_stats[month - 1])
        js, linf = _largest(found, "jensen_shannon_divergence"), _largest(found, "l_infinity")
        temp = next(m for m in found if m.feature == "temp")
        exceeded = ", ".join(m.feature for m in found if m.exceeded) or "none"
        print(
            f"| {month - 1:>2} -> {month:>2} | {_mean_temp(month_stats[month - 1]):.1f} -> "
            f"{_mean_temp(month_stats[month]):.1f} | {js.value:.3f} (`{js.feature}`) | {linf.value:.3f} (`{linf.feature}`) "
            f"| {temp.value:.3f} | {exceeded} |"
        )
        for m in found:
            per_feature[m.feature] = max(per_feature[m.feature], (m.value, f"{month - 1} -> {month}"))
    return per_feature


def _catalogue(year: pd.DataFrame, month_stats: dict[int, Statistics]) -> dict[str, list[DriftMeasurement]]:
    july = select_months(year, [7])
    sample = july.sample(SAMPLE_ROWS, random_state=7).reset_index(drop=True)
    lga = pd.concat(
        [
            sample[sample["origin"] == "LGA"].sample(2_100, replace=True, random_state=0),
            sample[sample["origin"] != "LGA"].sample(900, random_state=0),
        ]
    )
    cases = {
        "July sample (3,000 rows) vs July": sample,
        "July +15 °F vs July": sample.assign(temp=sample["temp"] + 15),
        "July +15 °F vs June": sample.assign(temp=sample["temp"] + 15),
        "July, 70% LGA vs July": lga,
        "July without UA vs July": sample[sample["carrier"] != "UA"],
        "July without HA vs July": sample[sample["carrier"] != "HA"],
    }
    return {
        name: _drift(compute_statistics(frame), month_stats[6 if "June" in name else 7])
        for name, frame in cases.items()
    }


def main() -> None:
    # The project's feature store (built on first use, as `make run` builds it).
    year = load_year(OfflineFeatures(ProjectSettings.resolve().feature_repo))
    month_stats = {month: compute_statistics(select_months(year, [month])) for month in MONTHS}
    thresholds = load_thresholds().drift

    print("### Consecutive months of 2013 (full months)\n")
    per_feature = _month_pairs(month_stats)

    print("\n### Largest natural value per feature, and the threshold\n")
    print("| feature | max natural | months | threshold |")
    print("|---|---:|---|---:|")
    schema = {f.name: f for f in load_schema().feature}
    for name, (value, months) in sorted(per_feature.items(), key=lambda item: -item[1][0]):
        threshold = thresholds.threshold_for(name, numeric=is_numeric(schema[name]))
        print(f"| `{name}` | {value:.3f} | {months} | {threshold:.2f} |")

    print("\n### Deliberate shifts (the drift catalogue)\n")
    print("| case | largest measurement | above threshold |")
    print("|---|---|---|")
    for name, found in _catalogue(year, month_stats).items():
        top = max(found, key=lambda m: m.value / m.threshold)
        exceeded = ", ".join(m.feature for m in found if m.exceeded) or "none"
        print(f"| {name} | {top.value:.3f} (`{top.feature}`, threshold {top.threshold:.2f}) | {exceeded} |")


if __name__ == "__main__":
    main()
