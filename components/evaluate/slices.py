"""Metrics of one set of rows, and of each origin and carrier slice of an evaluation frame."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from components.evaluate.metrics import (
    as_arrays,
    confusion_counts,
    expected_calibration_error,
    log_loss,
    ratio,
    roc_auc,
)
from components.evaluate.results import BinaryMetrics, SliceMetrics
from contracts.data_contract import FEATURE_NAMES, LABEL, ORIGINS
from contracts.errors import EvaluationError

ORIGIN = "origin"
CARRIER = "carrier"


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> BinaryMetrics:
    """Every metric of one set of rows at one decision threshold.

    Raises:
        EvaluationError: for no rows, labels other than 0/1, or NaN/Inf scores.
    """
    labels, scores = as_arrays(labels, scores)
    if labels.size == 0:
        raise EvaluationError("cannot compute metrics of no rows")
    (true_negatives, false_positives), (false_negatives, true_positives) = confusion_counts(
        labels, scores, threshold
    )
    precision = ratio(true_positives, true_positives + false_positives)
    recall = ratio(true_positives, true_positives + false_negatives)
    return BinaryMetrics(
        rows=int(labels.size),
        positives=int(labels.sum()),
        positive_rate=float(labels.mean()),
        auc=roc_auc(labels, scores),
        log_loss=log_loss(labels, scores),
        accuracy=ratio(true_positives + true_negatives, labels.size),
        precision=precision,
        recall=recall,
        f1=ratio(2 * precision * recall, precision + recall),
        expected_calibration_error=expected_calibration_error(labels, scores),
        threshold=float(threshold),
    )


def slice_metrics(
    frame: pd.DataFrame, scores: np.ndarray, threshold: float, min_slice_rows: int
) -> tuple[SliceMetrics, ...]:
    """Metrics per origin (always gated) and per carrier (gated from ``min_slice_rows`` rows on).

    A slice holding a single class has no AUC, so it is never gated either. Origins come in the
    contract's order, carriers in alphabetical order.
    """
    labels = frame[LABEL].to_numpy()
    result = []
    origins = [origin for origin in ORIGINS if (frame[ORIGIN] == origin).any()]
    extra = sorted(set(frame[ORIGIN].astype(str)) - set(ORIGINS))
    for origin in [*origins, *extra]:
        members = (frame[ORIGIN].astype(str) == origin).to_numpy()
        metrics = binary_metrics(labels[members], scores[members], threshold)
        result.append(SliceMetrics(ORIGIN, origin, metrics.auc is not None, metrics))
    for carrier in sorted(set(frame[CARRIER].astype(str))):
        members = (frame[CARRIER].astype(str) == carrier).to_numpy()
        metrics = binary_metrics(labels[members], scores[members], threshold)
        gated = metrics.rows >= min_slice_rows and metrics.auc is not None
        result.append(SliceMetrics(CARRIER, carrier, gated, metrics))
    return tuple(result)


def data_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the feature and label values, row order included.

    Two evaluation results compare only if they were measured on the same rows; this is how the
    blessing step knows.
    """
    columns = [name for name in (*FEATURE_NAMES, LABEL) if name in frame.columns]
    hashes = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return hashlib.sha256(hashes.tobytes()).hexdigest()
