"""Ground-truth feedback: checked whole, stored whole or not at all, newest label wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from components.monitoring.feedback import (
    Feedback,
    ingest_feedback_file,
    parse_feedback_text,
    read_feedback,
    store_feedback,
)
from contracts.errors import FeedbackError


def test_json_lines_and_csv_say_the_same_thing() -> None:
    jsonl = '{"request_id": "a", "delayed": 1}\n\n{"request_id": "b", "row": 2, "delayed": 0}\n'
    csv = "request_id,row,delayed\na,,1\nb,2,0\n"
    expected = [Feedback("a", 0, 1), Feedback("b", 2, 0)]
    assert parse_feedback_text(jsonl, source="x.jsonl") == expected
    assert parse_feedback_text(csv, source="x.csv") == expected


def test_every_bad_line_is_named_and_nothing_is_stored(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "\n".join(
            [
                '{"request_id": "ok", "delayed": 1}',
                '{"request_id": "", "delayed": 1}',
                '{"request_id": "x", "delayed": 2}',
                '{"request_id": "y", "delayed": true}',
                '{"request_id": "z", "delayed": 0, "colour": "red"}',
                "not json",
                '{"request_id": "w", "row": -1, "delayed": 0}',
            ]
        )
    )
    store = tmp_path / "feedback"
    with pytest.raises(FeedbackError) as refused:
        ingest_feedback_file(bad, store)
    message = str(refused.value)
    assert "6 bad line(s), nothing stored" in message
    for line in (
        "line 2: request_id",
        "line 3: delayed must be 0 or 1",
        "line 4: delayed must be an integer",
        "line 5: unknown fields ['colour']",
        "line 6: not JSON",
        "line 7: row must be 0 or more",
    ):
        assert line in message
    assert not store.exists() or not list(store.iterdir())


def test_a_csv_row_with_surplus_fields_is_refused() -> None:
    with pytest.raises(FeedbackError, match="line 2: more fields than the header"):
        parse_feedback_text("request_id,delayed\na,1,extra\n", source="x.csv")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(FeedbackError, match="no feedback records"):
        parse_feedback_text("request_id,delayed\n", source="empty.csv")


def test_the_label_received_last_wins(tmp_path: Path) -> None:
    store_feedback(tmp_path, [Feedback("a", 0, 1), Feedback("b", 0, 1)])
    store_feedback(tmp_path, [Feedback("a", 0, 0)])

    labels = read_feedback(tmp_path)

    assert sorted(labels.itertuples(index=False, name=None)) == [("a", 0, 0), ("b", 0, 1)]


def test_the_cli_stores_a_good_file_and_refuses_a_bad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    good = tmp_path / "good.csv"
    good.write_text("request_id,delayed\nr1,1\nr2,0\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("request_id,delayed\nr3,maybe\n")

    assert main(["monitor", "feedback", str(good)]) == 0
    assert "stored 2 outcomes" in capsys.readouterr().out
    assert main(["monitor", "feedback", str(bad)]) == 1
    assert "line 2: delayed must be an integer, got 'maybe'" in capsys.readouterr().err
    assert len(read_feedback(tmp_path / "state" / "feedback")) == 2
