"""The data contract: the columns of one batch, their types and what they mean.

A batch is what the pipeline consumes, whether it was materialised from the default data or written by a
user. ``data_contract.md`` beside this file is the human-readable copy; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.feature_catalog import FEATURES as STORE_FEATURES
from contracts.feature_catalog import Feature
from contracts.feature_catalog import Kind as Kind  # one value-kind vocabulary for batches and the store


class Role(StrEnum):
    KEY = "key"  # identifies or orders a flight; not a model input
    FEATURE = "feature"  # known at booking time or from the schedule
    LABEL = "label"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    role: Role
    meaning: str
    nullable: bool = False


def _looked_up(feature: Feature) -> Column:
    # A feature with a recorded default is never missing; one whose default is "missing" may be.
    return Column(feature.name, feature.kind, Role.FEATURE, feature.meaning, nullable=feature.default is None)


LABEL = "delayed"
DELAY_THRESHOLD_MINUTES = 15

COLUMNS: tuple[Column, ...] = (
    Column(
        "time_hour",
        Kind.STRING,
        Role.KEY,
        "Scheduled departure hour, ISO 8601 UTC (the instant store features are looked up at)",
    ),
    Column("year", Kind.INT, Role.KEY, "Year of scheduled departure (local time)"),
    Column("month", Kind.INT, Role.KEY, "Month of scheduled departure, 1-12 (the batch key)"),
    Column("day", Kind.INT, Role.FEATURE, "Day of month of scheduled departure"),
    Column("hour", Kind.INT, Role.FEATURE, "Hour of scheduled departure, 0-23 local"),
    Column("minute", Kind.INT, Role.FEATURE, "Minute of scheduled departure"),
    Column("sched_dep_time", Kind.INT, Role.FEATURE, "Scheduled departure, HHMM local"),
    Column("sched_arr_time", Kind.INT, Role.FEATURE, "Scheduled arrival, HHMM local"),
    Column("carrier", Kind.STRING, Role.FEATURE, "Two-letter carrier code (e.g. UA, B6)"),
    Column("flight", Kind.INT, Role.KEY, "Flight number"),
    Column("tailnum", Kind.STRING, Role.KEY, "Aircraft tail number (looks up aircraft facts)", nullable=True),
    Column("origin", Kind.STRING, Role.FEATURE, "Origin airport: EWR, JFK or LGA (the regional slice)"),
    Column("dest", Kind.STRING, Role.FEATURE, "Destination airport, FAA code"),
    Column("distance", Kind.INT, Role.FEATURE, "Distance between airports, miles"),
    *(_looked_up(feature) for feature in STORE_FEATURES),
    Column(
        LABEL, Kind.INT, Role.LABEL, f"1 when the flight arrived {DELAY_THRESHOLD_MINUTES}+ min late, else 0"
    ),
)

COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)
FEATURE_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.role is Role.FEATURE)
BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}
ORIGINS: tuple[str, ...] = ("EWR", "JFK", "LGA")
