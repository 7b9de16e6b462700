"""Served rows read back from the model server's request log, one row per answered prediction.

The server writes one JSON line per request (``components/serving/request_log.py``): features column-wise,
one probability per row. Here every answered request is unrolled into rows keyed by
``(request_id, row)``, the key feedback refers to. Refused requests carry no prediction and are only
counted. A line that is not JSON (a crash can cut the last line of a file short) is counted and skipped:
one torn line must not blind the monitor to the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from contracts.data_contract import BY_NAME, FEATURE_NAMES, Kind
from contracts.errors import MonitoringError

LOG_PATTERN = "requests-*.jsonl"
KEY_COLUMNS = ("request_id", "row", "ts", "model_version", "prediction")


@dataclass(frozen=True)
class ServedLog:
    """Every served row found, plus what could not be used.

    Attributes:
        rows: One row per answered prediction: ``request_id``, ``row`` (its index in the request),
            ``ts`` (Unix seconds), ``model_version``, ``prediction`` and every model feature.
        refused: Requests the server refused (4xx) or failed (5xx).
        unreadable_lines: Lines that were not a JSON object of the request log's form.
    """

    rows: pd.DataFrame
    refused: int = 0
    unreadable_lines: int = 0


def parse_timestamp(text: str) -> float:
    """Unix seconds of an ISO 8601 timestamp such as ``2026-11-27T08:00:00.123Z``.

    Raises:
        ValueError: when the text is not such a timestamp.
    """
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_served(directory: Path, *, since: float | None = None) -> ServedLog:
    """Reads every request log file of a folder into served rows, oldest first.

    Args:
        directory: The request log folder (``.mlops/requests`` for ``mlops serve``).
        since: Unix seconds; older requests are skipped before they are unrolled.

    Returns:
        The rows; an empty frame with the key and feature columns when nothing was served.

    Raises:
        MonitoringError: when the folder exists but cannot be read.
    """
    records: list[dict[str, Any]] = []
    refused = unreadable = 0
    if directory.exists():
        if not directory.is_dir():
            raise MonitoringError(f"the request log folder {directory} is not a folder")
        try:
            paths = sorted(directory.glob(LOG_PATTERN))
        except OSError as exc:
            raise MonitoringError(f"cannot list the request log folder {directory}: {exc}") from exc
        for path in paths:
            if since is not None and _modified(path) < since:
                continue  # last written before the window: none of its lines can be in it
            for line in _lines(path):
                record = _record(line)
                if record is None:
                    unreadable += 1
                elif record.get("outcome") != "ok":
                    refused += 1
                else:
                    try:
                        ts = parse_timestamp(str(record["ts"]))
                    except (KeyError, ValueError):
                        unreadable += 1
                        continue
                    if since is None or ts >= since:
                        record["_ts"] = ts
                        records.append(record)
    frame, bad = _unroll(records)
    return ServedLog(rows=frame, refused=refused, unreadable_lines=unreadable + bad)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # vanished or unreadable: let the read say why


def _lines(path: Path) -> Iterable[str]:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            yield from handle
    except OSError as exc:
        raise MonitoringError(f"cannot read the request log {path}: {exc}") from exc


def _record(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def _unroll(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, int]:
    columns: dict[str, list[Any]] = {name: [] for name in (*KEY_COLUMNS, *FEATURE_NAMES)}
    bad = 0
    for record in sorted(records, key=lambda r: r["_ts"]):
        rows = _rows_of(record)
        if rows is None:
            bad += 1
            continue
        features, predictions = rows
        for index, prediction in enumerate(predictions):
            columns["request_id"].append(str(record.get("request_id", "")))
            columns["row"].append(index)
            columns["ts"].append(record["_ts"])
            columns["model_version"].append(str(record.get("model_version", "")))
            columns["prediction"].append(prediction)
            for name in FEATURE_NAMES:
                values = features.get(name)
                columns[name].append(_feature_value(name, values[index] if values is not None else None))
    frame = pd.DataFrame(columns)
    frame["row"] = frame["row"].astype("int64")
    frame["ts"] = frame["ts"].astype("float64")
    frame["prediction"] = frame["prediction"].astype("float64")
    return frame, bad


def _rows_of(record: Mapping[str, Any]) -> tuple[Mapping[str, list[Any]], list[float]] | None:
    features = record.get("features")
    raw = record.get("predictions")
    if not isinstance(features, dict) or not isinstance(raw, list):
        return None
    # One probability per row, possibly nested one deep ([[p], [p]]) by an older writer.
    predictions = [p[0] if isinstance(p, list) and len(p) == 1 else p for p in raw]
    if not all(isinstance(p, int | float) and not isinstance(p, bool) for p in predictions):
        return None
    for values in features.values():
        if not isinstance(values, list) or len(values) != len(predictions):
            return None
    return features, [float(p) for p in predictions]


def _feature_value(name: str, value: Any) -> Any:
    # The server logs a missing category as "" (its string arrays hold no None); statistics must see null.
    if BY_NAME[name].kind is Kind.STRING:
        return None if value in (None, "") else str(value)
    return value


def feature_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The model features of served rows, typed as a batch of the data contract types them."""
    frame = rows[list(FEATURE_NAMES)].copy()
    for name in FEATURE_NAMES:
        kind = BY_NAME[name].kind
        if kind is Kind.STRING:
            frame[name] = frame[name].astype("object")
        elif kind is Kind.INT:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("Int64")
        else:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame
