"""Statistics of a batch: awkward column types, the binary artifact, and the offline HTML and Markdown views."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.statistics.features import summarise
from components.statistics.html import render_statistics_html
from components.statistics.logic import (
    Statistics,
    compute_statistics,
    num_examples,
    read_statistics,
    write_statistics,
)
from components.statistics.summary import render_statistics_markdown
from contracts.data_contract import COLUMN_NAMES
from contracts.errors import ValidationError


@pytest.fixture(scope="module")
def july_sample_stats(july: pd.DataFrame) -> Statistics:
    return compute_statistics(july)


def _feature_names(stats: Statistics) -> list[str]:
    return [f.name for f in summarise(stats)]


def test_statistics_cover_every_column_and_row(july: pd.DataFrame, july_sample_stats: Statistics) -> None:
    assert num_examples(july_sample_stats) == len(july)
    assert _feature_names(july_sample_stats) == list(COLUMN_NAMES)


def test_artifact_round_trips_and_tfdv_reads_it(tmp_path: Path, july_sample_stats: Statistics) -> None:
    import tensorflow_data_validation as tfdv

    path = write_statistics(july_sample_stats, tmp_path / "out" / "stats.pb")

    assert read_statistics(path) == july_sample_stats
    assert tfdv.load_stats_binary(str(path)) == july_sample_stats


def test_unreadable_artifact_is_a_project_error(tmp_path: Path) -> None:
    path = tmp_path / "stats.pb"
    path.write_bytes(b"\xff\xff\xff not a proto")

    with pytest.raises(ValidationError, match="not a readable statistics artifact"):
        read_statistics(path)


def test_nullable_int_mixed_object_datetime_and_shuffled_index_are_summarised() -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "mixed": [1, "x", None],
            "when": pd.to_datetime(["2013-01-01 05:00", "2013-01-01 06:00", None]),
            "kind": pd.Categorical(["a", "b", "a"]),
        },
        index=[10, 4, 7],
    )

    features = {f.name: f for f in summarise(compute_statistics(frame))}

    # No `__index_level_0__` from the index, no column silently dropped.
    assert set(features) == {"n", "mixed", "when", "kind"}
    assert (features["n"].kind, features["n"].present, features["n"].missing) == ("INT", 2, 1)
    assert (features["mixed"].kind, features["mixed"].unique) == ("STRING", 2)
    assert features["when"].top_values[0].label.startswith("2013-01-01T0")
    assert features["kind"].top_values[0].label == "a"


def test_header_only_frame_gives_zero_examples(july: pd.DataFrame) -> None:
    stats = compute_statistics(july.iloc[:0])

    assert num_examples(stats) == 0
    assert "rows: 0" in render_statistics_markdown(stats)
    assert "<html" in render_statistics_html(stats)


def test_duplicate_column_names_are_a_project_error() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])

    with pytest.raises(ValidationError, match="duplicate column names"):
        compute_statistics(frame)


def test_html_is_self_contained_and_names_every_feature(july_sample_stats: Statistics) -> None:
    page = render_statistics_html(july_sample_stats, title="July <sample>")

    for name in COLUMN_NAMES:
        assert f">{name} <span" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, flags=re.IGNORECASE)
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page
    assert "July &lt;sample&gt;" in page
    # One chart per feature: numeric histograms and categorical top-value bars.
    assert page.count("<svg") == len(COLUMN_NAMES)


def test_html_marks_heavily_missing_features(july_sample_stats: Statistics) -> None:
    page = render_statistics_html(july_sample_stats)

    gust_row = page[page.index(">wind_gust <span") :].split("</tr>")[0]
    assert 'class="warn"' in gust_row
    temp_row = page[page.index(">temp <span") :].split("</tr>")[0]
    assert 'class="warn"' not in temp_row


def test_markdown_summary_lists_the_most_missing_features_first(july_sample_stats: Statistics) -> None:
    text = render_statistics_markdown(july_sample_stats, title="July")

    assert text.startswith("## July\n")
    assert "- rows: 3,000" in text
    assert "- features: 32 (26 numeric, 6 categorical)" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `wind_gust` |")
    assert len(rows) == 5


def test_summary_of_numeric_feature_matches_pandas(july: pd.DataFrame, july_sample_stats: Statistics) -> None:
    temp = next(f for f in summarise(july_sample_stats) if f.name == "temp")

    assert temp.mean == pytest.approx(july["temp"].mean())
    assert temp.maximum == pytest.approx(july["temp"].max())
    assert temp.missing == int(july["temp"].isna().sum())
    assert sum(b.count for b in temp.histogram) == pytest.approx(july["temp"].notna().sum(), rel=1e-6)
    assert np.isclose(temp.missing_fraction, july["temp"].isna().mean())
