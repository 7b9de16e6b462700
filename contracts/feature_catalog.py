"""What the feature store holds, by name: entities, feature views, their features and serving defaults.

Standard library only: the pipeline, serving and features environments all read it, so the names a
training frame, an online lookup and a served request use cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The default data ends with 2013: up to here the whole year is loaded.
END_OF_DATA = "2014-01-01T00:00:00+00:00"


class Kind(StrEnum):
    INT = "int"
    FLOAT = "float"
    STRING = "string"


@dataclass(frozen=True)
class Feature:
    """One feature of a view, as the model sees it.

    Attributes:
        name: Column name in training frames and served requests.
        kind: Value kind.
        default: What a request gets when the view has no value for its entity (an unknown tail number,
            a route with no recent arrivals). ``None`` means "missing": the model imputes it from its
            training statistics, exactly as it does for training rows without a value.
        meaning: What the value is.
    """

    name: str
    kind: Kind
    default: float | int | str | None
    meaning: str


@dataclass(frozen=True)
class View:
    """A Feast feature view: the features one entity key looks up.

    Attributes:
        name: Feast name of the view.
        entity: Entity name (equal to its join key).
        features: The view's features.
        ttl_hours: How old a value may be and still be served; 0 means no limit.
        source_file: Parquet file of the view's offline rows, relative to the repository's folder.
    """

    name: str
    entity: str
    features: tuple[Feature, ...]
    ttl_hours: int
    source_file: str

    def refs(self) -> tuple[str, ...]:
        """Feast feature references, ``view:feature``."""
        return tuple(f"{self.name}:{feature.name}" for feature in self.features)


# The Feast configuration file of a rendered repository.
CONFIG_FILE = "feature_store.yaml"
TIMESTAMP_COLUMN = "event_timestamp"
ORIGIN = "origin"
TAILNUM = "tailnum"
CARRIER = "carrier"
ROUTE = "route"
ENTITIES: tuple[str, ...] = (ORIGIN, TAILNUM, CARRIER, ROUTE)
# The tail-number key of a flight with no aircraft assigned: no aircraft row has it, so its facts default.
NO_TAILNUM = ""
# Aggregates look back this far from the hour they are valid for.
WINDOW_DAYS = 7

WEATHER = View(
    name="weather_hourly",
    entity=ORIGIN,
    features=(
        Feature("temp", Kind.FLOAT, None, "Temperature at origin, °F"),
        Feature("dewp", Kind.FLOAT, None, "Dew point at origin, °F"),
        Feature("humid", Kind.FLOAT, None, "Relative humidity at origin, %"),
        Feature("wind_dir", Kind.FLOAT, None, "Wind direction at origin, degrees"),
        Feature("wind_speed", Kind.FLOAT, None, "Wind speed at origin, mph"),
        Feature("wind_gust", Kind.FLOAT, None, "Wind gust at origin, mph"),
        Feature("precip", Kind.FLOAT, None, "Precipitation at origin, inches"),
        Feature("pressure", Kind.FLOAT, None, "Sea-level pressure at origin, millibars"),
        Feature("visib", Kind.FLOAT, None, "Visibility at origin, miles"),
    ),
    # An observation older than this says nothing about the departure hour.
    ttl_hours=3,
    source_file="data/weather.parquet",
)
AIRCRAFT = View(
    name="aircraft",
    entity=TAILNUM,
    features=(
        Feature("plane_year", Kind.FLOAT, None, "Year the aircraft was manufactured"),
        Feature("plane_seats", Kind.FLOAT, None, "Seats in the aircraft"),
        Feature("plane_engines", Kind.FLOAT, None, "Number of engines"),
        Feature("plane_engine", Kind.STRING, None, "Engine type (e.g. Turbo-fan)"),
    ),
    ttl_hours=0,
    source_file="data/aircraft.parquet",
)
CARRIER_DELAYS = View(
    name="carrier_delays_7d",
    entity=CARRIER,
    features=(
        Feature("carrier_arrivals_7d", Kind.INT, 0, "The carrier's flights that landed in the last 7 days"),
        Feature("carrier_delay_rate_7d", Kind.FLOAT, None, "Share of those that arrived 15+ min late"),
    ),
    ttl_hours=WINDOW_DAYS * 24,
    source_file="data/carrier_delays.parquet",
)
ROUTE_DELAYS = View(
    name="route_delays_7d",
    entity=ROUTE,
    features=(
        Feature("route_arrivals_7d", Kind.INT, 0, "The route's flights that landed in the last 7 days"),
        Feature("route_delay_rate_7d", Kind.FLOAT, None, "Share of those that arrived 15+ min late"),
    ),
    ttl_hours=WINDOW_DAYS * 24,
    source_file="data/route_delays.parquet",
)
VIEWS: tuple[View, ...] = (WEATHER, AIRCRAFT, CARRIER_DELAYS, ROUTE_DELAYS)
FEATURES: tuple[Feature, ...] = tuple(feature for view in VIEWS for feature in view.features)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
FEATURE_REFS: tuple[str, ...] = tuple(ref for view in VIEWS for ref in view.refs())
DEFAULTS: dict[str, float | int | str | None] = {feature.name: feature.default for feature in FEATURES}
AGGREGATE_NAMES: tuple[str, ...] = tuple(
    f.name for view in (CARRIER_DELAYS, ROUTE_DELAYS) for f in view.features
)


def route_key(origin: str, dest: str) -> str:
    """The route entity of a flight: ``EWR-ORD``."""
    return f"{origin}-{dest}"
