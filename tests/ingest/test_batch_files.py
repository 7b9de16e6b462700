"""Batch files round-trip through CSV and Parquet, and unreadable files fail with a clear error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from default_data import default_months, session_feature_store

from components.ingest.batch_io import read_batch, write_batch
from components.ingest.step import batch_file, load_batch, materialise_batch
from contracts.data_contract import COLUMNS
from contracts.errors import DataContractError


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return default_months([2]).iloc[:500].reset_index(drop=True)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_keeps_values_and_contract_types(
    sample: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    back = read_batch(write_batch(sample, tmp_path / f"batch{suffix}"))
    pd.testing.assert_frame_equal(back, sample, check_dtype=False)
    for column in COLUMNS:
        kind = column.kind.value
        dtype = back[column.name].dtype
        if kind == "float":
            assert pd.api.types.is_float_dtype(dtype), column.name
        elif kind == "int":
            assert pd.api.types.is_integer_dtype(dtype), column.name


def test_csv_int_column_with_gaps_becomes_nullable_int(sample: pd.DataFrame, tmp_path: Path) -> None:
    gappy = sample.copy()
    gappy["distance"] = gappy["distance"].astype("float64")
    gappy.loc[:9, "distance"] = None
    back = read_batch(write_batch(gappy, tmp_path / "gappy.csv"))
    assert str(back["distance"].dtype) == "Int64"
    assert back["distance"].isna().sum() == 10


def test_text_in_numeric_column_is_kept_for_validation(sample: pd.DataFrame, tmp_path: Path) -> None:
    bad = sample.astype({"distance": "object"})
    bad.loc[3, "distance"] = "far"
    back = read_batch(write_batch(bad, tmp_path / "bad.csv"))
    assert back["distance"].dtype == object
    assert "far" in set(back["distance"])


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b'a,b\n1,"unterminated\n', "unreadable or truncated"), (b"PAR1\x00\x01", "unreadable")],
)
def test_unreadable_files_raise_contract_errors(tmp_path: Path, content: bytes, message: str) -> None:
    suffix = ".parquet" if content.startswith(b"PAR1") else ".csv"
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(content)
    with pytest.raises(DataContractError, match=message):
        read_batch(path)


@pytest.mark.parametrize("name", ["batch.json", "batch"])
def test_unsupported_extension_is_named(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataContractError, match="unsupported file type"):
        read_batch(tmp_path / name)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match="no such file"):
        read_batch(tmp_path / "absent.csv")


def test_materialise_default_months(tmp_path: Path) -> None:
    summary = materialise_batch(tmp_path / "batch", months=[3], features=session_feature_store())
    assert summary.rows == 27_902
    assert len(load_batch(tmp_path / "batch")) == 27_902


def test_materialise_copies_user_file_unparsed(tmp_path: Path) -> None:
    user_file = tmp_path / "mine.csv"
    user_file.write_bytes(b"not,a,valid\nbatch")
    summary = materialise_batch(
        tmp_path / "artifact", months=[1], data_file=str(user_file), features=session_feature_store()
    )
    assert summary.rows is None
    assert batch_file(tmp_path / "artifact").read_bytes() == user_file.read_bytes()
