"""Blessing rules on real evaluation rows with controlled scores: which check decides, and why."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from components.evaluate.blessing import judge
from components.evaluate.logic import evaluate_predictions
from components.evaluate.results import EvaluationResult
from components.evaluate.thresholds import Thresholds
from contracts.data_contract import ORIGINS
from contracts.errors import EvaluationError

# The ``scores`` fixture: calibrated probabilities of a given ranking power (see conftest).
Scorer = Callable[[pd.DataFrame, float], np.ndarray]


def result(
    frame: pd.DataFrame, probabilities: np.ndarray, thresholds: Thresholds, name: str
) -> EvaluationResult:
    return evaluate_predictions(
        frame, probabilities, threshold=0.5, model_name=name, min_slice_rows=thresholds.min_slice_rows
    )


def test_first_model_is_judged_by_absolute_thresholds_only(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    verdict = judge(result(july, scores(july, 1.0), lenient_thresholds, "first"), None, lenient_thresholds)
    assert verdict.blessed and not verdict.compared_with_production
    names = [check.name for check in verdict.checks]
    assert names[:3] == ["auc_min", "log_loss_max", "calibration_error_max"]
    assert [f"origin_auc_min[{origin}]" for origin in ORIGINS] == names[3:6]
    assert "origin_auc_gap_max" in names
    assert not any("production" in name for name in names)


def test_worse_candidate_fails_the_change_check_by_name(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    production = result(july, scores(july, 1.5), lenient_thresholds, "production")
    candidate = result(july, scores(july, 1.0), lenient_thresholds, "candidate")
    alone = judge(candidate, None, lenient_thresholds)
    verdict = judge(candidate, production, lenient_thresholds)
    assert alone.blessed, "good enough on its own"
    assert not verdict.blessed and verdict.compared_with_production
    failed = {check.name: check for check in verdict.failed}
    assert "auc_drop_vs_production" in failed
    drop = failed["auc_drop_vs_production"]
    assert candidate.overall.auc is not None and production.overall.auc is not None
    assert drop.value == pytest.approx(candidate.overall.auc - production.overall.auc)
    assert drop.threshold == -lenient_thresholds.max_auc_drop
    assert (
        verdict.summary().startswith("not blessed: failed ") and "auc_drop_vs_production" in verdict.summary()
    )


def test_equal_or_better_candidate_is_blessed(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    production = result(july, scores(july, 1.0), lenient_thresholds, "production")
    for signal in (1.0, 1.5):
        verdict = judge(
            result(july, scores(july, signal), lenient_thresholds, "candidate"),
            production,
            lenient_thresholds,
        )
        assert verdict.blessed, verdict.summary()
        assert sum("vs_production" in check.name for check in verdict.checks) == 2 + len(ORIGINS)


def test_log_loss_rise_is_caught_even_with_equal_auc(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    base = scores(july, 1.5)
    production = result(july, base, lenient_thresholds, "production")
    # The same ranking (same AUC) but overconfident probabilities: worse log loss.
    overconfident = np.clip(base**0.5, 0, 1)
    verdict = judge(
        result(july, overconfident, lenient_thresholds, "candidate"), production, lenient_thresholds
    )
    failed = [check.name for check in verdict.failed]
    assert "log_loss_rise_vs_production" in failed and "auc_drop_vs_production" not in failed


def test_a_weak_origin_fails_its_slice_and_the_gap(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    probabilities = scores(july, 1.5)
    jfk = (july["origin"] == "JFK").to_numpy()
    probabilities[jfk] = np.random.default_rng(5).random(int(jfk.sum()))
    verdict = judge(result(july, probabilities, lenient_thresholds, "candidate"), None, lenient_thresholds)
    assert {check.name for check in verdict.failed} >= {"origin_auc_min[JFK]", "origin_auc_gap_max"}
    assert "origin_auc_min[EWR]" not in {check.name for check in verdict.failed}


def test_an_absent_origin_cannot_pass(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    no_lga = july[july["origin"] != "LGA"].reset_index(drop=True)
    verdict = judge(
        result(no_lga, scores(no_lga, 1.5), lenient_thresholds, "candidate"), None, lenient_thresholds
    )
    failed = {check.name: check for check in verdict.failed}
    assert set(failed) == {"origin_auc_min[LGA]", "origin_auc_gap_max"}
    assert failed["origin_auc_min[LGA]"].value is None


def test_small_carriers_are_reported_but_not_gated(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    evaluation = result(july, scores(july, 1.5), lenient_thresholds, "candidate")
    carriers = evaluation.slices_of("carrier")
    small = [item for item in carriers if item.metrics.rows < lenient_thresholds.min_slice_rows]
    assert small and not any(item.gated for item in small)
    gated_checks = {check.name for check in judge(evaluation, None, lenient_thresholds).checks}
    assert all(f"carrier_auc_min[{item.value}]" not in gated_checks for item in small)
    assert all(f"carrier_auc_min[{item.value}]" in gated_checks for item in carriers if item.gated)


def test_results_on_different_rows_cannot_be_compared(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> None:
    production = result(july, scores(july, 1.5), lenient_thresholds, "production")
    half = july.iloc[: len(july) // 2].reset_index(drop=True)
    candidate = result(half, scores(half, 1.5), lenient_thresholds, "candidate")
    with pytest.raises(EvaluationError, match="different rows"):
        judge(candidate, production, lenient_thresholds)
