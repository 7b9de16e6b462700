"""A short Markdown summary of a batch's statistics, for the KFP dashboard's Markdown viewer."""

from __future__ import annotations

from components.statistics.features import summarise
from components.statistics.logic import Statistics, num_examples

_MOST_MISSING_SHOWN = 5


def render_statistics_markdown(stats: Statistics, *, title: str = "Batch statistics") -> str:
    """Renders row and feature counts and the features missing most often.

    Args:
        stats: Statistics from ``compute_statistics`` or ``read_statistics``.
        title: Heading of the summary.

    Returns:
        Markdown text ending with a newline.
    """
    features = summarise(stats)
    numeric = sum(1 for f in features if f.numeric)
    lines = [
        f"## {title}",
        "",
        f"- rows: {num_examples(stats):,}",
        f"- features: {len(features)} ({numeric} numeric, {len(features) - numeric} categorical)",
        "",
    ]
    missing = sorted((f for f in features if f.missing), key=lambda f: (-f.missing_fraction, f.name))
    if missing:
        lines += ["| most missing | missing | rows missing |", "|---|---:|---:|"]
        lines += [
            f"| `{f.name}` | {f.missing_fraction:.1%} | {f.missing:,} |"
            for f in missing[:_MOST_MISSING_SHOWN]
        ]
    else:
        lines.append("No feature has missing values.")
    return "\n".join(lines) + "\n"
