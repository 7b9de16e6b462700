"""Reading and writing batch files (CSV or Parquet, chosen by extension).

Reading is deliberately lenient about content: a column of the wrong type or an unexpected column is
kept as it is, so that data validation can name the anomaly instead of the reader crashing on it. Only a
file that cannot be parsed at all is refused here.
"""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import pandas as pd

from contracts.data_contract import BY_NAME, Kind
from contracts.errors import DataContractError

SUFFIXES = (".csv", ".parquet")


def batch_suffix(path: Path) -> str:
    """The file type of a batch path (``.csv`` or ``.parquet``), or a DataContractError naming it."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataContractError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; use .csv or .parquet"
        )
    return suffix


def write_batch(frame: pd.DataFrame, path: Path) -> Path:
    """Writes a batch to ``path`` as CSV or Parquet, creating parent folders."""
    suffix = batch_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def read_batch(path: Path) -> pd.DataFrame:
    """Reads a batch file and aligns column types with the contract where that loses nothing.

    Raises:
        DataContractError: when the file is missing, empty of any header, truncated or unreadable.
    """
    suffix = batch_suffix(path)
    if not path.is_file():
        raise DataContractError(f"{path}: no such file")
    if suffix == ".csv":
        _refuse_truncated_csv(path)
    try:
        frame = pd.read_csv(path, low_memory=False) if suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise DataContractError(f"{path.name}: the file is empty (not even a header row)") from exc
    except (pd.errors.ParserError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataContractError(f"{path.name}: unreadable or truncated {suffix[1:]} file: {exc}") from exc
    return align_types(frame)


def _refuse_truncated_csv(path: Path) -> None:
    """A CSV cut mid-row ends without a newline on a row shorter than its header.

    pandas would pad that row with missing values, and the batch would fail validation for a reason
    (a missing label) that hides the real one: the file is incomplete.
    """
    with path.open("rb") as file:
        header = file.readline()
        file.seek(0, 2)
        size = file.tell()
        file.seek(max(0, size - 64 * 1024))
        tail = file.read()
    if not tail or tail.endswith(b"\n") or b"\n" not in tail:
        return
    last_line = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    expected, found = len(next(csv.reader([header.decode("utf-8", errors="replace")]))), 0
    with contextlib.suppress(csv.Error, StopIteration):
        found = len(next(csv.reader([last_line])))
    if found < expected:
        raise DataContractError(
            f"{path.name}: truncated file: the last row has {found} of {expected} fields and no line end"
        )


def align_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Gives contract columns their contract type when the values allow it without loss.

    Integer columns with gaps become nullable integers (a CSV turns them into floats otherwise), and
    string columns are plain Python strings. Values that do not fit are left for validation to report.
    The frame given is left as it is; the columns that keep their type are shared with it, not copied
    (a year's batch is ~170 MB).
    """
    aligned = frame.copy(deep=False)
    for name in aligned.columns:
        column = BY_NAME.get(name)
        if column is None:
            continue
        values = aligned[name]
        if column.kind is Kind.INT and pd.api.types.is_float_dtype(values):
            present = values.dropna()
            if (present == present.round()).all():
                aligned[name] = values.astype("Int64")
        elif column.kind is Kind.FLOAT and pd.api.types.is_integer_dtype(values):
            aligned[name] = values.astype("float64")
        elif column.kind is Kind.STRING and values.isna().all():
            aligned[name] = values.astype("object")
    return aligned
