"""Step analysis: each check judged on enough evidence, against its threshold, with its measured value."""

from __future__ import annotations

import math

import pytest

from components.rollout.core.analysis import Verdict, analyse, ks_distance
from components.rollout.core.config import load_config
from components.rollout.core.traffic import HISTOGRAM_BINS, TrafficWindow, VersionWindow

CHECKS = load_config().with_overrides(checks={"min_requests": 100, "min_feedback": 100}).checks


def _histogram(center: int, count: int) -> tuple[int, ...]:
    bins = [0] * HISTOGRAM_BINS
    for offset, share in ((-1, 0.25), (0, 0.5), (1, 0.25)):
        bins[center + offset] += int(count * share)
    return tuple(bins)


def _version(
    requests: int,
    *,
    errors: int = 0,
    p99: float = 10.0,
    center: int = 15,
    labelled: int = 0,
    correct: int = 0,
) -> VersionWindow:
    return VersionWindow(requests, errors, p99, _histogram(center, requests - errors), labelled, correct)


def _window(candidate: VersionWindow, main: VersionWindow) -> TrafficWindow:
    return TrafficWindow(0.0, 60.0, {"v2": candidate, "v1": main})


def _check(window: TrafficWindow, name: str):  # type: ignore[no-untyped-def]
    analysis = analyse(window, "v1", "v2", CHECKS)
    return analysis, next(c for c in analysis.checks if c.name == name)


def test_a_healthy_candidate_passes_every_judged_check() -> None:
    analysis = analyse(_window(_version(200), _version(1800)), "v1", "v2", CHECKS)
    assert analysis.verdict is Verdict.PASS
    assert {c.name: c.passed for c in analysis.checks} == {
        "candidate_requests": True,
        "error_rate": True,
        "p99_latency_ms": True,
        "p99_latency_ratio": True,
        "prediction_divergence": True,
        "accuracy_drop": None,
    }
    assert analysis.window_seconds == 60.0


@pytest.mark.parametrize(
    ("candidate", "name", "value"),
    [
        (_version(200, errors=10), "error_rate", 0.05),
        (_version(200, p99=400.0), "p99_latency_ms", 400.0),
        (_version(200, p99=45.0), "p99_latency_ratio", 4.5),
        (_version(200, center=30), "prediction_divergence", 1.0),
    ],
)
def test_each_failing_check_fails_the_step_with_its_measured_value(
    candidate: VersionWindow, name: str, value: float
) -> None:
    analysis, check = _check(_window(candidate, _version(1800)), name)
    assert analysis.verdict is Verdict.FAIL
    assert check.passed is False and check.value == pytest.approx(value)
    assert f"{name} " in analysis.summary() and "FAILED" in analysis.summary()


def test_too_few_candidate_requests_wait_instead_of_passing() -> None:
    analysis = analyse(_window(_version(40), _version(1800)), "v1", "v2", CHECKS)
    assert analysis.verdict is Verdict.WAIT
    assert all(c.passed is None for c in analysis.checks)


def test_checks_that_compare_with_main_need_main_traffic() -> None:
    analysis = analyse(_window(_version(150, center=40), _version(60)), "v1", "v2", CHECKS)
    # The main version has too few answers to compare against: divergence and the ratio are not judged.
    assert analysis.verdict is Verdict.PASS
    assert {c.name for c in analysis.checks if c.passed is None} == {
        "p99_latency_ratio",
        "prediction_divergence",
        "accuracy_drop",
    }


def test_accuracy_is_judged_once_enough_feedback_came_back() -> None:
    worse = _window(_version(300, labelled=200, correct=130), _version(1800, labelled=200, correct=160))
    analysis, check = _check(worse, "accuracy_drop")
    assert analysis.verdict is Verdict.FAIL and check.value == pytest.approx(0.15)
    # 0.04 below on 200 labels each is within what chance makes of two equal models: not a failure.
    noisy = _window(_version(300, labelled=200, correct=152), _version(1800, labelled=200, correct=160))
    assert _check(noisy, "accuracy_drop")[1].passed is True
    fine = _window(_version(300, labelled=200, correct=158), _version(1800, labelled=200, correct=160))
    assert _check(fine, "accuracy_drop")[1].passed is True
    few = _window(_version(300, labelled=50, correct=10), _version(1800, labelled=200, correct=160))
    assert _check(few, "accuracy_drop")[1].passed is None


def test_ks_distance() -> None:
    assert ks_distance([1, 1, 0, 0], [1, 1, 0, 0]) == 0.0
    assert ks_distance([1, 0, 0, 0], [0, 0, 0, 5]) == 1.0
    assert ks_distance([2, 2, 0, 0], [1, 1, 1, 1]) == pytest.approx(0.5)
    assert math.isnan(ks_distance([0, 0], [1, 1]))


def test_analysis_is_json_ready() -> None:
    data = analyse(_window(_version(200), _version(1800)), "v1", "v2", CHECKS).to_dict()
    assert data["verdict"] == "pass" and data["checks"][0]["name"] == "candidate_requests"
