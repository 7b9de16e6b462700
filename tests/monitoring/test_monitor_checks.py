"""The monitor's verdict on real flights: TFDV drift and skew with the pipeline's thresholds, live
performance against evaluation, and what it leaves unjudged."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from monitor_support import (
    TRAIN_MONTHS,
    delay_model,
    delay_model_reference,
    monitor_result,
    sample,
    served_log,
)

from components.monitoring.config import load_monitor_config
from components.monitoring.monitor import MonitorResult, Signal, Status, check_production
from components.monitoring.reference import ModelReference
from components.schema.logic import load_schema
from components.validation.config import load_thresholds
from contracts.data_contract import LABEL

CONFIG = load_monitor_config()
WINDOW = CONFIG.window.max_rows


@pytest.fixture(scope="module")
def reference() -> ModelReference:
    return delay_model_reference()


def judge(reference: ModelReference, frame: pd.DataFrame, labels: np.ndarray | None = None) -> MonitorResult:
    assert reference is delay_model_reference()
    return monitor_result(frame, labels)


@pytest.mark.parametrize("seed", [1, 2])
def test_an_undrifted_window_is_healthy(reference: ModelReference, seed: int) -> None:
    result = judge(reference, sample(TRAIN_MONTHS, WINDOW, seed=seed))

    assert result.status is Status.HEALTHY, result.reasons
    assert result.signals == ()
    assert result.data is not None and result.data.labelled_drift
    assert result.performance.judged and not result.performance.degraded
    worst = max(
        m.value / m.threshold for m in result.data.measurements if m.feature not in result.data.ignored
    )
    assert worst < 0.8, (
        f"undrifted measurements should stay well below their thresholds, worst ratio {worst:.2f}"
    )


def test_injected_drift_is_detected_within_the_window(reference: ModelReference) -> None:
    undrifted = sample(TRAIN_MONTHS, WINDOW, seed=3)
    # Injected: traffic from one airport only (another region's launch), a shift no season makes.
    rerouted = sample(TRAIN_MONTHS, WINDOW * 3, seed=4)
    rerouted = rerouted[rerouted["origin"] == "EWR"].head(WINDOW).reset_index(drop=True)
    step = WINDOW // 10
    detected_at = None
    for drifted_rows in range(0, WINDOW + 1, step):
        window = pd.concat([undrifted.iloc[drifted_rows:], rerouted.iloc[:drifted_rows]], ignore_index=True)
        result = judge(reference, window)
        if drifted_rows == 0:
            assert result.signals == (), result.reasons
        features = {m.feature for m in result.data.acted_on} if result.data else set()
        if "origin" in features:
            detected_at = drifted_rows
            assert Signal.DRIFT in result.signals
            assert any(r.startswith("drift of origin: l_infinity") for r in result.reasons)
            assert any(r.startswith("skew of origin: l_infinity") for r in result.reasons)
            break
    assert detected_at is not None, "drift filling the window must be caught"
    assert detected_at <= WINDOW // 5, f"caught only after {detected_at} of {WINDOW} rows had drifted"


def test_a_later_month_drifts_and_a_label_shift_shows_as_drift_of_delayed(reference: ModelReference) -> None:
    result = judge(reference, sample((12,), WINDOW, seed=5))

    drifted = {m.feature for m in result.data.acted_on} if result.data else set()
    assert {"temp", "dewp"} <= drifted
    assert result.status is Status.RETRAIN


def test_outcomes_that_no_longer_follow_the_features_are_degradation(reference: ModelReference) -> None:
    frame = sample(TRAIN_MONTHS, WINDOW, seed=6)
    shuffled = np.random.default_rng(0).permutation(frame[LABEL].to_numpy())

    result = judge(reference, frame, labels=shuffled)

    assert Signal.DEGRADATION in result.signals
    degraded = {c.name for c in result.performance.degraded}
    assert "auc_drop" in degraded
    assert any("live auc" in r and "auc drop" in r for r in result.reasons)


def test_too_few_rows_are_not_judged(reference: ModelReference) -> None:
    result = judge(reference, sample((12,), CONFIG.performance.min_labelled_rows - 1, seed=7))

    assert result.status is Status.INSUFFICIENT_DATA
    assert result.data is None and not result.performance.judged
    assert any("wait for" in note or "waits for" in note for note in result.notes)


def test_an_ignored_feature_is_reported_but_not_acted_on(reference: ModelReference) -> None:
    frame = sample(TRAIN_MONTHS, WINDOW * 2, seed=8)
    frame = frame[frame["plane_engines"] != 4].head(WINDOW).reset_index(drop=True)

    result = judge(reference, frame)

    assert result.data is not None
    exceeded = {m.feature for m in result.data.measurements if m.exceeded}
    assert "plane_engines" in exceeded
    assert "plane_engines" not in {m.feature for m in result.data.acted_on}
    assert any("plane_engines" in note for note in result.notes)


def test_only_the_newest_rows_of_the_production_version_are_judged(reference: ModelReference) -> None:
    december = sample((12,), WINDOW, seed=9)
    june = sample(TRAIN_MONTHS, WINDOW, seed=10)
    older = served_log(december, delay_model().predict(december), version="v1", start=0.0)
    canary = served_log(december, delay_model().predict(december), version="v2", start=5_000.0)
    newer = served_log(june, delay_model().predict(june), version="v1", start=10_000.0)
    rows = pd.concat([older.rows, canary.rows, newer.rows], ignore_index=True)
    rows["request_id"] = [f"r{i}" for i in range(len(rows))]
    feedback = pd.DataFrame({"request_id": rows["request_id"], "row": 0, LABEL: 0})

    result = check_production(
        replace(older, rows=rows),
        feedback,
        reference,
        config=CONFIG,
        thresholds=load_thresholds(),
        schema=load_schema(),
        now=10_000.0 + WINDOW,
    )

    assert result.window.size == WINDOW
    assert result.window.start == 10_000.0
    assert set(result.window.rows["model_version"]) == {"v1"}
