"""The data contract: the columns of one batch, their types and what they mean.

A batch is what the pipeline consumes, whether it was materialised from the default data or written by a
user. ``CONTRACT.md`` beside this file is the human-readable copy; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    INT = "int"
    FLOAT = "float"
    STRING = "string"


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


LABEL = "delayed"
DELAY_THRESHOLD_MINUTES = 15

COLUMNS: tuple[Column, ...] = (
    Column("time_hour", Kind.STRING, Role.KEY, "Scheduled departure hour, ISO 8601 UTC (joins weather)"),
    Column("year", Kind.INT, Role.KEY, "Year of scheduled departure (local time)"),
    Column("month", Kind.INT, Role.KEY, "Month of scheduled departure, 1-12 (the batch key)"),
    Column("day", Kind.INT, Role.FEATURE, "Day of month of scheduled departure"),
    Column("hour", Kind.INT, Role.FEATURE, "Hour of scheduled departure, 0-23 local"),
    Column("minute", Kind.INT, Role.FEATURE, "Minute of scheduled departure"),
    Column("sched_dep_time", Kind.INT, Role.FEATURE, "Scheduled departure, HHMM local"),
    Column("sched_arr_time", Kind.INT, Role.FEATURE, "Scheduled arrival, HHMM local"),
    Column("carrier", Kind.STRING, Role.FEATURE, "Two-letter carrier code (e.g. UA, B6)"),
    Column("flight", Kind.INT, Role.KEY, "Flight number"),
    Column("tailnum", Kind.STRING, Role.KEY, "Aircraft tail number (joins planes)", nullable=True),
    Column("origin", Kind.STRING, Role.FEATURE, "Origin airport: EWR, JFK or LGA (the regional slice)"),
    Column("dest", Kind.STRING, Role.FEATURE, "Destination airport, FAA code"),
    Column("distance", Kind.INT, Role.FEATURE, "Distance between airports, miles"),
    Column("temp", Kind.FLOAT, Role.FEATURE, "Temperature at origin, °F", nullable=True),
    Column("dewp", Kind.FLOAT, Role.FEATURE, "Dew point at origin, °F", nullable=True),
    Column("humid", Kind.FLOAT, Role.FEATURE, "Relative humidity at origin, %", nullable=True),
    Column("wind_dir", Kind.FLOAT, Role.FEATURE, "Wind direction at origin, degrees", nullable=True),
    Column("wind_speed", Kind.FLOAT, Role.FEATURE, "Wind speed at origin, mph", nullable=True),
    Column("wind_gust", Kind.FLOAT, Role.FEATURE, "Wind gust at origin, mph (mostly missing)", nullable=True),
    Column("precip", Kind.FLOAT, Role.FEATURE, "Precipitation at origin, inches", nullable=True),
    Column("pressure", Kind.FLOAT, Role.FEATURE, "Sea-level pressure at origin, millibars", nullable=True),
    Column("visib", Kind.FLOAT, Role.FEATURE, "Visibility at origin, miles", nullable=True),
    Column("plane_year", Kind.FLOAT, Role.FEATURE, "Year the aircraft was manufactured", nullable=True),
    Column("plane_seats", Kind.FLOAT, Role.FEATURE, "Seats in the aircraft", nullable=True),
    Column("plane_engines", Kind.FLOAT, Role.FEATURE, "Number of engines", nullable=True),
    Column("plane_engine", Kind.STRING, Role.FEATURE, "Engine type (e.g. Turbo-fan)", nullable=True),
    Column(
        LABEL, Kind.INT, Role.LABEL, f"1 when the flight arrived {DELAY_THRESHOLD_MINUTES}+ min late, else 0"
    ),
)

COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)
FEATURE_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.role is Role.FEATURE)
BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}
ORIGINS: tuple[str, ...] = ("EWR", "JFK", "LGA")
