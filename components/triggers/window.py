"""The data a retraining run learns from: the most recent months before the newest month available.

The newest month (``as_of``) is the run's new batch: it is validated against the month before it for
drift and the candidate is evaluated on it, which is later than everything the candidate learnt from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.triggers.ledger import NEW_DATA, LedgerState
from contracts.errors import TriggerError

DEFAULT_AS_OF = 7  # without landed data, the default loop's: learn from January-June, judge on July


@dataclass(frozen=True)
class DataWindow:
    """The months (of the default data) a run learns from and is judged on.

    Attributes:
        train_months: Months learnt from, oldest first.
        eval_month: The new batch: the newest month.
        previous_month: The batch the new one is compared with for drift.
        data_file: A landed batch file that is the new batch instead of ``eval_month`` ("" for none).
    """

    train_months: tuple[int, ...]
    eval_month: int
    previous_month: int
    data_file: str = ""

    def pipeline_arguments(self) -> dict[str, Any]:
        """The continuous-training pipeline's arguments for this window."""
        return {
            "train_months": list(self.train_months),
            "eval_month": self.eval_month,
            "previous_month": self.previous_month,
            "data_file": self.data_file,
        }

    def describe(self) -> str:
        first, last = self.train_months[0], self.train_months[-1]
        learnt = f"months {first}-{last}" if first != last else f"month {first}"
        judged = self.data_file or f"month {self.eval_month}"
        return f"learns from {learnt} of 2013, judged on {judged}"


def data_window(as_of: int, months: int, *, data_file: str = "") -> DataWindow:
    """The window ending at ``as_of``: ``months`` months before it (as many as there are).

    Raises:
        TriggerError: when ``as_of`` is not 2-12 (January has nothing before it to learn from).
    """
    if not 2 <= as_of <= 12:
        raise TriggerError(f"the newest month must be within 2-12 to leave months to learn from, got {as_of}")
    if months < 1:
        raise TriggerError(f"a retraining window needs at least one month, got {months}")
    first = max(1, as_of - months)
    return DataWindow(
        train_months=tuple(range(first, as_of)),
        eval_month=as_of,
        previous_month=as_of - 1,
        data_file=data_file,
    )


def newest_landed_month(state: LedgerState) -> int | None:
    """The newest month among the batches recorded as landed in the watched folder, if any."""
    months = [m for entry in state.of(NEW_DATA) for m in (entry.loaded("months") or [])]
    return max(months) if months else None
