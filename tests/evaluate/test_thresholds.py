"""The thresholds file: the shipped one loads, and malformed ones fail loudly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from config_files import assert_refused_naming_the_file

from components.evaluate.thresholds import (
    DEFAULT_THRESHOLDS_PATH,
    Thresholds,
    load_thresholds,
    thresholds_to_toml,
)
from contracts.errors import EvaluationError


def test_shipped_thresholds_load() -> None:
    thresholds = load_thresholds()
    assert (
        Path(__file__).parents[2] / "components" / "evaluate" / "thresholds.toml" == DEFAULT_THRESHOLDS_PATH
    )
    assert 0.5 < thresholds.min_auc < 1 and isinstance(thresholds.min_slice_rows, int)


def test_written_thresholds_read_back_equal(
    lenient_thresholds_path: Path, lenient_thresholds: Thresholds
) -> None:
    assert load_thresholds(lenient_thresholds_path) == lenient_thresholds


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text.replace("min_auc = 0.6\n", ""), r"missing keys \['min_auc'\]"),
        (
            lambda text: text.replace("min_auc = 0.6", "min_auc = 0.6\nmin_acu = 0.7"),
            r"unknown keys \['min_acu'\]",
        ),
        (lambda text: text.replace("min_auc = 0.6", 'min_auc = "high"'), "min_auc must be a number"),
        (
            lambda text: text.replace("min_slice_rows = 400", "min_slice_rows = 400.5"),
            "min_slice_rows must be",
        ),
        (lambda text: text.replace("min_auc = 0.6", "min_auc = 1.6"), r"within \[0, 1\]"),
        (lambda text: text.replace("min_auc = 0.6", "min_auc = nan"), "min_auc must be a finite number"),
        (lambda text: text.replace("min_slice_rows = 400", "min_slice_rows = true"), "must be an integer"),
        (lambda text: text + "\n[extra]\nx = 1\n", r"unknown tables \['extra'\]"),
        (lambda text: text.replace("[change]", "[changes]"), r"missing tables \['change'\]"),
        (lambda text: text.replace("[absolute]", "[absolute"), "not valid TOML"),
    ],
)
def test_malformed_thresholds_fail(
    tmp_path: Path, lenient_thresholds: Thresholds, edit: Callable[[str], str], message: str
) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text(edit(thresholds_to_toml(lenient_thresholds)))
    assert_refused_naming_the_file(load_thresholds, path, EvaluationError, message)


def test_absent_file_fails(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="cannot read thresholds"):
        load_thresholds(tmp_path / "nope.toml")
