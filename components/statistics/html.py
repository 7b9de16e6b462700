"""A self-contained HTML view of a batch's statistics: inline CSS and SVG, no script, no fetch.

TFDV's own ``get_statistics_html`` loads Facets from the internet at view time and shows nothing on an
air-gapped cluster; this page renders anywhere a browser (or the KFP dashboard's HTML viewer) runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from components.statistics.features import Bucket, FeatureSummary, summarise
from components.statistics.logic import Statistics, num_examples

_CHART_WIDTH = 220
_CHART_HEIGHT = 56
_TOP_SHOWN = 8
_MISSING_WARN = 0.05

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1f2933; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
p.meta { color: #52606d; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 6px 8px; text-align: right; vertical-align: middle; }
th { background: #f5f7fa; font-weight: 600; position: sticky; top: 0; }
td.name, th.name, td.top { text-align: left; }
td.name { font-weight: 600; font-family: ui-monospace, Menlo, monospace; }
td.warn { color: #b42318; font-weight: 600; }
td.chart { width: 230px; text-align: left; }
span.kind { color: #52606d; font-size: 11px; }
svg text { font-size: 9px; fill: #3e4c59; font-family: ui-monospace, Menlo, monospace; }
"""


def _number(value: float | None) -> str:
    # No thousands separator: values such as years (2013) read wrongly with one.
    if value is None:
        return "&ndash;"
    if value == int(value) and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.4g}"


def _histogram_svg(buckets: Sequence[Bucket]) -> str:
    """Vertical bars of equal width, one per histogram bucket, scaled to the tallest."""
    if not buckets:
        return '<svg width="0" height="0" role="img" aria-label="no values"></svg>'
    tallest = max(bucket.count for bucket in buckets) or 1.0
    width = _CHART_WIDTH / len(buckets)
    bars = []
    for index, bucket in enumerate(buckets):
        height = (_CHART_HEIGHT - 12) * bucket.count / tallest
        bars.append(
            f'<rect x="{index * width + 0.5:.1f}" y="{_CHART_HEIGHT - 12 - height:.1f}" '
            f'width="{max(width - 1, 0.5):.1f}" height="{height:.1f}" fill="#3b82f6">'
            f"<title>{escape(bucket.label)}: {bucket.count:,.0f}</title></rect>"
        )
    low, high = _number(buckets[0].low), _number(buckets[-1].high)
    labels = (
        f'<text x="0" y="{_CHART_HEIGHT - 1}">{escape(low)}</text>'
        f'<text x="{_CHART_WIDTH}" y="{_CHART_HEIGHT - 1}" text-anchor="end">{escape(high)}</text>'
    )
    return (
        f'<svg width="{_CHART_WIDTH}" height="{_CHART_HEIGHT}" role="img" aria-label="histogram">'
        f"{''.join(bars)}{labels}</svg>"
    )


def _share(share: float) -> str:
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _top_values_svg(buckets: Sequence[Bucket], present: int) -> str:
    """Horizontal bars for the most frequent values, as a share of the rows that have a value.

    Bars are scaled to 100% of rows, not to the largest value, so a feature with many rare values (a key
    such as ``tailnum``) shows short bars instead of a row of full ones.
    """
    shown = list(buckets[:_TOP_SHOWN])
    if not shown:
        return '<svg width="0" height="0" role="img" aria-label="no values"></svg>'
    row = 12
    label_width = 70
    full = _CHART_WIDTH - label_width - 30
    parts = []
    for index, bucket in enumerate(shown):
        y = index * row
        share = bucket.count / present if present else 0.0
        width = max(full * share, 0.5)
        label = bucket.label if len(bucket.label) <= 10 else bucket.label[:9] + "…"
        parts.append(
            f'<text x="0" y="{y + 9}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 1}" width="{width:.1f}" height="{row - 3}" '
            f'fill="#10b981"><title>{escape(bucket.label)}: {bucket.count:,.0f}</title></rect>'
            f'<text x="{label_width + width + 3:.1f}" y="{y + 9}">{_share(share)}</text>'
        )
    return (
        f'<svg width="{_CHART_WIDTH}" height="{len(shown) * row}" role="img" aria-label="top values">'
        f"{''.join(parts)}</svg>"
    )


def _missing_cell(feature: FeatureSummary) -> str:
    css = ' class="warn"' if feature.missing_fraction > _MISSING_WARN else ""
    return f"<td{css}>{feature.missing_fraction:.1%}</td>"


def _name_cell(feature: FeatureSummary) -> str:
    return f'<td class="name">{escape(feature.name)} <span class="kind">{escape(feature.kind)}</span></td>'


def _numeric_table(features: Sequence[FeatureSummary]) -> str:
    head = (
        '<tr><th class="name">feature</th><th>count</th><th>missing</th><th>mean</th><th>std dev</th>'
        "<th>zeros</th><th>min</th><th>median</th><th>max</th><th>histogram</th></tr>"
    )
    rows = [
        f"<tr>{_name_cell(f)}<td>{f.present:,}</td>{_missing_cell(f)}<td>{_number(f.mean)}</td>"
        f"<td>{_number(f.std_dev)}</td><td>{_number(f.zeros)}</td><td>{_number(f.minimum)}</td>"
        f"<td>{_number(f.median)}</td><td>{_number(f.maximum)}</td>"
        f'<td class="chart">{_histogram_svg(f.histogram)}</td></tr>'
        for f in features
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _categorical_table(features: Sequence[FeatureSummary]) -> str:
    head = (
        '<tr><th class="name">feature</th><th>count</th><th>missing</th><th>unique</th>'
        '<th class="name">top value</th><th>top values</th></tr>'
    )
    rows = []
    for f in features:
        top = f"{escape(f.top_values[0].label)} ({f.top_values[0].count:,.0f})" if f.top_values else "&ndash;"
        rows.append(
            f"<tr>{_name_cell(f)}<td>{f.present:,}</td>{_missing_cell(f)}<td>{_number(f.unique)}</td>"
            f'<td class="top">{top}</td><td class="chart">{_top_values_svg(f.top_values, f.present)}</td></tr>'
        )
    return f"<table>{head}{''.join(rows)}</table>"


def render_statistics_html(stats: Statistics, *, title: str = "Batch statistics") -> str:
    """Renders statistics as one standalone HTML page.

    Args:
        stats: Statistics from ``compute_statistics`` or ``read_statistics``.
        title: Heading of the page, e.g. the batch's name.

    Returns:
        The page; it references no external resource and needs no JavaScript.
    """
    features = summarise(stats)
    numeric = [f for f in features if f.numeric]
    categorical = [f for f in features if not f.numeric]
    sections = []
    if numeric:
        sections.append(f"<h2>Numeric features ({len(numeric)})</h2>{_numeric_table(numeric)}")
    if categorical:
        sections.append(
            f"<h2>Categorical features ({len(categorical)})</h2>{_categorical_table(categorical)}"
        )
    if not features:
        sections.append("<p>No features.</p>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="meta">{num_examples(stats):,} rows · {len(features)} features · '
        f"missing shares above {_MISSING_WARN:.0%} in red</p>{''.join(sections)}</body></html>"
    )
