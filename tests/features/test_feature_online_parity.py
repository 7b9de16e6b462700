"""The offline path (Feast's point-in-time join, what training reads) and the online path (the feature
server, what the transformer reads) give identical feature vectors for the same entities at the instant
the online store was materialised up to."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import MATERIALIZED_UNTIL
from feature_store_support import comparable

from components.features.client import FeatureClient
from components.features.environment import FeatureEnvironment
from components.features.raw_tables import read_raw_tables
from components.features.server import FeatureServer
from components.ingest.logic import entity_rows
from contracts.feature_catalog import ENTITIES, FEATURE_NAMES, TIMESTAMP_COLUMN

ROWS = 300


@pytest.fixture(scope="module")
def entities() -> pd.DataFrame:
    flights = read_raw_tables().flights
    june = flights[(flights["month"] == 6) & flights["arr_delay"].notna()].sample(ROWS, random_state=6)
    frame = entity_rows(june).reset_index(drop=True)
    # Entities the store has never seen: a tail number not in the registry, a route nobody flies.
    frame.loc[0, "tailnum"] = "N0NE00"
    frame.loc[1, "route"] = "EWR-XXX"
    frame.loc[2, "tailnum"] = ""
    frame[TIMESTAMP_COLUMN] = pd.Timestamp(MATERIALIZED_UNTIL)
    return frame.drop_duplicates(list(ENTITIES)).reset_index(drop=True)


def test_offline_and_online_feature_vectors_are_identical(
    entities: pd.DataFrame, feature_env: FeatureEnvironment, feature_server: FeatureServer, tmp_path
) -> None:
    entities.to_parquet(tmp_path / "entities.parquet", index=False)
    feature_env.historical(tmp_path / "entities.parquet", tmp_path / "offline.parquet")
    offline = pd.read_parquet(tmp_path / "offline.parquet")
    rows = entities[list(ENTITIES)].to_dict("records")
    online = FeatureClient(feature_server.url).lookup(rows)

    differences = []
    for index, online_row in enumerate(online):
        offline_vector = [comparable(offline.loc[index, name]) for name in FEATURE_NAMES]
        online_vector = [comparable(online_row.values[name]) for name in FEATURE_NAMES]
        if offline_vector != online_vector:
            differences.append((rows[index], offline_vector, online_vector))
    assert not differences, f"{len(differences)} of {len(rows)} rows differ; first: {differences[0]}"
    # Not vacuous: most rows hold values, and the unknown entities hold none.
    assert sum(row.values["temp"] is not None for row in online) > len(online) * 0.9
    assert "plane_year" in online[0].not_found and "route_arrivals_7d" in online[1].not_found
