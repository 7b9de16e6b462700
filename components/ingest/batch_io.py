"""Reading and writing batch files (CSV or Parquet, chosen by extension).

Reading is deliberately lenient about content: a column of the wrong type or an unexpected column is
kept as it is, so that data validation can name the anomaly instead of the reader crashing on it. Only a
file that cannot be parsed at all is refused here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from components.errors import DataContractError
from components.ingest.contract import BY_NAME, Kind

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
    try:
        frame = pd.read_csv(path, low_memory=False) if suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise DataContractError(f"{path.name}: the file is empty (not even a header row)") from exc
    except (pd.errors.ParserError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataContractError(f"{path.name}: unreadable or truncated {suffix[1:]} file: {exc}") from exc
    return align_types(frame)


def align_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Gives contract columns their contract type when the values allow it without loss.

    Integer columns with gaps become nullable integers (a CSV turns them into floats otherwise), and
    string columns are plain Python strings. Values that do not fit are left for validation to report.
    """
    aligned = frame.copy()
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
