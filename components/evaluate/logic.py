"""Evaluation of model artifacts on held-out rows, and the blessing decision against production."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from components.evaluate.blessing import Verdict, judge
from components.evaluate.importance import DEFAULT_SAMPLE_ROWS, permutation_importance
from components.evaluate.metrics import confusion_counts, reliability_bins, roc_curve
from components.evaluate.report import render_report
from components.evaluate.results import (
    CONFUSION_CATEGORIES,
    EvaluationResult,
    FeatureImportance,
    ReliabilityBin,
)
from components.evaluate.slices import binary_metrics, data_fingerprint, slice_metrics
from components.evaluate.thresholds import DEFAULT_THRESHOLDS_PATH, Thresholds, load_thresholds
from components.train.artifact import load_metadata, load_model
from components.train.prediction import predict_proba
from contracts.data_contract import LABEL
from contracts.errors import EvaluationError


def evaluate_predictions(
    frame: pd.DataFrame,
    probabilities: np.ndarray,
    *,
    threshold: float,
    model_name: str,
    min_slice_rows: int,
    importance: tuple[FeatureImportance, ...] = (),
) -> EvaluationResult:
    """Every metric of given predictions on labelled rows: overall, per slice, calibration, ROC, confusion.

    Args:
        frame: Labelled evaluation rows following the data contract.
        probabilities: The model's delay probability per row, in the frame's order.
        threshold: Decision threshold for accuracy, precision, recall, F1 and the confusion matrix.
        model_name: Stored in the result, e.g. ``"candidate"``.
        min_slice_rows: Carriers with fewer rows are reported but not gated.
        importance: Permutation importance, when computed.

    Raises:
        EvaluationError: when the frame has no label or no rows, a single class, or NaN/Inf
            probabilities.
    """
    if LABEL not in frame.columns:
        raise EvaluationError(f"evaluation rows need the label column {LABEL!r}")
    probabilities = np.asarray(probabilities, dtype="float64").reshape(-1)
    if len(probabilities) != len(frame):
        raise EvaluationError(f"{len(probabilities)} probabilities for {len(frame)} rows")
    labels = frame[LABEL].to_numpy()
    fpr, tpr, roc_thresholds = roc_curve(labels, probabilities)
    counts = confusion_counts(labels, probabilities, threshold)
    return EvaluationResult(
        model_name=model_name,
        data_fingerprint=data_fingerprint(frame),
        months=tuple(sorted(int(month) for month in frame["month"].unique())) if "month" in frame else (),
        overall=binary_metrics(labels, probabilities, threshold),
        slices=slice_metrics(frame, probabilities, threshold, min_slice_rows),
        reliability=tuple(ReliabilityBin(*row) for row in reliability_bins(labels, probabilities)),
        roc_fpr=tuple(fpr),
        roc_tpr=tuple(tpr),
        roc_thresholds=tuple(roc_thresholds),
        confusion_categories=CONFUSION_CATEGORIES,
        confusion_matrix=tuple(tuple(int(count) for count in row) for row in counts),
        importance=importance,
    )


def evaluate_model(
    model: keras.Model,
    frame: pd.DataFrame,
    *,
    threshold: float,
    model_name: str,
    min_slice_rows: int,
    importance_rows: int = DEFAULT_SAMPLE_ROWS,
    seed: int = 0,
) -> EvaluationResult:
    """Predicts on the rows and evaluates, with permutation importance on a bounded sample.

    Args:
        model: A Keras model from ``components.train``.
        frame: Labelled evaluation rows (a later month than the training window).
        threshold: Decision threshold (usually the model's ``decision_threshold`` from model.json).
        model_name: Stored in the result.
        min_slice_rows: Carriers with fewer rows are reported but not gated.
        importance_rows: Rows sampled for permutation importance; 0 skips it.
        seed: Fixes the importance sample and shuffles.
    """
    probabilities = predict_proba(model, frame)
    importance: tuple[FeatureImportance, ...] = ()
    if importance_rows > 0:
        importance = permutation_importance(
            partial(predict_proba, model), frame, sample_rows=importance_rows, seed=seed
        )
    return evaluate_predictions(
        frame,
        probabilities,
        threshold=threshold,
        model_name=model_name,
        min_slice_rows=min_slice_rows,
        importance=importance,
    )


def evaluate_artifact(
    artifact_dir: Path,
    frame: pd.DataFrame,
    *,
    model_name: str,
    thresholds: Thresholds,
    threshold: float | None = None,
    importance_rows: int = DEFAULT_SAMPLE_ROWS,
) -> EvaluationResult:
    """Evaluates the model stored in an artifact folder written by ``components.train.artifact``.

    Args:
        artifact_dir: Holds ``model.keras`` and ``model.json``.
        frame: Labelled evaluation rows.
        model_name: Stored in the result.
        thresholds: Supplies ``min_slice_rows``.
        threshold: Decision threshold; defaults to the model's own, chosen on its validation rows.
        importance_rows: Rows sampled for permutation importance; 0 skips it.
    """
    model = load_model(artifact_dir)
    decision = load_metadata(artifact_dir).decision_threshold if threshold is None else threshold
    return evaluate_model(
        model,
        frame,
        threshold=decision,
        model_name=model_name,
        min_slice_rows=thresholds.min_slice_rows,
        importance_rows=importance_rows,
    )


@dataclass(frozen=True)
class Evaluation:
    """The outcome of the evaluation step.

    Attributes:
        candidate: The candidate's evaluation, with permutation importance.
        production: The production model's evaluation on the same rows, or None for the first model.
        verdict: Blessed or not, and every check.
        thresholds: The thresholds applied.
        report: Markdown explaining the verdict.
    """

    candidate: EvaluationResult
    production: EvaluationResult | None
    verdict: Verdict
    thresholds: Thresholds
    report: str


def evaluate_candidate(
    candidate_dir: Path,
    frame: pd.DataFrame,
    *,
    production_dir: Path | None = None,
    thresholds_path: Path = DEFAULT_THRESHOLDS_PATH,
    importance_rows: int = DEFAULT_SAMPLE_ROWS,
) -> Evaluation:
    """Evaluates a candidate (and production, on the same rows) and decides whether to bless it.

    Args:
        candidate_dir: The candidate's artifact folder.
        frame: Labelled evaluation rows from a month later than the candidate's training window.
        production_dir: The serving model's artifact folder; None when no model serves yet.
        thresholds_path: Blessing thresholds (TOML); defaults to ``thresholds.toml`` beside this module.
        importance_rows: Rows sampled for the candidate's permutation importance; 0 skips it.

    Returns:
        Both evaluations, the verdict and the Markdown report.

    Raises:
        EvaluationError: for unusable thresholds or evaluation rows.
        TrainingError: when an artifact folder holds no readable model.

    Example:
        >>> outcome = evaluate_candidate(Path("candidate"), load_months([7]), production_dir=Path("prod"))
        >>> outcome.verdict.blessed, outcome.verdict.summary()
    """
    thresholds = load_thresholds(thresholds_path)
    candidate = evaluate_artifact(
        candidate_dir, frame, model_name="candidate", thresholds=thresholds, importance_rows=importance_rows
    )
    production = None
    if production_dir is not None:
        production = evaluate_artifact(
            production_dir, frame, model_name="production", thresholds=thresholds, importance_rows=0
        )
    verdict = judge(candidate, production, thresholds)
    return Evaluation(
        candidate=candidate,
        production=production,
        verdict=verdict,
        thresholds=thresholds,
        report=render_report(candidate, verdict, production),
    )
