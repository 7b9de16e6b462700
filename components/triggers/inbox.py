"""New data: batch files landing in a watched folder.

A file counts once its size and modification time have stood still for ``settle_seconds`` (a copy in
progress is not a batch yet) and its content has not been seen before (the ledger keeps the SHA-256 of
every batch recorded, so a renamed or re-copied file is not new). Hidden files and partial uploads
(``.name``, ``*.partial``, ``*.tmp``) are left alone. A bucket prefix is watched the same way once it is
mounted as a folder (the pipeline image carries no object-store client).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from components.ingest.batch_io import batch_suffix, read_batch
from contracts.errors import DataContractError, TriggerError

_IGNORED_SUFFIXES = (".partial", ".tmp", ".part")


@dataclass(frozen=True)
class LandedBatch:
    """A batch file that landed.

    Attributes:
        path: Where it is.
        sha256: Its content's hash.
        months: Months of 2013 its rows belong to (empty when unreadable).
        rows: Its row count.
        error: Why it could not be read ("" when it could); an unreadable batch is recorded, not retried.
    """

    path: Path
    sha256: str
    months: tuple[int, ...] = ()
    rows: int = 0
    error: str = ""


def _candidates(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith(_IGNORED_SUFFIXES) or not path.is_file():
            continue
        try:
            batch_suffix(path)
        except DataContractError:
            continue
        yield path


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def find_new_batches(
    folder: Path, seen: set[str], *, now: float, settle_seconds: float = 2.0
) -> list[LandedBatch]:
    """Batch files of ``folder`` that have settled and whose content is not in ``seen``, oldest first.

    Raises:
        TriggerError: when the folder cannot be listed.
    """
    if not folder.exists():
        return []
    found = []
    try:
        paths = list(_candidates(folder))
    except OSError as exc:
        raise TriggerError(f"cannot watch {folder}: {exc}") from exc
    for path in paths:
        try:
            if now - path.stat().st_mtime < settle_seconds:
                continue
            digest = _digest(path)
        except OSError:
            continue  # removed or still being replaced between listing and reading: next look
        if digest in seen:
            continue
        found.append(describe_batch(path, digest))
        seen = seen | {digest}
    return sorted(found, key=lambda b: (b.path.stat().st_mtime, b.path.name))


def describe_batch(path: Path, digest: str | None = None) -> LandedBatch:
    """Reads a batch file's months and rows; an unreadable file is described with its error.

    Raises:
        OSError: when the file cannot be read at all for hashing.
    """
    digest = digest or _digest(path)
    try:
        frame = read_batch(path)
    except DataContractError as exc:
        return LandedBatch(path=path.resolve(), sha256=digest, error=str(exc))
    months: tuple[int, ...] = ()
    if "month" in frame.columns:
        values = pd.to_numeric(frame["month"], errors="coerce").dropna()
        months = tuple(sorted({int(m) for m in values.unique() if m == int(m) and 1 <= m <= 12}))
    return LandedBatch(path=path.resolve(), sha256=digest, months=months, rows=len(frame))
