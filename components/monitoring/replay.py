"""Replaying labelled flights through a prediction endpoint, each request under its own id, so that their
true outcomes can be fed back afterwards exactly as production feedback arrives: by request id."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from components.ingest.records import feature_records
from components.monitoring.feedback import Feedback
from contracts.data_contract import LABEL


@dataclass(frozen=True)
class Replay:
    """Request bodies and the outcomes that belong to them.

    Attributes:
        bodies: One JSON body per flight: its features as ``jsonData`` and its id as ``meta.puid``.
        outcomes: The flight's true outcome under the same id.
    """

    bodies: list[bytes]
    outcomes: list[Feedback]


def replay_of(flights: pd.DataFrame, *, prefix: str) -> Replay:
    """Builds the requests and outcomes of labelled flights; ids are ``<prefix>-<n>``."""
    records = feature_records(flights)
    labels = flights[LABEL].astype("int64").tolist()
    bodies, outcomes = [], []
    for index, (record, label) in enumerate(zip(records, labels, strict=True)):
        request_id = f"{prefix}-{index}"
        message = {"jsonData": record, "meta": {"puid": request_id}}
        bodies.append(json.dumps(message, separators=(",", ":")).encode())
        outcomes.append(Feedback(request_id=request_id, row=0, delayed=int(label)))
    return Replay(bodies=bodies, outcomes=outcomes)
