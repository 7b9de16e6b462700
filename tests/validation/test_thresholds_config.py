"""The thresholds file: the shipped one is valid and covers the contract; malformed ones are refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from components.validation.config import THRESHOLDS_PATH, load_thresholds
from contracts.data_contract import FEATURE_NAMES, LABEL
from contracts.errors import ConfigError

VALID = """
[drift]
numeric_js_divergence = 0.1
categorical_linf = 0.05
features = ["temp", "carrier"]
[drift.per_feature]
temp = 0.4
[skew]
numeric_js_divergence = 0.2
categorical_linf = 0.1
features = ["temp"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "thresholds.toml"
    path.write_text(text)
    return path


def test_shipped_file_compares_every_model_feature() -> None:
    thresholds = load_thresholds()

    assert set(thresholds.drift.features) == {*FEATURE_NAMES, LABEL}
    assert set(thresholds.skew.features) == set(FEATURE_NAMES)
    assert thresholds.drift.threshold_for("temp", numeric=True) > thresholds.drift.numeric_js_divergence


def test_per_feature_threshold_overrides_the_kind_default(tmp_path: Path) -> None:
    thresholds = load_thresholds(_write(tmp_path, VALID))

    assert thresholds.drift.threshold_for("temp", numeric=True) == 0.4
    assert thresholds.drift.threshold_for("carrier", numeric=False) == 0.05
    assert thresholds.skew.threshold_for("temp", numeric=True) == 0.2


def test_thresholds_are_frozen() -> None:
    thresholds = load_thresholds()

    with pytest.raises(dataclasses.FrozenInstanceError):
        thresholds.drift = thresholds.skew  # type: ignore[misc]
    with pytest.raises(TypeError):
        thresholds.drift.per_feature["temp"] = 0.9  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[drift\nnumeric = 1", "not valid TOML"),
        (VALID.replace("categorical_linf = 0.05\n", ""), "missing keys \\['categorical_linf'\\]"),
        (VALID.replace("temp = 0.4", "temp = 1.5"), "temp must be a number in \\(0, 1\\]"),
        (VALID.replace("numeric_js_divergence = 0.1", "numeric_js_divergence = true"), "must be a number"),
        (VALID.replace("numeric_js_divergence = 0.1", 'numeric_js_divergence = "0.1"'), "must be a number"),
        (VALID.replace("temp = 0.4", "temp = nan"), "temp must be a finite number"),
        (VALID.replace("temp = 0.4", "wind = 0.4"), "not compared: \\['wind'\\]"),
        (VALID.replace('features = ["temp"]', "features = 3"), "must be a list of feature names"),
        (VALID + "\n[extra]\nx = 1\n", "unknown tables \\['extra'\\]"),
        (VALID.replace("[skew]", "[skewed]"), "unknown tables"),
        (VALID.replace("categorical_linf = 0.05", "categorical_linf = 0.05\nlinf = 0.1"), "unknown keys"),
    ],
)
def test_malformed_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_thresholds(_write(tmp_path, text))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read thresholds"):
        load_thresholds(tmp_path / "absent.toml")


def test_default_path_is_beside_the_module() -> None:
    assert THRESHOLDS_PATH.parent.name == "validation"
    assert THRESHOLDS_PATH.is_file()
