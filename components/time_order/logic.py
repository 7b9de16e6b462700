"""Every row a model is judged on must depart later than every row it learnt from.

Evaluating on months inside the training window inflates the metrics (the model has seen those rows),
so a blessing earned that way means nothing. The contract is checked twice: by the CLI before anything
runs (against the calendar bounds of the months asked for), and by a pipeline step before training
(against the rows actually materialised), so a KFP run started with any parameters is held to it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from components.ingest.batch_io import read_batch
from contracts.errors import ConfigError, DataContractError, TimeOrderError

DATA_YEAR = 2013  # the default data's year: months of the window are months of 2013
DEPARTURE_COLUMNS = ("year", "month", "day", "hour")
_SHOWN_DATES = 5


def parse_months(text: str) -> list[int]:
    """Parses ``"1-6"``, ``"7"`` or ``"1,3,5"`` into a sorted list of months.

    Raises:
        ConfigError: for anything else, or months outside 1-12.
    """
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            months = list(range(first, last + 1))
        else:
            months = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"months must look like 1-6, 7 or 1,3,5; got {text!r}") from exc
    if not months or any(not 1 <= month <= 12 for month in months):
        raise ConfigError(f"months must be within 1-12; got {text!r}")
    return sorted(set(months))


@dataclass(frozen=True)
class TrainingWindow:
    """Months of the default data a run learns from, and the batches that follow from them.

    Attributes:
        train_months: Months of 2013 learnt from, ascending.
    """

    train_months: tuple[int, ...]

    @property
    def last_month(self) -> int:
        return self.train_months[-1]

    @property
    def new_batch_month(self) -> int:
        """The month after the window: the only default-data month later than all of it.

        Raises:
            ConfigError: when the window ends in December (the default data has no later month).
        """
        if self.last_month == 12:
            raise ConfigError(
                f"months {describe_months(self.train_months)} leave no later month of 2013 to judge the model "
                "on: end the window by November, or pass --data FILE with flights after 2013-12-31"
            )
        return self.last_month + 1

    @property
    def drift_reference_month(self) -> int:
        """The newest month learnt from, which the new batch is compared with for drift."""
        return self.last_month

    @property
    def ends(self) -> pd.Timestamp:
        """The first moment after the window: every row judged on must depart at or after it."""
        return pd.Timestamp(year=DATA_YEAR, month=self.last_month, day=1) + pd.offsets.MonthBegin(1)


@dataclass(frozen=True)
class TimeOrder:
    """How a judged batch lies against a training window (always in order when returned)."""

    last_training_departure: pd.Timestamp
    first_new_departure: pd.Timestamp
    new_rows: int


def describe_months(months: Sequence[int]) -> str:
    """``1-6`` for a contiguous run, ``1,3,5`` otherwise."""
    ordered = sorted(months)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}-{ordered[-1]}"
    return ",".join(str(month) for month in ordered)


def departures(frame: pd.DataFrame) -> pd.Series:
    """Each row's scheduled departure hour; rows whose date parts are absent or impossible are dropped.

    Malformed dates are the data gate's to name (it runs before this check in the pipeline), so they
    neither fail nor pass the time order here.
    """
    missing = [column for column in DEPARTURE_COLUMNS if column not in frame.columns]
    if missing:
        return pd.Series([], dtype="datetime64[ns]")
    parts = frame[list(DEPARTURE_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    # pandas would roll an hour of 27 over into the next day; such a row is malformed, not later.
    parts = parts[parts["hour"].between(0, 23)]
    return pd.to_datetime(parts, errors="coerce").dropna()


def check_order(training: pd.Series, new: pd.Series, *, new_name: str = "new batch") -> TimeOrder:
    """Checks that every departure in ``new`` is later than every one in ``training``.

    Raises:
        TimeOrderError: naming how many rows overlap and on which dates.
        DataContractError: when either side has no dated rows to compare.
    """
    if training.empty or new.empty:
        empty = "training batch" if training.empty else new_name
        raise DataContractError(f"the {empty} has no rows with a departure date to put in time order")
    last_training = training.max()
    return _ordered(
        new,
        last_training,
        new_name=new_name,
        bound=f"the last training departure ({last_training:%Y-%m-%d %H:00})",
    )


def check_file_after_window(path: Path, window: TrainingWindow, *, new_name: str = "new batch") -> None:
    """Checks a user's batch file against the calendar end of ``window``, before anything runs.

    A file that cannot be read, or whose dates are malformed, passes here: the pipeline's data gate
    names that problem precisely, and its time-order step rechecks the rows it materialised.

    Raises:
        TimeOrderError: when any of the file's flights departs inside (or before the end of) the window.
    """
    try:
        frame = read_batch(path)
    except DataContractError:
        return
    new = departures(frame)
    if new.empty:
        return
    last_hour = window.ends - pd.Timedelta(hours=1)
    _ordered(
        new,
        last_hour,
        new_name=f"{new_name} {path.name}",
        bound=f"the end of the training window (months {describe_months(window.train_months)} of {DATA_YEAR})",
    )


def _ordered(new: pd.Series, last_training: pd.Timestamp, *, new_name: str, bound: str) -> TimeOrder:
    overlapping = new[new <= last_training]
    if not overlapping.empty:
        days = sorted({stamp.date() for stamp in overlapping})
        shown = ", ".join(str(day) for day in days[:_SHOWN_DATES])
        more = f" and {len(days) - _SHOWN_DATES} more" if len(days) > _SHOWN_DATES else ""
        raise TimeOrderError(
            f"the {new_name} overlaps the training data: {len(overlapping):,} of its {len(new):,} rows depart at "
            f"or before {bound}, on {len(days)} date{'s' if len(days) != 1 else ''}: {shown}{more}; "
            "a model must be judged only on flights later than everything it learnt from"
        )
    return TimeOrder(last_training_departure=last_training, first_new_departure=new.min(), new_rows=len(new))
