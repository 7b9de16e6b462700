"""Metrics against hand computations and brute force (scikit-learn is deliberately absent)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from components.evaluate.metrics import (
    average_ranks,
    confusion_counts,
    expected_calibration_error,
    log_loss,
    reliability_bins,
    roc_auc,
    roc_curve,
)
from components.evaluate.slices import binary_metrics
from contracts.errors import EvaluationError


def brute_force_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Share of (positive, negative) pairs ranked correctly, ties counting one half."""
    pairs = list(itertools.product(scores[labels == 1], scores[labels == 0]))
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


def test_average_ranks_share_ties() -> None:
    assert average_ranks(np.array([10, 20, 20, 5])).tolist() == [2.0, 3.5, 3.5, 1.0]


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
        ([0, 1], [0.2, 0.9], 1.0),
        ([0, 1], [0.9, 0.2], 0.0),
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),
        ([1, 0, 0], [0.3, 0.3, 0.1], 0.75),
    ],
)
def test_auc_known_values(labels: list[int], scores: list[float], expected: float) -> None:
    assert roc_auc(np.array(labels), np.array(scores)) == pytest.approx(expected)


def test_auc_matches_pair_counting_with_many_ties() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) * 0.5 + labels * 0.2, 1)  # rounding makes ties common
    assert roc_auc(labels, scores) == pytest.approx(brute_force_auc(labels, scores), abs=1e-12)


def test_auc_of_a_single_class_is_undefined() -> None:
    assert roc_auc(np.array([1, 1]), np.array([0.2, 0.3])) is None


def test_auc_refuses_nan_scores_and_bad_labels() -> None:
    with pytest.raises(EvaluationError, match="NaN"):
        roc_auc(np.array([0, 1]), np.array([0.2, np.nan]))
    with pytest.raises(EvaluationError, match="0 or 1"):
        roc_auc(np.array([0, 2]), np.array([0.2, 0.3]))


def test_log_loss_known_value_and_clipping() -> None:
    expected = -(math.log(0.8) + math.log(0.6)) / 2
    assert log_loss(np.array([1, 0]), np.array([0.8, 0.4])) == pytest.approx(expected)
    assert log_loss(np.array([1]), np.array([0.0])) == pytest.approx(-math.log(1e-7))


def test_confusion_counts_layout() -> None:
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.6, 0.5, 0.4, 0.9])
    # threshold 0.5: predicted [0, 1, 1, 0, 1] -> TN 1, FP 2, FN 1, TP 1
    assert confusion_counts(labels, scores, 0.5).tolist() == [[1, 2], [1, 1]]


def test_threshold_metrics_by_hand() -> None:
    metrics = binary_metrics(np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.6, 0.5, 0.4, 0.9]), 0.5)
    assert (metrics.accuracy, metrics.precision, metrics.recall) == pytest.approx((2 / 5, 1 / 3, 1 / 2))
    assert metrics.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert (metrics.rows, metrics.positives, metrics.positive_rate) == (5, 2, pytest.approx(0.4))


def test_precision_with_nothing_predicted_is_zero() -> None:
    metrics = binary_metrics(np.array([0, 1]), np.array([0.1, 0.2]), 0.9)
    assert metrics.precision == 0.0 and metrics.recall == 0.0 and metrics.f1 == 0.0


def test_calibration_by_hand() -> None:
    labels = np.array([0, 1, 1, 1])
    scores = np.array([0.05, 0.15, 0.95, 1.0])
    bins = reliability_bins(labels, scores)
    assert bins[0] == (0.0, pytest.approx(0.1), 1, 0.05, 0.0)
    assert bins[1][2:] == (1, 0.15, 1.0)
    assert bins[9][2:] == (2, pytest.approx(0.975), 1.0)  # 1.0 belongs to the last bin
    assert all(b[2] == 0 and b[3] is None for b in bins[2:9])
    # (1 * 0.05 + 1 * 0.85 + 2 * 0.025) / 4
    assert expected_calibration_error(labels, scores) == pytest.approx(0.95 / 4)


def test_roc_curve_points_by_hand() -> None:
    fpr, tpr, thresholds = roc_curve(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    assert fpr == pytest.approx([0, 0, 0.5, 0.5, 1])
    assert tpr == pytest.approx([0, 0.5, 0.5, 1, 1])
    assert thresholds == pytest.approx([1.0, 0.8, 0.4, 0.35, 0.1])


def test_roc_curve_is_downsampled_and_keeps_its_area() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 5000)
    scores = rng.random(5000) * 0.7 + labels * 0.3
    fpr, tpr, thresholds = roc_curve(labels, scores)
    assert len(fpr) == len(tpr) == len(thresholds) <= 200
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(thresholds) <= 0)
    assert np.trapz(tpr, fpr) == pytest.approx(roc_auc(labels, scores), abs=0.005)


def test_full_roc_area_equals_rank_auc() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 150)
    scores = np.round(rng.random(150), 1)
    fpr, tpr, _ = roc_curve(labels, scores, max_points=10_000)
    assert np.trapz(tpr, fpr) == pytest.approx(roc_auc(labels, scores), abs=1e-12)
