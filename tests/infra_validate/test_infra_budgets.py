"""The infra-validation budgets file: the shipped one loads; typos and non-positive budgets are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_files import assert_refused_naming_the_file, edited_copy

from components.infra_validate.budgets import BUDGETS_PATH, Budgets, load_budgets
from contracts.errors import ConfigError


def test_shipped_budgets_load_typed() -> None:
    budgets = load_budgets()

    assert isinstance(budgets, Budgets)
    assert isinstance(budgets.max_p99_latency_ms, float) and budgets.max_p99_latency_ms > 0
    assert isinstance(budgets.latency_requests, int) and budgets.latency_requests > 0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "batch_rows = 64",
            "batch_row = 64",
            r"unknown budgets \['batch_row'\], missing budgets \['batch_rows'\]",
        ),
        ("batch_rows = 64", "batch_rows = 0", "batch_rows must be a positive number, got 0"),
        ("max_p99_latency_ms = 50.0", "max_p99_latency_ms = -1.0", "max_p99_latency_ms must be a positive"),
        ("max_p99_latency_ms = 50.0", "max_p99_latency_ms = inf", "must be a finite number"),
        ("batch_rows = 64", "batch_rows = true", "batch_rows must be an integer, got True"),
        ("latency_requests = 200", "latency_requests = 200.5", "latency_requests must be an integer"),
        ("batch_rows = 64", "batch_rows = 64\n[extra]\nx = 1", r"unknown budgets \['extra'\]"),
    ],
)
def test_bad_budgets_are_refused_naming_the_file(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = edited_copy(BUDGETS_PATH, tmp_path, old, new)
    assert_refused_naming_the_file(load_budgets, path, ConfigError, message)


def test_an_absent_budgets_file_says_what_it_should_have_held(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read infra-validation budgets"):
        load_budgets(tmp_path / "absent.toml")
