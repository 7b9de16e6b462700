"""The commands: mlops monitor check (with and without --act), monitor triggers, watch and retrain's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from monitor_support import TRAIN_MONTHS, delay_model, register_production, sample, write_served

from cli.main import main
from components.lineage import open_store
from components.monitoring.feedback import Feedback, store_feedback


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder whose production version has served 1,500 rerouted (drifted) flights, outcomes back."""
    state = tmp_path / "state"
    monkeypatch.setenv("MLOPS_STATE_DIR", str(state))
    with open_store(f"sqlite:///{state}/metadata.sqlite") as store:
        register_production(
            store,
            state / "runs",
            training=sample(TRAIN_MONTHS, 20_000, seed=1),
            metrics=delay_model().metrics(sample(TRAIN_MONTHS, 3_000, seed=99)),
        )
    flights = sample(TRAIN_MONTHS, 6_000, seed=5)
    flights = flights[flights["origin"] == "EWR"].head(1_500).reset_index(drop=True)
    ids = write_served(state / "requests", flights, delay_model().predict(flights), version="v1", prefix="c")
    store_feedback(
        state / "feedback", [Feedback(i, 0, int(y)) for i, y in zip(ids, flights["delayed"], strict=True)]
    )
    return state


def test_check_reports_without_recording_and_act_records(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["monitor", "check", "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["status"] == "retrain" and checked["signals"] == ["drift"]
    assert (state / "monitoring" / "reports" / "latest" / "report.md").is_file()
    assert "flight_delay_monitor_status" in (state / "monitoring" / "metrics.prom").read_text()
    assert main(["monitor", "triggers", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # a plain check decides nothing

    assert main(["monitor", "check", "--act"]) == 0
    out = capsys.readouterr().out
    assert "**retraining wanted** (signals: drift)" in out
    assert "drift suppressed: debounce: drift raised by 1 of 2 consecutive checks" in out
    assert main(["monitor", "triggers"]) == 0
    listing = capsys.readouterr().out
    assert "check" in listing and "drift suppressed" in listing and "debounce" in listing


def test_watch_runs_its_ticks_and_stops(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--no-monitor", "--max-ticks", "2", "--poll", "0.1", "--every", "1d"]) == 0
    out = capsys.readouterr().out
    assert "watching flight-delay: schedule every 86400 s; a tick every 0.1 s" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["retrain", "--as-of", "1"], "the newest month must be within 2-12"),
        (["retrain", "--trigger", "whim"], "unknown trigger 'whim'"),
        (["retrain", "--data", "nowhere.csv"], "no batch file at"),
        (["watch", "--every", "soon"], None),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(
    state: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str | None
) -> None:
    if message is None:
        with pytest.raises(SystemExit):
            main(arguments)
        assert "a duration looks like 90s, 15m, 6h or 1d" in capsys.readouterr().err
        return
    assert main(arguments) == 1
    assert message in capsys.readouterr().err
