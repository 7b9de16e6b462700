"""The comparison marks a winner only beyond the noise of each AUC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from components.experiments.compare import (
    RunFacts,
    auc_standard_error,
    compare,
    render_html,
    render_text,
    swept_keys,
)
from components.experiments.records import ExperimentRun


def experiment_run(label: str, **parameters: object) -> ExperimentRun:
    return ExperimentRun(
        label=label,
        parameters=parameters,
        eval_month=7,
        run_id=f"run-{label}",
        succeeded=True,
        error="",
        version=f"v{label[1:]}",
        version_artifact_id=int(label[1:]),
        wall_seconds=60.0,
        recorded=datetime(2026, 1, 1, tzinfo=UTC),
    )


def facts(auc: float, *, rows: int = 28_000, positives: int = 7_000) -> RunFacts:
    metrics = {
        "auc": auc,
        "rows": rows,
        "positives": positives,
        "log_loss": 0.5,
        "auc_by_origin": {"EWR": auc},
    }
    return RunFacts(
        stage="candidate", blessed=True, metrics=metrics, training_seconds=30.0, model_size_mb=0.2
    )


def test_hanley_mcneil_standard_error() -> None:
    # Hanley and McNeil (1982), equation 2, worked by hand for A = 0.75, 100 positives, 300 negatives.
    assert auc_standard_error(0.75, 100, 300) == pytest.approx(0.030511, abs=1e-6)
    assert auc_standard_error(0.75, 1000, 3000) < auc_standard_error(0.75, 100, 300)
    with pytest.raises(ValueError):
        auc_standard_error(0.7, 0, 10)


def test_a_clear_gap_is_worse_and_a_small_one_a_tie() -> None:
    runs = [experiment_run("r1", learning_rate=0.001), experiment_run("r2", learning_rate=0.003)]
    runs.append(experiment_run("r3", learning_rate=0.01))
    rows = compare(runs, {"r1": facts(0.750), "r2": facts(0.748), "r3": facts(0.700)})
    assert [row.mark for row in rows] == ["best", "tie", "worse"]
    best, tie, worse = rows
    assert best.auc_gap == 0
    assert tie.auc_gap_ci is not None and tie.auc_gap_ci[0] < 0 < tie.auc_gap_ci[1]
    assert worse.auc_gap_ci is not None and worse.auc_gap_ci[0] > 0
    assert tie.auc_gap == pytest.approx(0.002)


def test_on_few_rows_even_a_large_gap_is_a_tie() -> None:
    runs = [experiment_run("r1"), experiment_run("r2")]
    rows = compare(runs, {"r1": facts(0.75, rows=60, positives=15), "r2": facts(0.70, rows=60, positives=15)})
    assert [row.mark for row in rows] == ["best", "tie"]


def test_a_failed_run_is_listed_without_metrics() -> None:
    runs = [experiment_run("r1"), experiment_run("r2")]
    rows = compare(runs, {"r1": facts(0.74)})
    assert [row.mark for row in rows] == ["best", "failed"]
    assert "failed" in render_text("sweep", rows)


def test_the_renderings_show_every_run_and_plot_each_swept_parameter() -> None:
    runs = [
        experiment_run("r1", learning_rate=0.001, epochs=4),
        experiment_run("r2", learning_rate=0.003, epochs=4),
    ]
    rows = compare(runs, {"r1": facts(0.74), "r2": facts(0.75)})
    assert swept_keys(runs) == ["learning_rate"]
    text = render_text("sweep", rows)
    assert "judged on month 7 of 2013" in text and "r1" in text and "r2" in text and "★ best" in text
    page = render_html("sweep", rows)
    assert page.count("<svg") == 1 and "AUC against learning_rate" in page
    assert "https://" not in page and "<script" not in page
