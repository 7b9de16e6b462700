"""Ground truth fed back after the fact: did the flight a prediction was made for arrive late?

A feedback record names the served row it labels by the request id the server logged (Seldon's
``meta.puid``) and the row's index in that request (0 for one-row requests), and gives the true label
``delayed`` (0 or 1). Files of records come as JSON lines or CSV with a header; a whole file is checked
before anything is stored, so a bad file is refused with every bad line named and loses nothing, and a
good one is stored whole under a new name (written aside, then renamed: a reader never sees half a file).
When a row is labelled twice, the label received last wins.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from contracts.data_contract import LABEL
from contracts.errors import FeedbackError, MonitoringError

FEEDBACK_PATTERN = "feedback-*.jsonl"
MAX_REQUEST_ID = 128  # the server accepts puids up to this length
_MAX_REPORTED = 20


@dataclass(frozen=True)
class Feedback:
    """The true outcome of one served row.

    Attributes:
        request_id: The request's id as the server logged it.
        row: The row's index within the request.
        delayed: 1 when the flight arrived 15 or more minutes late, else 0.
    """

    request_id: str
    row: int
    delayed: int

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "row": self.row, LABEL: self.delayed}


def parse_feedback(record: Mapping[str, Any]) -> Feedback:
    """Checks one record and returns it typed.

    Raises:
        FeedbackError: naming the field at fault.
    """
    unknown = sorted(set(record) - {"request_id", "row", LABEL, "received"})
    if unknown:
        raise FeedbackError(f"unknown fields {unknown}; expected request_id, row (optional), {LABEL}")
    request_id = record.get("request_id")
    if not isinstance(request_id, str) or not 0 < len(request_id.strip()) <= MAX_REQUEST_ID:
        raise FeedbackError(f"request_id must be a non-empty string of at most {MAX_REQUEST_ID} characters")
    row = _integer(record.get("row", 0), "row")
    if row < 0:
        raise FeedbackError(f"row must be 0 or more, got {row}")
    delayed = _integer(record.get(LABEL), LABEL)
    if delayed not in (0, 1):
        raise FeedbackError(f"{LABEL} must be 0 or 1, got {delayed}")
    return Feedback(request_id=request_id.strip(), row=row, delayed=delayed)


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise FeedbackError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise FeedbackError(f"{name} must be an integer, got {value!r}")


def parse_feedback_text(text: str, *, source: str) -> list[Feedback]:
    """Parses a whole feedback file: JSON lines, or CSV whose header names the fields.

    Raises:
        FeedbackError: listing every bad line (the first twenty of them) when any line is bad, or when
            the file holds no record.
    """
    stripped = text.lstrip()
    rows = _json_lines(text) if stripped.startswith("{") else _csv_rows(text)
    found: list[Feedback] = []
    problems: list[str] = []
    for number, row in rows:
        if isinstance(row, str):
            problems.append(f"line {number}: {row}")
            continue
        try:
            found.append(parse_feedback(row))
        except FeedbackError as exc:
            problems.append(f"line {number}: {exc}")
    if problems:
        shown = "; ".join(problems[:_MAX_REPORTED])
        more = f" (and {len(problems) - _MAX_REPORTED} more)" if len(problems) > _MAX_REPORTED else ""
        raise FeedbackError(f"{source}: {len(problems)} bad line(s), nothing stored: {shown}{more}")
    if not found:
        raise FeedbackError(f"{source}: no feedback records in the file")
    return found


# A parsed line is a record, or a string saying why it is not one.
_Line = tuple[int, Mapping[str, Any] | str]


def _json_lines(text: str) -> Iterable[_Line]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not JSON ({exc.msg})"
            continue
        yield number, value if isinstance(value, dict) else "not a JSON object"


def _csv_rows(text: str) -> Iterable[_Line]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        if None in row:  # DictReader files surplus fields under the key None
            yield reader.line_num, "more fields than the header names"
            continue
        yield reader.line_num, {k: v for k, v in row.items() if k is not None and v not in (None, "")}


def store_feedback(directory: Path, records: Sequence[Feedback]) -> Path:
    """Stores checked records as one new file of the feedback folder.

    Returns:
        The file written.

    Raises:
        MonitoringError: when the folder cannot be written.
    """
    if not records:
        raise FeedbackError("no feedback records to store")
    received = time.time_ns()
    lines = "".join(json.dumps({**r.to_dict(), "received": received / 1e9}) + "\n" for r in records)
    # Named by the nanosecond of arrival: files sort in arrival order, which settles ties of "last".
    name = f"feedback-{received:020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
    target = directory / name
    partial = directory / f".{name}.partial"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial.write_text(lines, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MonitoringError(f"cannot store feedback in {directory}: {exc}") from exc
    return target


def ingest_feedback_file(path: Path, directory: Path) -> tuple[Path, int]:
    """Checks a feedback file and stores its records; a bad file stores nothing.

    Returns:
        The stored file and the number of records.

    Raises:
        FeedbackError: when the file is unreadable or any line is bad.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedbackError(f"cannot read the feedback file {path}: {exc}") from exc
    records = parse_feedback_text(text, source=str(path))
    return store_feedback(directory, records), len(records)


def read_feedback(directory: Path) -> pd.DataFrame:
    """Every stored label, the newest per served row: columns ``request_id``, ``row``, ``delayed``.

    Raises:
        MonitoringError: when a stored file cannot be read.
    """
    rows: list[tuple[float, str, int, int]] = []
    if directory.exists():
        for path in sorted(directory.glob(FEEDBACK_PATTERN)):
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise MonitoringError(f"cannot read stored feedback {path}: {exc}") from exc
            for line in lines:
                try:
                    value = json.loads(line)
                    rows.append(
                        (
                            float(value["received"]),
                            str(value["request_id"]),
                            int(value["row"]),
                            int(value[LABEL]),
                        )
                    )
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    continue  # stored files are ours and whole; a hand-edited line is skipped, not fatal
    frame = pd.DataFrame(rows, columns=["received", "request_id", "row", LABEL])
    frame = frame.sort_values("received", kind="mergesort").drop_duplicates(
        ["request_id", "row"], keep="last"
    )
    return frame.drop(columns=["received"]).reset_index(drop=True).astype({"row": "int64", LABEL: "int64"})
