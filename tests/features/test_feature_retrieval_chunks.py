"""The point-in-time retrieval joined in chunks of entity rows (bounded memory) writes exactly what one
join of every row writes: the same rows in the entity rows' order, the same values and column types."""

from __future__ import annotations

import pandas as pd
import pytest

from components.features.environment import FeatureEnvironment
from components.features.raw_tables import read_raw_tables
from components.ingest.logic import entity_rows, labelled_flights
from contracts.errors import FeatureStoreError
from contracts.feature_catalog import ENTITIES, FEATURE_NAMES, TIMESTAMP_COLUMN

ROWS = 1_000
# Not a divisor of ROWS, so the last chunk is a short one.
CHUNK_ROWS = 137


@pytest.fixture(scope="module")
def entities() -> pd.DataFrame:
    """Flights from the whole year in the order ingest asks for them, with entities the store never saw."""
    flights = labelled_flights(read_raw_tables().flights)
    sample = flights.iloc[:: len(flights) // ROWS].head(ROWS)
    frame = entity_rows(sample).reset_index(drop=True)
    frame.loc[5, "tailnum"] = "N0NE00"
    frame.loc[ROWS - 1, "route"] = "EWR-XXX"
    return frame


def _retrieve(env: FeatureEnvironment, entities: pd.DataFrame, folder, chunk_rows: int) -> pd.DataFrame:
    entities.to_parquet(folder / "entities.parquet", index=False)
    out = folder / f"features-{chunk_rows}.parquet"
    result = env.historical(folder / "entities.parquet", out, chunk_rows=chunk_rows)
    assert result["rows"] == len(entities)
    return pd.read_parquet(out)


def test_chunked_retrieval_equals_one_join(
    entities: pd.DataFrame, feature_env: FeatureEnvironment, tmp_path
) -> None:
    whole = _retrieve(feature_env, entities, tmp_path, chunk_rows=len(entities))
    chunked = _retrieve(feature_env, entities, tmp_path, chunk_rows=CHUNK_ROWS)

    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    # In the entity rows' order, with their keys passed through.
    pd.testing.assert_frame_equal(whole[list(ENTITIES)], entities[list(ENTITIES)])
    assert (whole[TIMESTAMP_COLUMN] == entities[TIMESTAMP_COLUMN]).all()
    # Not vacuous: features were found for most rows, and none for the unknown aircraft.
    assert whole["temp"].notna().mean() > 0.9
    assert whole["carrier_arrivals_7d"].notna().mean() > 0.9
    assert pd.isna(whole.loc[5, "plane_year"])
    assert set(FEATURE_NAMES) <= set(whole.columns)


def test_chunk_rows_must_be_positive(
    entities: pd.DataFrame, feature_env: FeatureEnvironment, tmp_path
) -> None:
    entities.head(3).to_parquet(tmp_path / "entities.parquet", index=False)
    with pytest.raises(FeatureStoreError, match="chunk_rows must be at least 1"):
        feature_env.historical(tmp_path / "entities.parquet", tmp_path / "out.parquet", chunk_rows=0)
