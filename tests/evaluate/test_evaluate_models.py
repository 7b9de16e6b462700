"""The evaluation step end to end on trained artifacts: first model, worse candidate, equal candidate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from components.evaluate.logic import evaluate_candidate
from components.train.artifact import load_metadata


def test_first_model_is_blessed_on_absolute_thresholds(
    good_model_dir: Path, july: pd.DataFrame, lenient_thresholds_path: Path
) -> None:
    outcome = evaluate_candidate(
        good_model_dir, july, thresholds_path=lenient_thresholds_path, importance_rows=1000
    )
    assert outcome.verdict.blessed, outcome.verdict.summary()
    assert outcome.production is None and not outcome.verdict.compared_with_production
    assert outcome.candidate.overall.threshold == load_metadata(good_model_dir).decision_threshold
    assert outcome.candidate.months == (7,)
    assert {item.feature for item in outcome.candidate.importance} >= {"sched_dep_time", "origin"}
    assert "✅ BLESSED" in outcome.report


def test_shuffled_label_candidate_is_not_blessed_against_good_production(
    good_model_dir: Path, shuffled_model_dir: Path, july: pd.DataFrame, lenient_thresholds_path: Path
) -> None:
    outcome = evaluate_candidate(
        shuffled_model_dir,
        july,
        production_dir=good_model_dir,
        thresholds_path=lenient_thresholds_path,
        importance_rows=0,
    )
    assert not outcome.verdict.blessed
    failed = {check.name for check in outcome.verdict.failed}
    assert {"auc_drop_vs_production", "auc_min"} <= failed
    assert outcome.production is not None
    candidate_auc, production_auc = outcome.candidate.overall.auc, outcome.production.overall.auc
    assert candidate_auc is not None and production_auc is not None
    assert candidate_auc < 0.6 < production_auc
    assert "❌ | `auc_drop_vs_production`" in outcome.report


def test_equal_candidate_is_blessed_against_production(
    good_model_dir: Path, july: pd.DataFrame, lenient_thresholds_path: Path
) -> None:
    outcome = evaluate_candidate(
        good_model_dir,
        july,
        production_dir=good_model_dir,
        thresholds_path=lenient_thresholds_path,
        importance_rows=0,
    )
    assert outcome.verdict.blessed, outcome.verdict.summary()
    change = {check.name: check.value for check in outcome.verdict.checks if "vs_production" in check.name}
    assert change and all(value == 0.0 for value in change.values())


def test_good_candidate_is_blessed_against_a_worse_production(
    good_model_dir: Path, shuffled_model_dir: Path, july: pd.DataFrame, lenient_thresholds_path: Path
) -> None:
    outcome = evaluate_candidate(
        good_model_dir,
        july,
        production_dir=shuffled_model_dir,
        thresholds_path=lenient_thresholds_path,
        importance_rows=0,
    )
    assert outcome.verdict.blessed, outcome.verdict.summary()
