"""The five reasons a training run starts, as recorded in the lineage store."""

from __future__ import annotations

import enum

from contracts.errors import TriggerError


class TriggerKind(enum.StrEnum):
    """Why a training run started; the value is what the pipeline's ``trigger`` parameter records."""

    ON_DEMAND = "on-demand"  # a person ran ``mlops run`` or ``mlops retrain``
    SCHEDULE = "schedule"  # ``mlops watch --every`` here; the CronJob's recurring run in a cluster
    NEW_DATA = "new-data"  # a batch file landed in the watched folder
    DEGRADATION = "degradation"  # live metrics on fed-back outcomes fell below the evaluation's
    DRIFT = "drift"  # served data moved away from the training data

    @property
    def automatic(self) -> bool:
        """Started by the platform rather than a person: subject to rate limits."""
        return self is not TriggerKind.ON_DEMAND

    @property
    def debounced(self) -> bool:
        """Raised by monitor checks, which must agree over consecutive checks before a run starts."""
        return self in (TriggerKind.DRIFT, TriggerKind.DEGRADATION)


def parse_kind(text: str) -> TriggerKind:
    """The kind named by ``text``.

    Raises:
        TriggerError: naming the kinds there are.
    """
    try:
        return TriggerKind(text)
    except ValueError:
        known = ", ".join(k.value for k in TriggerKind)
        raise TriggerError(f"unknown trigger {text!r}; the triggers are {known}") from None
