"""Judges one step of a rollout from its traffic window: operational checks and ML checks.

Operational: the candidate's error rate and p99 latency, absolute and relative to the main version.
ML: how far the candidate's predictions drift from the main version's on the same traffic (both see a
random split, or with a shadow the very same requests), and accuracy where ground truth came back.
Flagger and Argo Rollouts stop at the first kind; a model can answer fast and without errors and still
be wrong, which only the second kind sees.

A check is judged only on enough evidence; one that cannot be judged yet says so and does not pass.
The step's verdict is ``fail`` as soon as a judged check fails, ``wait`` while the candidate has too few
requests, else ``pass``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.rollout.core.config import CheckConfig
from components.rollout.core.traffic import TrafficWindow, VersionWindow

_Z_95 = 1.959963984540054


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WAIT = "wait"


@dataclass(frozen=True)
class Check:
    """One check of one step.

    Attributes:
        name: ``candidate_requests``, ``error_rate``, ``p99_latency_ms``, ``p99_latency_ratio``,
            ``prediction_divergence`` or ``accuracy_drop``.
        value: The measured value; None when it could not be measured.
        threshold: The configured bound.
        passed: True or False once judged; None when the evidence is not there yet.
        detail: What was measured, in words.
    """

    name: str
    value: float | None
    threshold: float
    passed: bool | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class StepAnalysis:
    """The checks of one step and their verdict."""

    verdict: Verdict
    checks: tuple[Check, ...]
    window_seconds: float

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    def summary(self) -> str:
        """One line: the verdict and every check's measured value against its threshold."""
        parts = []
        for check in self.checks:
            mark = {True: "ok", False: "FAILED", None: "not judged"}[check.passed]
            parts.append(f"{check.name} {_number(check.value)} (limit {_number(check.threshold)}, {mark})")
        return f"{self.verdict.value}: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "window_seconds": round(self.window_seconds, 3),
            "checks": [check.to_dict() for check in self.checks],
        }


def analyse(window: TrafficWindow, main: str, candidate: str, checks: CheckConfig) -> StepAnalysis:
    """Judges the candidate against the main version on one window.

    Args:
        window: The step's traffic.
        main: The main version's name.
        candidate: The candidate version's name.
        checks: The thresholds.
    """
    ours, theirs = window.of(candidate), window.of(main)
    enough = ours.requests >= checks.min_requests
    results = [
        Check(
            "candidate_requests",
            float(ours.requests),
            float(checks.min_requests),
            True if enough else None,
            f"{ours.requests} requests reached {candidate} (main {main}: {theirs.requests})",
        ),
        *_operational(ours, theirs, enough, checks),
        _divergence(ours, theirs, checks),
        _accuracy(ours, theirs, checks),
    ]
    if any(c.passed is False for c in results):
        verdict = Verdict.FAIL
    elif not enough:
        verdict = Verdict.WAIT
    else:
        verdict = Verdict.PASS
    return StepAnalysis(verdict, tuple(results), window.until - window.since)


def ks_distance(first: Sequence[int], second: Sequence[int]) -> float:
    """Two-sample Kolmogorov-Smirnov distance between two histograms over the same bins.

    The largest gap between the two cumulative distributions: 0 for the same shape, 1 for disjoint ones.
    On binned data it is a lower bound of the distance between the raw samples.
    """
    total_first, total_second = sum(first), sum(second)
    if not total_first or not total_second or len(first) != len(second):
        return math.nan
    gap = cumulative_first = cumulative_second = 0.0
    for count_first, count_second in zip(first, second, strict=True):
        cumulative_first += count_first / total_first
        cumulative_second += count_second / total_second
        gap = max(gap, abs(cumulative_first - cumulative_second))
    return gap


def _operational(
    ours: VersionWindow, theirs: VersionWindow, enough: bool, checks: CheckConfig
) -> list[Check]:
    rate = ours.error_rate
    p99 = ours.p99_latency_ms
    ratio = p99 / theirs.p99_latency_ms if theirs.requests and theirs.p99_latency_ms > 0 else math.nan
    judged_ratio = enough and theirs.requests >= checks.min_requests and not math.isnan(ratio)
    return [
        Check(
            "error_rate",
            _value(rate),
            checks.max_error_rate,
            (rate <= checks.max_error_rate) if enough else None,
            f"{ours.errors} of {ours.requests} candidate requests failed (main: {theirs.errors} of {theirs.requests})",
        ),
        Check(
            "p99_latency_ms",
            _value(p99),
            checks.max_p99_latency_ms,
            (p99 <= checks.max_p99_latency_ms) if enough and not math.isnan(p99) else None,
            f"candidate p99 {_number(p99)} ms, main p99 {_number(theirs.p99_latency_ms)} ms",
        ),
        Check(
            "p99_latency_ratio",
            _value(ratio),
            checks.max_p99_latency_ratio,
            (ratio <= checks.max_p99_latency_ratio) if judged_ratio else None,
            "candidate p99 over main p99"
            + ("" if judged_ratio else " (not judged: too little traffic on one of them)"),
        ),
    ]


def _divergence(ours: VersionWindow, theirs: VersionWindow, checks: CheckConfig) -> Check:
    distance = ks_distance(ours.histogram, theirs.histogram)
    judged = min(ours.predictions, theirs.predictions) >= checks.min_requests and not math.isnan(distance)
    return Check(
        "prediction_divergence",
        _value(distance),
        checks.max_prediction_divergence,
        (distance <= checks.max_prediction_divergence) if judged else None,
        f"KS distance between {ours.predictions} candidate and {theirs.predictions} main predictions"
        + ("" if judged else " (not judged: too few predictions on one side)"),
    )


def _accuracy(ours: VersionWindow, theirs: VersionWindow, checks: CheckConfig) -> Check:
    # The two versions answered different requests, so their accuracies differ by chance too: the step
    # fails only when the candidate is worse by more than the tolerance with 95% confidence (the lower
    # bound of the normal-approximation interval of the drop is above it).
    judged = min(ours.labelled, theirs.labelled) >= checks.min_feedback
    drop = theirs.accuracy - ours.accuracy if judged else math.nan
    error = (
        math.sqrt(
            ours.accuracy * (1 - ours.accuracy) / ours.labelled
            + theirs.accuracy * (1 - theirs.accuracy) / theirs.labelled
        )
        if judged
        else math.nan
    )
    low = drop - _Z_95 * error
    return Check(
        "accuracy_drop",
        _value(drop),
        checks.max_accuracy_drop,
        (low <= checks.max_accuracy_drop) if judged else None,
        f"accuracy on fed-back answers: candidate {_number(ours.accuracy)} of {ours.labelled}, "
        f"main {_number(theirs.accuracy)} of {theirs.labelled}"
        + (
            f"; drop {_number(drop)}, 95% lower bound {_number(low)}"
            if judged
            else f" (not judged: fewer than {checks.min_feedback} labelled answers)"
        ),
    )


def _value(number: float) -> float | None:
    return None if math.isnan(number) else round(number, 6)


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.4g}"
