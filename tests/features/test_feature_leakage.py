"""No feature value from after a flight's scheduled departure reaches its training row.

Training rows get their features from Feast's ``get_historical_features`` at the scheduled departure
hour. For sampled rows of the January-June training batch, exactly as the pipeline's ingest step writes
it, every feature is recomputed here from the raw tables using only what was known by then, and must
match:

- the 7-day delay aggregates count exactly the flights of the carrier (route) that had *landed* in the
  7 days up to that instant (so never the flight itself, nor anything still in the air);
- the weather is the latest observation at the origin at or before that hour;
- the aircraft's facts are those of its tail number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from default_data import default_months
from feature_store_support import comparable

from components.features.raw_tables import RawTables, read_raw_tables
from components.ingest.logic import entity_rows
from contracts.feature_catalog import AIRCRAFT, TIMESTAMP_COLUMN, WEATHER, WINDOW_DAYS

SAMPLE = 1_500


@pytest.fixture(scope="module")
def raw() -> RawTables:
    return read_raw_tables()


@pytest.fixture(scope="module")
def training_rows() -> pd.DataFrame:
    """Sampled rows of the training batch with the entity keys and instant they were looked up with."""
    batch = default_months(range(1, 7)).sample(SAMPLE, random_state=13)
    lookup = entity_rows(batch)
    return pd.concat([lookup, batch.drop(columns=[name for name in lookup.columns if name in batch])], axis=1)


def _landings(flights: pd.DataFrame) -> pd.DataFrame:
    arrived = flights[flights["arr_delay"].notna()]
    departure = pd.to_datetime(arrived["time_hour"], utc=True) + pd.to_timedelta(
        arrived["minute"], unit="min"
    )
    landed = departure + pd.to_timedelta(arrived["dep_delay"] + arrived["air_time"], unit="min")
    return pd.DataFrame(
        {
            "carrier": arrived["carrier"].to_numpy(),
            "route": (arrived["origin"] + "-" + arrived["dest"]).to_numpy(),
            "landed": landed.to_numpy(),
            "late": (arrived["arr_delay"] >= 15).to_numpy(),
        }
    )


@pytest.mark.parametrize("key", ["carrier", "route"])
def test_delay_aggregates_count_only_flights_landed_before_departure(
    training_rows: pd.DataFrame, raw: RawTables, key: str
) -> None:
    by_key = dict(tuple(_landings(raw.flights).sort_values("landed").groupby(key)))
    window = pd.Timedelta(days=WINDOW_DAYS)
    mismatches = []
    for value, rows in training_rows.groupby(key):
        mine = by_key.get(value, pd.DataFrame({"landed": pd.Series(dtype="datetime64[ns, UTC]"), "late": []}))
        landed = mine["landed"].to_numpy()
        late_before = np.concatenate([[0], np.cumsum(mine["late"].to_numpy())])
        at = rows[TIMESTAMP_COLUMN].to_numpy()
        # Landed in (at - 7 days, at]: known when the row's features are looked up, and recent.
        upto = np.searchsorted(landed, at, side="right")
        since = np.searchsorted(landed, at - window, side="right")
        counts = upto - since
        rates = np.where(counts > 0, (late_before[upto] - late_before[since]) / np.maximum(counts, 1), np.nan)
        got_counts = rows[f"{key}_arrivals_7d"].to_numpy()
        got_rates = rows[f"{key}_delay_rate_7d"].to_numpy(dtype=float)
        same_rate = np.isclose(got_rates, rates, rtol=0, atol=1e-12) | (np.isnan(got_rates) & np.isnan(rates))
        for index in np.flatnonzero((got_counts != counts) | ~same_rate):
            mismatches.append(
                (value, str(at[index]), got_counts[index], counts[index], got_rates[index], rates[index])
            )
    assert not mismatches, f"{len(mismatches)} of {len(training_rows)} rows differ, e.g. {mismatches[:3]}"


def test_weather_is_the_latest_observation_at_or_before_the_departure_hour(
    training_rows: pd.DataFrame, raw: RawTables
) -> None:
    names = [feature.name for feature in WEATHER.features]
    observed = raw.weather.assign(observed_at=pd.to_datetime(raw.weather["time_hour"], utc=True))
    rows = training_rows.assign(order=range(len(training_rows))).sort_values(TIMESTAMP_COLUMN)
    expected = pd.merge_asof(
        rows[["order", "origin", TIMESTAMP_COLUMN]],
        observed[["origin", "observed_at", *names]].sort_values("observed_at"),
        left_on=TIMESTAMP_COLUMN,
        right_on="observed_at",
        by="origin",
        direction="backward",
        tolerance=pd.Timedelta(hours=WEATHER.ttl_hours),
    ).sort_values("order")
    assert (
        expected["observed_at"].dropna() <= expected.loc[expected["observed_at"].notna(), TIMESTAMP_COLUMN]
    ).all()
    for name in names:
        got = [comparable(value) for value in training_rows[name]]
        want = [comparable(value) for value in expected[name]]
        assert got == want, name


def test_aircraft_facts_are_those_of_the_tail_number(training_rows: pd.DataFrame, raw: RawTables) -> None:
    planes = raw.planes.set_index("tailnum")
    columns = {
        "plane_year": "year",
        "plane_seats": "seats",
        "plane_engines": "engines",
        "plane_engine": "engine",
    }
    known = training_rows[training_rows["tailnum"].isin(planes.index)]
    unknown = training_rows[~training_rows["tailnum"].isin(planes.index)]
    assert len(known) > SAMPLE // 2 and len(unknown) > 0  # both cases really occur in the sample
    for row in known.itertuples(index=False):
        for ours, theirs in columns.items():
            assert comparable(getattr(row, ours)) == comparable(planes.loc[row.tailnum, theirs])
    assert unknown[[feature.name for feature in AIRCRAFT.features]].isna().all().all()


def test_the_sample_is_not_vacuous(training_rows: pd.DataFrame) -> None:
    # Guards the tests above: every origin, the whole half-year, and windows that really hold arrivals.
    assert set(training_rows["origin"]) == {"EWR", "JFK", "LGA"}
    assert set(range(1, 7)) <= set(training_rows[TIMESTAMP_COLUMN].dt.month)
    assert (training_rows["carrier_arrivals_7d"] > 0).mean() > 0.95
    assert (training_rows["route_arrivals_7d"] > 0).mean() > 0.9
