"""TFDV statistics of one batch, and the statistics artifact on disk.

The artifact is a binary ``DatasetFeatureStatisticsList`` proto, the format TFDV itself reads with
``tfdv.load_stats_binary`` and Facets understands; it is written and read here with plain proto I/O so
both directions are the same code path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import pandas as pd
import tensorflow_data_validation as tfdv
from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import statistics_pb2

from contracts.errors import ValidationError

Statistics: TypeAlias = statistics_pb2.DatasetFeatureStatisticsList


def prepare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Gives every column a dtype TFDV's in-memory path can turn into Arrow, keeping what it holds.

    TFDV silently drops columns whose numpy kind it does not know (datetimes, for instance), fails on
    object columns mixing numbers and text, and turns a non-default index into a column called
    ``__index_level_0__``. Text in a numeric column must survive as text so validation can name it.
    The frame given is left as it is; its numeric columns are shared, not copied.
    """
    default_index = (
        isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    )
    prepared = frame.copy(deep=False) if default_index else frame.reset_index(drop=True)
    for name in prepared.columns:
        values = prepared[name]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            continue
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            text = values.astype("object").map(str, na_action="ignore")
        prepared[name] = text.astype("object").where(values.notna(), None)
    return prepared


def compute_statistics(frame: pd.DataFrame) -> Statistics:
    """Computes TFDV statistics of a batch held in memory.

    Works on a header-only frame too: the statistics then say ``num_examples == 0`` and validation
    reports the batch as empty.

    Args:
        frame: The batch, as read by ``components.ingest.batch_io.read_batch``. Nullable ``Int64``,
            object, string, categorical and datetime columns are accepted.

    Returns:
        A ``DatasetFeatureStatisticsList`` with one dataset (no slices).

    Raises:
        ValidationError: when a column has duplicate names or values TFDV cannot summarise.

    Example:
        >>> stats = compute_statistics(read_batch(Path("batch.csv")))
        >>> stats.datasets[0].num_examples
    """
    if frame.columns.duplicated().any():
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise ValidationError(f"duplicate column names cannot be summarised: {duplicated}")
    try:
        return tfdv.generate_statistics_from_dataframe(prepare_frame(frame))
    except (ValueError, TypeError, ArithmeticError) as exc:  # pyarrow's errors derive from these
        raise ValidationError(f"TFDV could not compute statistics: {exc}") from exc


def write_statistics(stats: Statistics, path: Path) -> Path:
    """Writes statistics as a binary proto, creating parent folders.

    Returns:
        ``path``, for chaining.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stats.SerializeToString())
    return path


def read_statistics(path: Path) -> Statistics:
    """Reads statistics written by ``write_statistics`` (or ``tfdv.write_stats_binary``).

    Raises:
        ValidationError: when the file is missing or is not a statistics proto.
    """
    try:
        stats = Statistics.FromString(path.read_bytes())
    except (OSError, DecodeError) as exc:
        raise ValidationError(f"{path}: not a readable statistics artifact: {exc}") from exc
    return stats


def num_examples(stats: Statistics) -> int:
    """The number of rows the statistics summarise (0 for an empty batch)."""
    return int(stats.datasets[0].num_examples) if stats.datasets else 0
