"""Binary-classification metrics in plain NumPy (no scikit-learn), each checked against hand counts.

Conventions: labels are 0/1, scores are probabilities of class 1, and a row is predicted positive when
its score is at least the decision threshold.
"""

from __future__ import annotations

import numpy as np

from contracts.errors import EvaluationError

# Same clipping as Keras' binary cross-entropy, so log loss here and in training agree.
PROBABILITY_EPSILON = 1e-7
CALIBRATION_BINS = 10
MAX_ROC_POINTS = 200


def as_arrays(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattened labels (int) and scores (float64), checked for equal length, 0/1 labels, finite scores.

    Raises:
        EvaluationError: for mismatched lengths, labels other than 0/1, or NaN/Inf scores.
    """
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores, dtype="float64").reshape(-1)
    if labels.shape != scores.shape:
        raise EvaluationError(f"{labels.size} labels but {scores.size} scores")
    if not np.isin(labels, (0, 1)).all():
        raise EvaluationError("labels must be 0 or 1")
    if not np.isfinite(scores).all():
        raise EvaluationError(f"{int((~np.isfinite(scores)).sum())} scores are NaN/Inf")
    return labels.astype("int64"), scores


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``, tied values sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1
    return (first_rank + (counts - 1) / 2.0)[inverse]


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve via the Mann-Whitney rank statistic; ties count one half.

    Returns:
        The AUC, or None when the rows hold only one class (the AUC is then undefined).
    """
    labels, scores = as_arrays(labels, scores)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    rank_sum = float(average_ranks(scores)[labels == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def log_loss(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mean binary cross-entropy, probabilities clipped to [1e-7, 1 - 1e-7].

    Raises:
        EvaluationError: for no rows.
    """
    labels, scores = as_arrays(labels, scores)
    if labels.size == 0:
        raise EvaluationError("log loss of no rows is undefined")
    clipped = np.clip(scores, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)
    return float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))


def confusion_counts(labels: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Counts ``[[true negatives, false positives], [false negatives, true positives]]``.

    Rows are the actual class (0, 1), columns the predicted one: the layout KFP's
    ``ClassificationMetrics.log_confusion_matrix`` expects with categories ``["on_time", "delayed"]``.
    """
    labels, scores = as_arrays(labels, scores)
    predicted = (scores >= threshold).astype("int64")
    matrix = np.zeros((2, 2), dtype="int64")
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, 0.0 when nothing is counted (scikit-learn's zero_division=0)."""
    return numerator / denominator if denominator else 0.0


def reliability_bins(
    labels: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[tuple[float, float, int, float | None, float | None]]:
    """Equal-width probability bins: (lower, upper, rows, mean predicted, observed delay rate).

    A score of exactly 1.0 falls in the last bin; an empty bin has None for both means.
    """
    labels, scores = as_arrays(labels, scores)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    result: list[tuple[float, float, int, float | None, float | None]] = []
    for position in range(bins):
        members = index == position
        rows = int(members.sum())
        mean_predicted = float(scores[members].mean()) if rows else None
        observed = float(labels[members].mean()) if rows else None
        result.append((float(edges[position]), float(edges[position + 1]), rows, mean_predicted, observed))
    return result


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Row-weighted mean gap between predicted probability and observed rate over equal-width bins.

    Raises:
        EvaluationError: for no rows.
    """
    total = 0
    weighted_gap = 0.0
    for _, _, rows, predicted, observed in reliability_bins(labels, scores, bins):
        if predicted is not None and observed is not None:
            total += rows
            weighted_gap += rows * abs(predicted - observed)
    if total == 0:
        raise EvaluationError("calibration of no rows is undefined")
    return weighted_gap / total


def roc_curve(
    labels: np.ndarray, scores: np.ndarray, max_points: int = MAX_ROC_POINTS
) -> tuple[list[float], list[float], list[float]]:
    """ROC points (false-positive rates, true-positive rates, thresholds), at most ``max_points``.

    One point per distinct score (predict positive at ``score >= threshold``), from the strictest to
    the loosest, preceded by (0, 0) with threshold 1.0. When there are more points than
    ``max_points``, evenly spaced ones are kept, always including both ends.

    Raises:
        EvaluationError: when the rows hold only one class.
    """
    labels, scores = as_arrays(labels, scores)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        raise EvaluationError("a ROC curve needs both classes among the rows")
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_labels = scores[order], labels[order]
    # The last row of each run of equal scores: the counts there include the whole run.
    run_ends = np.r_[np.nonzero(np.diff(sorted_scores))[0], sorted_scores.size - 1]
    true_positives = np.cumsum(sorted_labels)[run_ends]
    false_positives = (run_ends + 1) - true_positives
    fpr = np.r_[0.0, false_positives / negatives]
    tpr = np.r_[0.0, true_positives / positives]
    thresholds = np.r_[1.0, sorted_scores[run_ends]]
    if fpr.size > max_points:
        keep = np.unique(np.linspace(0, fpr.size - 1, max_points).round().astype(int))
        fpr, tpr, thresholds = fpr[keep], tpr[keep], thresholds[keep]
    return fpr.tolist(), tpr.tolist(), thresholds.tolist()
