"""What the statistics step does, independent of KFP: describe a batch artifact, or say why it can't."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.ingest.step import load_batch
from components.statistics.html import render_statistics_html
from components.statistics.logic import (
    Statistics,
    compute_statistics,
    num_examples,
    write_statistics,
)
from components.statistics.summary import render_statistics_markdown
from contracts.errors import DataContractError

# A Statistics artifact is a folder holding the TFDV statistics, or the reason the batch was unreadable.
STATISTICS_FILE = "stats.pb"
UNREADABLE_FILE = "unreadable.txt"


@dataclass(frozen=True)
class StatisticsOutcome:
    statistics: Statistics | None  # None when the batch was unreadable
    unreadable_reason: str | None = None

    @property
    def num_examples(self) -> int:
        return num_examples(self.statistics) if self.statistics is not None else 0


def describe_batch(
    batch_dir: Path, stats_dir: Path, html_path: Path, markdown_path: Path, *, title: str
) -> StatisticsOutcome:
    """Computes TFDV statistics of a batch artifact and renders them as HTML and Markdown.

    An unreadable batch is not an error here: the reason is written into the artifact so that validation
    can halt the run with it named, and the views say what happened.
    """
    stats_dir.mkdir(parents=True, exist_ok=True)
    try:
        frame = load_batch(batch_dir)
    except DataContractError as exc:
        (stats_dir / UNREADABLE_FILE).write_text(str(exc), encoding="utf-8")
        message = f"The batch could not be read: {exc}"
        html_path.write_text(f"<!doctype html><meta charset='utf-8'><title>{title}</title><p>{message}</p>")
        markdown_path.write_text(f"# {title}\n\n{message}\n", encoding="utf-8")
        return StatisticsOutcome(statistics=None, unreadable_reason=str(exc))
    stats = compute_statistics(frame)
    write_statistics(stats, stats_dir / STATISTICS_FILE)
    html_path.write_text(render_statistics_html(stats, title=title), encoding="utf-8")
    markdown_path.write_text(render_statistics_markdown(stats, title=title), encoding="utf-8")
    return StatisticsOutcome(statistics=stats)
