"""A/B analysis: Wilson intervals, bootstrap of the log loss difference, segments, the Markdown report."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from components.rollout.core.ab_report import (
    Labelled,
    bootstrap_difference,
    compare,
    log_loss,
    read_traffic_log,
    render_markdown,
    wilson_interval,
)
from components.rollout.core.traffic import Exchange
from contracts.errors import RolloutError


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553-0.3662; 15/148 -> 0.0624-0.1605.
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_log_loss() -> None:
    assert log_loss([Labelled(0.5, 1), Labelled(0.5, 0)]) == pytest.approx(math.log(2))
    assert log_loss([Labelled(1.0, 1)]) == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(log_loss([]))


def _world(
    seed: int, origins: dict[str, tuple[float, float]], per_origin: int = 400
) -> tuple[list[Exchange], dict[str, int]]:
    """A random split where each origin's truth is drawn at a known rate; A and B predict per origin."""
    rng = random.Random(seed)
    exchanges, truth = [], {}
    for origin, (rate, b_prediction) in origins.items():
        for index in range(per_origin):
            puid = f"{origin}-{index}"
            version = "v1" if rng.random() < 0.5 else "v2"
            prediction = 0.25 if version == "v1" else b_prediction
            exchanges.append(
                Exchange(
                    float(index),
                    version,
                    200,
                    3.0,
                    (prediction,),
                    puid,
                    segment={"origin": origin, "carrier": "UA"},
                )
            )
            truth[puid] = int(rng.random() < rate)
    return exchanges, truth


def test_the_better_version_is_called_per_segment() -> None:
    # At EWR the truth rate is 60%: B's 0.6 is far better calibrated than A's 0.25. At JFK both are right.
    exchanges, truth = _world(1, {"EWR": (0.6, 0.6), "JFK": (0.25, 0.25)})
    results = {c.segment: c for c in compare(exchanges, truth, version_a="v1", version_b="v2")}
    assert results["origin=EWR"].winner == "B"
    assert results["origin=EWR"].difference_interval[1] < 0
    assert results["origin=JFK"].winner == "no clear difference"
    assert next(iter(results)) == "all" and "carrier=UA" in results
    ewr = results["origin=EWR"]
    assert ewr.a.labelled + ewr.b.labelled == 400
    assert ewr.b.delay_rate_interval[0] < 0.6 < ewr.b.delay_rate_interval[1]


def test_segments_with_too_few_labels_are_not_called() -> None:
    exchanges, truth = _world(2, {"LGA": (0.6, 0.6)}, per_origin=40)
    [*_, lga] = compare(exchanges, truth, version_a="v1", version_b="v2", min_labelled=30)
    assert lga.winner == "too few labels"


def test_bootstrap_is_reproducible() -> None:
    a = [Labelled(0.3, i % 2) for i in range(50)]
    b = [Labelled(0.5, i % 2) for i in range(50)]
    assert bootstrap_difference(a, b, seed=3) == bootstrap_difference(a, b, seed=3)


def test_report_from_a_traffic_log(tmp_path: Path) -> None:
    exchanges, truth = _world(1, {"EWR": (0.6, 0.6), "JFK": (0.25, 0.25)})
    log = tmp_path / "traffic.jsonl"
    lines = [json.dumps({"exchange": e.to_dict()}) for e in exchanges]
    lines += [
        json.dumps({"feedback": {"puid": p, "truth": t, "reward": None, "time": 0}}) for p, t in truth.items()
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read, labels = read_traffic_log(log)
    assert len(read) == len(exchanges) and labels == truth
    report = render_markdown(
        compare(read, labels, version_a="v1", version_b="v2"), version_a="v1", version_b="v2", period="test"
    )
    better = next(line for line in report.splitlines() if line.startswith("B (v2) did better on:"))
    assert "| origin=EWR |" in report and "origin=EWR" in better and "origin=JFK" not in better
    print(report)


def test_a_broken_traffic_log_is_named(tmp_path: Path) -> None:
    log = tmp_path / "traffic.jsonl"
    log.write_text('{"exchange": {"time": 1}}\n', encoding="utf-8")
    with pytest.raises(RolloutError, match=r"traffic\.jsonl:1"):
        read_traffic_log(log)
