"""The catalog, its README table and the booking-time row logic, without any server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.features.booking import complete_row, entity_row, refuse_looked_up_fields
from contracts.errors import BadRequestError
from contracts.feature_catalog import AIRCRAFT, DEFAULTS, FEATURE_NAMES, FEATURE_REFS, VIEWS

README = Path(__file__).resolve().parents[2] / "components" / "features" / "README.md"
BOOKING = {"day": 3, "carrier": "B6", "origin": "JFK", "dest": "BOS", "tailnum": "N123JB"}


def test_the_readme_table_lists_every_feature_with_its_view_and_default() -> None:
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \| `(\w+)` \| (\w+) \| (.+?) \|", README.read_text(), re.M)
    documented = {
        name: (view, entity, kind, default)
        for name, view, entity, kind, default, *_ in [(*r, "") for r in rows]
    }
    expected = {
        feature.name: (
            view.name,
            view.entity,
            str(feature.kind),
            "missing (the model imputes it)" if feature.default is None else f"`{feature.default}`",
        )
        for view in VIEWS
        for feature in view.features
    }
    assert documented == expected


def test_names_are_unique_and_references_name_their_view() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert all(ref.split(":")[1] in FEATURE_NAMES for ref in FEATURE_REFS)
    assert set(DEFAULTS) == set(FEATURE_NAMES)


def test_entity_row_builds_the_route_and_tolerates_no_aircraft() -> None:
    assert entity_row(BOOKING) == {"origin": "JFK", "tailnum": "N123JB", "carrier": "B6", "route": "JFK-BOS"}
    assert entity_row({**BOOKING, "tailnum": None})["tailnum"] == ""
    with pytest.raises(BadRequestError, match='"dest"'):
        entity_row({k: v for k, v in BOOKING.items() if k != "dest"})
    with pytest.raises(BadRequestError, match='"tailnum"'):
        entity_row({**BOOKING, "tailnum": 42})


def test_store_features_sent_by_the_client_are_refused() -> None:
    refuse_looked_up_fields(BOOKING)
    with pytest.raises(BadRequestError, match="'plane_year', 'temp'"):
        refuse_looked_up_fields({**BOOKING, "temp": 1.0, "plane_year": 2000})


def test_complete_row_defaults_only_what_the_store_does_not_know() -> None:
    looked_up = {name: None for name in FEATURE_NAMES} | {"temp": 40.0, "carrier_arrivals_7d": 12}
    not_found = [feature.name for feature in AIRCRAFT.features] + ["route_arrivals_7d"]
    inputs = ["day", "carrier", "origin", "dest", "temp", "wind_gust", "plane_year", "route_arrivals_7d"]
    done = complete_row(BOOKING, looked_up, not_found, inputs)
    assert done.row == {
        "day": 3,
        "carrier": "B6",
        "origin": "JFK",
        "dest": "BOS",
        "temp": 40.0,
        "wind_gust": None,
        "plane_year": None,
        "route_arrivals_7d": 0,
    }
    assert done.defaulted == ("plane_year", "route_arrivals_7d")  # a null observation is not a default
