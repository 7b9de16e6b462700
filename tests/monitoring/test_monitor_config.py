"""The monitor's settings file: the shipped one loads; malformed ones are refused, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_files import assert_refused_naming_the_file, edited_copy

from components.monitoring.config import MONITOR_CONFIG_PATH, load_monitor_config
from contracts.errors import ConfigError


def test_the_shipped_settings_load_typed() -> None:
    config = load_monitor_config()

    assert config.window.min_rows <= config.window.max_rows
    assert isinstance(config.window.max_age_seconds, float)
    assert config.data.ignore_features == ("plane_engines",)
    assert config.with_window(max_rows=5_000).window.max_rows == 5_000


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[data]", "[datum]", r"unknown tables \['datum'\], missing tables \['data'\]"),
        ("min_rows = 1000", "min_row = 1000", r"\[window\]: unknown keys \['min_row'\]"),
        ("min_rows = 1000", "min_rows = true", r"\[window\] min_rows must be an integer, got True"),
        ("max_age_seconds = 604800.0", "max_age_seconds = nan", "max_age_seconds must be a finite number"),
        ("max_auc_drop = 0.05", 'max_auc_drop = "0.05"', r"\[performance\] max_auc_drop must be a number"),
        ("min_rows = 1000", "min_rows = 2000", r"\[window\] needs 0 < min_rows <= max_rows, got 2000, 1500"),
        ("max_auc_drop = 0.05", "max_auc_drop = 1.5", r"max_auc_drop must be within \(0, 1\]"),
        (
            '["plane_engines"]',
            '["plane_engine", "wings"]',
            r"ignore_features names no model feature: \['wings'\]",
        ),
        ('["plane_engines"]', '"plane_engines"', "ignore_features must be a list of names"),
    ],
)
def test_malformed_settings_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = edited_copy(MONITOR_CONFIG_PATH, tmp_path, old, new)
    assert_refused_naming_the_file(load_monitor_config, path, ConfigError, message)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the monitor settings"):
        load_monitor_config(tmp_path / "absent.toml")
