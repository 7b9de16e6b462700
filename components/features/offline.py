"""Point-in-time training features from the feature store, for the pipeline environment (no Feast import).

Feast's ``get_historical_features`` runs in the features environment (``worker.py``); this module hands it
the entity rows as Parquet and reads the joined features back. A retrieval is kept in the repository,
keyed by the entity rows and the offline files it was joined from, because the same year of flights is
asked for by every ingest of a run and by every run after it: the join is ~25 s, reading it back ~0.3 s.
Rebuilding the store (``apply``) rewrites the offline files and so retires every kept retrieval.

Example:
    >>> store = OfflineFeatures(repo=Path(".mlops/features"))  # doctest: +SKIP
    >>> store.historical(entity_frame).columns[:3].tolist()  # doctest: +SKIP
    ['temp', 'dewp', 'humid']
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from components.features.environment import FeatureEnvironment
from components.registry.lock import WriterLock
from contracts.errors import FeatureStoreError
from contracts.feature_catalog import CONFIG_FILE, ENTITIES, FEATURE_NAMES, TIMESTAMP_COLUMN, VIEWS

RETRIEVALS_DIR = "retrievals"
LOCK_FILE = ".offline.lock"
# Building the store and joining a year take well under this; a second process waits for the first.
LOCK_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class OfflineFeatures:
    """The feature store in ``repo`` as the source of training features.

    Attributes:
        repo: Folder of the rendered Feast repository; built from the default data when it holds none.
        venv: The features environment (None: ``MLOPS_FEATURES_VENV`` or the project's own).
    """

    repo: Path
    venv: Path | None = None

    @property
    def environment(self) -> FeatureEnvironment:
        return FeatureEnvironment(repo=self.repo, venv=self.venv)

    def ensure_built(self) -> None:
        """Builds the store (offline files, registry) unless ``repo`` already holds one."""
        with self._lock():
            if not (self.repo / CONFIG_FILE).is_file():
                self.environment.apply()

    def historical(self, entities: pd.DataFrame) -> pd.DataFrame:
        """Every store feature for each entity row, as known at the row's ``event_timestamp``, in row order.

        Args:
            entities: The four entity keys and ``event_timestamp`` (UTC) per row.

        Returns:
            One column per store feature (``catalog.FEATURE_NAMES``), index aligned with ``entities``.
            A value the store has no row for within the view's TTL is missing (NaN or None).

        Raises:
            FeatureStoreError: when a key column is absent or the worker fails.
        """
        missing = [name for name in (*ENTITIES, TIMESTAMP_COLUMN) if name not in entities.columns]
        if missing:
            raise FeatureStoreError(f"the entity rows lack columns {missing}")
        keys = entities[[*ENTITIES, TIMESTAMP_COLUMN]].reset_index(drop=True)
        self.ensure_built()
        kept = self.repo / RETRIEVALS_DIR / f"{self._retrieval_key(keys)}.parquet"
        with self._lock():
            if not kept.is_file():
                self._retrieve(keys, kept)
        features = pd.read_parquet(kept, columns=list(FEATURE_NAMES))
        if len(features) != len(keys):
            raise FeatureStoreError(f"{kept}: {len(features)} rows for {len(keys)} entity rows")
        features.index = entities.index
        return features

    def _retrieve(self, keys: pd.DataFrame, kept: Path) -> None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=kept.parent, prefix=".retrieval-") as scratch:
            entity_file = Path(scratch) / "entities.parquet"
            joined_file = Path(scratch) / "features.parquet"
            keys.to_parquet(entity_file, index=False)
            self.environment.historical(entity_file, joined_file)
            # Renamed into place only once whole, so a crash never leaves a half-written retrieval.
            os.replace(joined_file, kept)

    def _retrieval_key(self, keys: pd.DataFrame) -> str:
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(keys, index=False).to_numpy().tobytes())
        for view in VIEWS:
            source = self.repo / view.source_file
            if not source.is_file():
                raise FeatureStoreError(
                    f"{source}: the store's offline file is missing; rebuild it with apply"
                )
            digest.update(view.name.encode())
            digest.update(_file_digest(source))
        return digest.hexdigest()[:32]

    def _lock(self) -> WriterLock:
        return WriterLock(
            self.repo / LOCK_FILE,
            timeout_seconds=LOCK_TIMEOUT_SECONDS,
            error=FeatureStoreError,
            holder="feature-store build or retrieval",
        )


def _file_digest(path: Path) -> bytes:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()
