"""JSON round trips of results and verdicts, and the Markdown report that explains them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.evaluate.blessing import Verdict, judge, load_verdict, save_verdict
from components.evaluate.logic import evaluate_predictions
from components.evaluate.report import render_report
from components.evaluate.results import EvaluationResult, FeatureImportance, load_result, save_result
from components.evaluate.thresholds import Thresholds
from contracts.errors import EvaluationError

# The ``scores`` fixture: calibrated probabilities of a given ranking power (see conftest).
Scorer = Callable[[pd.DataFrame, float], np.ndarray]


@pytest.fixture(scope="module")
def pair(
    july: pd.DataFrame, lenient_thresholds: Thresholds, scores: Scorer
) -> tuple[EvaluationResult, EvaluationResult]:
    importance = (FeatureImportance("sched_dep_time", 0.12, {"EWR": 0.1, "JFK": 0.2, "LGA": None}),)
    made = [
        evaluate_predictions(
            july,
            scores(july, signal),
            threshold=0.4,
            model_name=name,
            min_slice_rows=lenient_thresholds.min_slice_rows,
            importance=importance,
        )
        for name, signal in (("candidate", 0.3), ("production", 1.5))
    ]
    return made[0], made[1]


def test_result_and_verdict_round_trip_through_json(
    pair: tuple[EvaluationResult, EvaluationResult], lenient_thresholds: Thresholds, tmp_path: Path
) -> None:
    candidate, production = pair
    verdict = judge(candidate, production, lenient_thresholds)
    assert load_result(save_result(candidate, tmp_path / "result.json")) == candidate
    assert load_verdict(save_verdict(verdict, tmp_path / "verdict.json")) == verdict


def test_kfp_classification_lists_are_plain_and_consistent(
    pair: tuple[EvaluationResult, EvaluationResult],
) -> None:
    candidate, _ = pair
    assert len(candidate.roc_fpr) == len(candidate.roc_tpr) == len(candidate.roc_thresholds) <= 200
    assert candidate.confusion_categories == ("on_time", "delayed")
    (tn, fp), (fn, tp) = candidate.confusion_matrix
    assert tn + fp + fn + tp == candidate.overall.rows and fn + tp == candidate.overall.positives
    assert candidate.overall.precision == pytest.approx(tp / (tp + fp))


def test_malformed_json_is_an_evaluation_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"model_name": "x"}')
    with pytest.raises(EvaluationError, match="malformed evaluation result"):
        load_result(tmp_path / "bad.json")
    with pytest.raises(EvaluationError, match="malformed verdict"):
        load_verdict(tmp_path / "bad.json")
    with pytest.raises(EvaluationError, match="cannot read"):
        load_result(tmp_path / "absent.json")


def test_report_names_every_check_with_its_mark(
    pair: tuple[EvaluationResult, EvaluationResult], lenient_thresholds: Thresholds
) -> None:
    candidate, production = pair
    verdict = judge(candidate, production, lenient_thresholds)
    report = render_report(candidate, verdict, production)
    assert report.startswith("# Evaluation of `candidate`: ❌ NOT BLESSED")
    for check in verdict.checks:
        mark = "✅" if check.passed else "❌"
        assert f"| {mark} | `{check.name}` | {check.description} |" in report
    for section in (
        "## Overall metrics",
        "## Checks",
        "## Slices by origin",
        "## Slices by carrier",
        "## Calibration",
    ):
        assert section in report
    assert "| `sched_dep_time` | 0.1200 | 0.1000 | 0.2000 | n/a |" in report


def test_report_of_a_first_model_says_so(
    pair: tuple[EvaluationResult, EvaluationResult], lenient_thresholds: Thresholds
) -> None:
    _, production = pair
    verdict: Verdict = judge(production, None, lenient_thresholds)
    report = render_report(production, verdict)
    assert "✅ BLESSED" in report and "first model: judged by absolute thresholds only" in report
    assert "| metric | candidate |" in report and "production | change" not in report


def test_unusable_evaluation_rows_are_refused(july: pd.DataFrame) -> None:
    probabilities = np.full(len(july), 0.3)
    with pytest.raises(EvaluationError, match="probabilities for"):
        evaluate_predictions(july, probabilities[:-1], threshold=0.5, model_name="m", min_slice_rows=10)
    with pytest.raises(EvaluationError, match="label column"):
        evaluate_predictions(
            july.drop(columns=["delayed"]), probabilities, threshold=0.5, model_name="m", min_slice_rows=10
        )
    on_time = july.assign(delayed=0)
    with pytest.raises(EvaluationError, match="both classes"):
        evaluate_predictions(on_time, probabilities, threshold=0.5, model_name="m", min_slice_rows=10)
