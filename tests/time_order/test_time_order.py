"""The time-ordered contract: a model is judged only on flights later than everything it learnt from."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from components.time_order.logic import (
    TrainingWindow,
    check_file_after_window,
    check_order,
    departures,
    describe_months,
)
from contracts.errors import ConfigError, DataContractError, TimeOrderError


def flights(*stamps: str) -> pd.DataFrame:
    moments = pd.to_datetime(list(stamps))
    return pd.DataFrame(
        {"year": moments.year, "month": moments.month, "day": moments.day, "hour": moments.hour}
    )


def test_the_month_after_the_window_is_the_new_batch_and_the_last_one_its_reference() -> None:
    window = TrainingWindow((1, 2, 3, 4, 5, 6))
    assert (window.new_batch_month, window.drift_reference_month) == (7, 6)
    assert TrainingWindow(tuple(range(1, 12))).new_batch_month == 12
    assert window.ends == pd.Timestamp("2013-07-01")


def test_a_window_ending_in_december_leaves_nothing_to_judge_on() -> None:
    with pytest.raises(ConfigError, match="months 1-12 leave no later month of 2013"):
        _ = TrainingWindow(tuple(range(1, 13))).new_batch_month


def test_months_are_described_as_the_user_wrote_them() -> None:
    assert describe_months([1, 2, 3]) == "1-3"
    assert describe_months([5, 1, 3]) == "1,3,5"
    assert describe_months([7]) == "7"


def test_rows_in_order_pass_and_report_the_boundary() -> None:
    order = check_order(
        departures(flights("2013-06-30 23:00", "2013-06-01 05:00")),
        departures(flights("2013-07-01 00:00", "2013-07-02 06:00")),
    )
    assert order.last_training_departure == pd.Timestamp("2013-06-30 23:00")
    assert order.first_new_departure == pd.Timestamp("2013-07-01 00:00")
    assert order.new_rows == 2


def test_overlapping_rows_are_refused_naming_their_dates() -> None:
    training = departures(flights("2013-06-30 23:00"))
    new = departures(flights("2013-06-30 23:00", "2013-06-12 08:00", "2013-07-01 01:00"))
    with pytest.raises(TimeOrderError) as refused:
        check_order(training, new)
    message = str(refused.value)
    assert "2 of its 3 rows" in message
    assert "2013-06-12, 2013-06-30" in message
    assert "2013-07-01" not in message


def test_many_overlapping_dates_are_summarised() -> None:
    training = departures(flights("2013-12-31 23:00"))
    new = departures(flights(*(f"2013-03-{day:02d} 10:00" for day in range(1, 11))))
    with pytest.raises(TimeOrderError, match=r"on 10 dates: 2013-03-01, .*2013-03-05 and 5 more"):
        check_order(training, new)


def test_an_empty_side_cannot_be_put_in_order() -> None:
    with pytest.raises(DataContractError, match="the new batch has no rows with a departure date"):
        check_order(departures(flights("2013-06-30 23:00")), departures(flights()))


def test_malformed_dates_are_left_to_the_data_gate() -> None:
    frame = flights("2013-07-01 05:00", "2013-07-02 06:00")
    frame.loc[0, "hour"] = 27
    frame["day"] = frame["day"].astype(object)
    frame.loc[1, "day"] = "soon"
    assert departures(frame).empty
    assert departures(frame.drop(columns=["hour"])).empty


def test_a_users_file_inside_the_window_is_refused_before_anything_runs(tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    flights("2013-06-30 22:00", "2013-07-01 00:00").to_csv(batch, index=False)
    with pytest.raises(
        TimeOrderError, match=r"new batch batch\.csv overlaps .* 1 of its 2 rows .* 2013-06-30"
    ):
        check_file_after_window(batch, TrainingWindow((1, 2, 3, 4, 5, 6)))
    check_file_after_window(batch, TrainingWindow((1, 2, 3, 4, 5)))


def test_an_unreadable_file_is_left_to_the_data_gate(tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text("")
    check_file_after_window(batch, TrainingWindow((1,)))
