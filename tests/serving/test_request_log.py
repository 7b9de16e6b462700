"""The request log: strict JSON lines, one file per process, bounded memory, nothing lost on close."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import numpy as np

from components.serving.feature_batch import FeatureBatch
from components.serving.request_log import RequestLog, rejected_record, served_record


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_are_strict_json_with_nulls_for_missing_values(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, flush_seconds=0.01)
    batch = FeatureBatch(
        2,
        numeric_names=("day", "temp"),
        numbers=np.array([[1.0, 2.0], [np.nan, 3.5]]),
        integral=(True, False),
        string_names=("carrier",),
        strings=(["UA", ""],),
    )
    log.append(served_record(0.0, "r1", "v3", batch, np.array([0.25, 0.75]), protocol="rest"))
    log.append(
        rejected_record(
            1.5,
            "r2",
            "v3",
            {"jsonData": {"x": float("nan")}},
            status=400,
            reason="X",
            error="e",
            protocol="grpc",
        )
    )
    log.close()
    served, rejected = _lines(log.path)
    assert served == {
        "ts": "1970-01-01T00:00:00.000Z",
        "request_id": "r1",
        "model_version": "v3",
        "protocol": "rest",
        "outcome": "ok",
        "rows": 2,
        "features": {"day": [1, 2], "temp": [None, 3.5], "carrier": ["UA", ""]},
        "predictions": [0.25, 0.75],
    }
    assert rejected["outcome"] == "rejected" and rejected["ts"] == "1970-01-01T00:00:01.500Z"
    assert rejected["body"] == '{"jsonData": {"x": NaN}}'  # the raw body, quoted as a string


def test_lines_reach_the_file_without_close_and_each_process_has_its_own_file(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, flush_seconds=0.01)
    log.append({"n": "parent"})
    pid = os.fork()
    if pid == 0:  # the child writes through the object it inherited, as a gunicorn worker does
        log.append({"n": "child"})
        log.close()
        os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not log.path.exists():
        time.sleep(0.01)
    while time.monotonic() < deadline and not log.path.read_text():
        time.sleep(0.01)
    assert _lines(log.path) == [{"n": "parent"}]
    assert _lines(tmp_path / f"requests-{socket.gethostname()}-{pid}.jsonl") == [{"n": "child"}]
    log.close()


def test_a_full_buffer_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, max_pending=3, flush_seconds=60)
    accepted = [log.append({"n": i}) for i in range(5)]
    assert accepted == [True, True, True, False, False] and log.dropped == 2
    log.close()
    assert [line["n"] for line in _lines(log.path)] == [0, 1, 2]


def test_an_unserialisable_record_becomes_a_line_saying_so(tmp_path: Path) -> None:
    log = RequestLog(tmp_path)
    log.append({"bad": float("inf")})
    log.close()
    (line,) = _lines(log.path)
    assert line["outcome"] == "unloggable"


def test_a_full_disk_loses_whole_flushes_counted_and_the_writer_carries_on(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        raise AssertionError("this test writes to /dev/full (always 'no space left'): run it on Linux")
    log = RequestLog(tmp_path, flush_seconds=0.01)
    log.path.symlink_to("/dev/full")  # this process's file: every write fails with ENOSPC
    for i in range(3):
        assert log.append({"n": i})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and log.dropped < 3:
        time.sleep(0.01)
    assert log.dropped == 3
    assert log._thread is not None and log._thread.is_alive()  # still writing: the disk may recover
    log.path.unlink()
    log.close()


def test_timestamps_match_datetime_formatting() -> None:
    from datetime import UTC, datetime

    from components.serving.request_log import utc_timestamp

    # Half-microsecond fractions and second boundaries are where a rounding difference would show.
    for seconds in (0.0, 1.5, 59.9999996, 1172652265.4549994, 1796230781.300834, 1796230781.9995):
        expected = datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
        assert utc_timestamp(seconds) == expected.replace("+00:00", "Z")
