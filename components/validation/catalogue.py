"""A catalogue of bad batches, made from real ones: what the data gate must stop, and how it names it.

Each case turns a clean batch into a bad one the way real feeds go wrong (a renamed column, a text value
in a number, an unknown code, missing or impossible values, an empty or cut file) and says which feature
and anomaly type validation must report. The tests use it at every level, and ``mlops data export
--corrupt CASE`` writes any case as a file, to try the gate by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from components.ingest.batch_io import write_batch
from components.validation.report import BATCH_LEVEL, EMPTY_BATCH, UNREADABLE_FILE
from contracts.errors import ConfigError


@dataclass(frozen=True)
class BadDataCase:
    """One way a batch goes wrong.

    Attributes:
        name: Identifier used on the command line and in test ids.
        feature: The feature validation must name (``(batch)`` for the batch as a whole).
        anomaly_type: The anomaly type validation must report for it.
        corrupt: Turns a clean batch into the bad one (the clean frame is not modified).
        damage_file: Damages the written file afterwards, for cases that live in the bytes, not the rows.
    """

    name: str
    feature: str
    anomaly_type: str
    corrupt: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame
    damage_file: Callable[[Path], None] | None = None

    def write(self, clean: pd.DataFrame, path: Path) -> Path:
        """Writes this bad batch, made from ``clean``, to ``path`` (CSV or Parquet)."""
        write_batch(self.corrupt(clean.copy()), path)
        if self.damage_file is not None:
            self.damage_file(path)
        return path


def _set(
    column: str, value: object, rows: slice | list[int] = slice(0, 10)
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: "object"}) if isinstance(value, str) else frame
        frame.loc[frame.index[rows], column] = value
        return frame

    return corrupt


def _blank_fraction(column: str, fraction: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame.sample(frac=fraction, random_state=0).index, column] = None
        return frame

    return corrupt


def _truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cut_inside_quotes(path: Path) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write('"2013-07-31T23:00:00Z,2013,7,31,19,0,1900,2200,UA,1')


CASES: tuple[BadDataCase, ...] = (
    BadDataCase(
        "missing-required-column", "distance", "SCHEMA_MISSING_COLUMN", lambda f: f.drop(columns=["distance"])
    ),
    BadDataCase("unexpected-extra-column", "gate", "SCHEMA_NEW_COLUMN", lambda f: f.assign(gate="B22")),
    BadDataCase("text-in-numeric-column", "distance", "UNEXPECTED_DATA_TYPE", _set("distance", "far", [5])),
    BadDataCase("unknown-carrier", "carrier", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", _set("carrier", "ZZ")),
    BadDataCase(
        "unknown-origin", "origin", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", _set("origin", "BOS", slice(0, 4))
    ),
    # 20% missing against a schema asking for 95% presence (December, the worst month, has 96.6%).
    BadDataCase(
        "weather-below-presence", "temp", "FEATURE_TYPE_LOW_FRACTION_PRESENT", _blank_fraction("temp", 0.2)
    ),
    BadDataCase(
        "required-feature-missing",
        "carrier",
        "FEATURE_TYPE_LOW_FRACTION_PRESENT",
        _blank_fraction("carrier", 0.05),
    ),
    BadDataCase("negative-distance", "distance", "INT_TYPE_SMALL_INT", _set("distance", -100, [3])),
    BadDataCase("hour-27", "hour", "INT_TYPE_BIG_INT", _set("hour", 27, [3])),
    BadDataCase("humidity-140", "humid", "FLOAT_TYPE_BIG_FLOAT", _set("humid", 140.0, [3])),
    BadDataCase("all-null-numeric", "temp", "FEATURE_TYPE_NOT_PRESENT", lambda f: f.assign(temp=np.nan)),
    # wind_gust is 76% missing by nature: its presence threshold is low, an empty column must still halt.
    BadDataCase(
        "all-null-sparse-numeric",
        "wind_gust",
        "FEATURE_TYPE_NOT_PRESENT",
        lambda f: f.assign(wind_gust=np.nan),
    ),
    BadDataCase("label-missing", "delayed", "SCHEMA_MISSING_COLUMN", lambda f: f.drop(columns=["delayed"])),
    BadDataCase("label-not-binary", "delayed", "BOOL_TYPE_BIG_INT", _set("delayed", 2, [3])),
    BadDataCase("empty-batch", BATCH_LEVEL, EMPTY_BATCH, lambda f: f.iloc[:0]),
    BadDataCase("truncated-file", BATCH_LEVEL, UNREADABLE_FILE, damage_file=_truncate_half),
    BadDataCase("cut-inside-quoted-field", BATCH_LEVEL, UNREADABLE_FILE, damage_file=_cut_inside_quotes),
)

BY_NAME: dict[str, BadDataCase] = {case.name: case for case in CASES}


def bad_data_case(name: str) -> BadDataCase:
    """The case called ``name``.

    Raises:
        ConfigError: naming the known cases when there is none of that name.
    """
    if name not in BY_NAME:
        raise ConfigError(f"no bad-data case {name!r}; known cases: {', '.join(BY_NAME)}")
    return BY_NAME[name]
