"""The Feast objects of the feature store, built from the catalog (features environment only).

``catalog.py`` names every view and feature; this module turns those names into Feast entities, file
sources and feature views. Source paths are relative, so they resolve against the folder that holds the
rendered ``feature_store.yaml`` (the project's feature state folder).
"""

from __future__ import annotations

from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, Int64, PrimitiveFeastType, String

from contracts.feature_catalog import ENTITIES, TIMESTAMP_COLUMN, VIEWS, Kind, View

_FEAST_TYPES: dict[Kind, PrimitiveFeastType] = {Kind.INT: Int64, Kind.FLOAT: Float64, Kind.STRING: String}
_DESCRIPTIONS = {
    "origin": "Origin airport of a flight (EWR, JFK, LGA)",
    "tailnum": "Aircraft tail number",
    "carrier": "Two-letter carrier code",
    "route": "Origin and destination airports, e.g. EWR-ORD",
}


def entities() -> dict[str, Entity]:
    """One Feast entity per join key, by name."""
    return {
        name: Entity(
            name=name, join_keys=[name], value_type=ValueType.STRING, description=_DESCRIPTIONS[name]
        )
        for name in ENTITIES
    }


def feature_view(view: View, entity: Entity) -> FeatureView:
    """The Feast feature view of one catalog view, reading its Parquet file."""
    source = FileSource(name=f"{view.name}_source", path=view.source_file, timestamp_field=TIMESTAMP_COLUMN)
    return FeatureView(
        name=view.name,
        entities=[entity],
        ttl=timedelta(hours=view.ttl_hours),
        schema=[Field(name=feature.name, dtype=_FEAST_TYPES[feature.kind]) for feature in view.features],
        source=source,
        online=True,
    )


def repository_objects() -> list[Entity | FeatureView]:
    """Everything ``apply`` registers: the entities, then one feature view per catalog view."""
    by_name = entities()
    return [*by_name.values(), *(feature_view(view, by_name[view.entity]) for view in VIEWS)]
