"""The rolling delay aggregates on hand-made flights: what enters and leaves the 7-day window, and when."""

from __future__ import annotations

import math

import pandas as pd

from components.features.sources import labelled_outcomes, rolling_delays
from contracts.feature_catalog import CARRIER, CARRIER_DELAYS, TIMESTAMP_COLUMN


def _flight(time_hour: str, minute: int, dep_delay: float, air_time: float, arr_delay: float | None) -> dict:
    return {
        "time_hour": time_hour,
        "minute": minute,
        "dep_delay": dep_delay,
        "air_time": air_time,
        "arr_delay": arr_delay,
        "carrier": "UA",
        "origin": "EWR",
        "dest": "ORD",
    }


def test_an_outcome_counts_from_the_hour_after_landing_until_seven_days_later() -> None:
    flights = pd.DataFrame(
        [
            # departs 10:30, 20 min late, 100 min in the air: lands 12:50, known from 13:00; 30 min late
            _flight("2013-03-01T10:00:00Z", 30, 20, 100, 30),
            # departs 11:00 on time, lands 12:00 exactly: known from 12:00; on time
            _flight("2013-03-01T11:00:00Z", 0, 0, 60, 0),
            # cancelled: never an outcome
            _flight("2013-03-01T11:00:00Z", 5, 0, 60, None),
        ]
    )
    outcomes = labelled_outcomes(flights)
    assert list(outcomes["known_at"].astype(str)) == [
        "2013-03-01 13:00:00+00:00",
        "2013-03-01 12:00:00+00:00",
    ]

    rows = rolling_delays(outcomes, CARRIER, CARRIER_DELAYS).set_index(TIMESTAMP_COLUMN)
    at = rows.loc
    assert at[pd.Timestamp("2013-03-01T12:00Z")]["carrier_arrivals_7d"] == 1
    assert at[pd.Timestamp("2013-03-01T12:00Z")]["carrier_delay_rate_7d"] == 0.0
    assert at[pd.Timestamp("2013-03-01T13:00Z")]["carrier_arrivals_7d"] == 2
    assert at[pd.Timestamp("2013-03-01T13:00Z")]["carrier_delay_rate_7d"] == 0.5
    assert at[pd.Timestamp("2013-03-08T12:00Z")]["carrier_arrivals_7d"] == 1
    assert at[pd.Timestamp("2013-03-08T12:00Z")]["carrier_delay_rate_7d"] == 1.0
    emptied = at[pd.Timestamp("2013-03-08T13:00Z")]
    assert emptied["carrier_arrivals_7d"] == 0
    assert math.isnan(emptied["carrier_delay_rate_7d"])  # no arrivals: no rate, the model imputes it
    assert len(rows) == 4
