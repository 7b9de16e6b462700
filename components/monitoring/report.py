"""The monitor's report: Markdown for terminals and pull requests, a self-contained HTML page for browsers.

The HTML page has inline CSS only (no script, no external fetch), so it renders on an air-gapped machine
and as a KFP ``HTML`` artifact alike. Both renderings read ``MonitorResult.to_dict()``, so a report can be
re-rendered from its stored JSON.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
REPORT_HTML = "report.html"

_STATUS_WORDS = {
    "healthy": "healthy: nothing calls for retraining",
    "retrain": "retraining wanted",
    "insufficient-data": "not enough served rows yet to judge",
}


def _time(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _number(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _measurement_rows(data: Mapping[str, Any] | None) -> list[list[str]]:
    if not data:
        return []
    ordered = sorted(
        data["measurements"], key=lambda m: (not m["exceeded"], m["ignored"], m["comparison"], m["feature"])
    )
    return [
        [
            m["comparison"],
            m["feature"],
            m["metric"].replace("_", " "),
            _number(m["value"]),
            _number(m["threshold"], 2),
            ("EXCEEDED" if m["exceeded"] else "ok")
            + (" (ignored)" if m["ignored"] and m["exceeded"] else ""),
        ]
        for m in ordered
    ]


def _performance_rows(performance: Mapping[str, Any]) -> list[list[str]]:
    return [
        [
            c["name"].replace("_", " "),
            _number(c["live"]),
            _number(c["evaluated"]),
            _number(c["value"]),
            _number(c["limit"], 2),
            "DEGRADED" if c["degraded"] else "ok",
        ]
        for c in performance["checks"]
    ]


def _facts(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    window = result["window"]
    reference = result["reference"]
    return [
        ("model", f"{result['model']} {result['version']}"),
        ("checked at", _time(result["checked_at"])),
        (
            "window",
            f"{window['rows']} rows ({window['labelled_rows']} labelled), {_time(window['start'])} to {_time(window['end'])}",
        ),
        (
            "refused requests / unreadable log lines",
            f"{window['refused_requests']} / {window['unreadable_lines']}",
        ),
        ("trained on", reference["training_data"]),
        ("training statistics", reference["statistics"]),
    ]


_MEASUREMENT_HEADER = ["comparison", "feature", "metric", "value", "threshold", "verdict"]
_PERFORMANCE_HEADER = ["check", "live", "at evaluation", "compared", "limit", "verdict"]


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    if not rows:
        return ["(none)"]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render_markdown(result: Mapping[str, Any]) -> str:
    """The report as Markdown: verdict, reasons, window, drift and skew table, live performance."""
    lines = [
        f"# Production monitor: {result['model']} {result['version']}",
        "",
        f"**{_STATUS_WORDS.get(result['status'], result['status'])}**"
        + (f" (signals: {', '.join(result['signals'])})" if result["signals"] else ""),
        "",
    ]
    lines += [f"- {reason}" for reason in result["reasons"]]
    lines += [f"- note: {note}" for note in result["notes"]]
    lines += ["", "| | |", "|---|---|", *(f"| {key} | {value} |" for key, value in _facts(result))]
    lines += ["", "## Drift and skew against the training data", ""]
    data = result["data"]
    if data is None:
        lines.append("Not judged: too few rows in the window.")
    else:
        if data["anomalies"]:
            lines.append(
                "Schema anomalies of served data: "
                + "; ".join(f"{a['feature']} {a['type']} ({a['description']})" for a in data["anomalies"])
            )
            lines.append("")
        lines += _markdown_table(_MEASUREMENT_HEADER, _measurement_rows(data))
    lines += ["", "## Live performance (fed-back outcomes)", ""]
    performance = result["performance"]
    if not performance["judged"]:
        lines.append(f"Not judged: {performance['labelled_rows']} labelled rows in the window.")
    else:
        lines += _markdown_table(_PERFORMANCE_HEADER, _performance_rows(performance))
    return "\n".join(lines) + "\n"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr"
        + (" class='bad'" if any(v.startswith(("EXCEEDED", "DEGRADED")) for v in row) else "")
        + ">"
        + "".join(f"<td>{html.escape(v)}</td>" for v in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(result: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page."""
    status = result["status"]
    title = f"Production monitor: {result['model']} {result['version']}"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in result["reasons"])
    notes = "".join(f"<li class='note'>{html.escape(n)}</li>" for n in result["notes"])
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _facts(result))
    data = result["data"]
    if data is None:
        data_section = "<p>Not judged: too few rows in the window.</p>"
    else:
        anomalies = "".join(
            f"<li>{html.escape(a['feature'])} {html.escape(a['type'])}: {html.escape(a['description'])}</li>"
            for a in data["anomalies"]
        )
        data_section = (f"<ul>{anomalies}</ul>" if anomalies else "") + _html_table(
            _MEASUREMENT_HEADER, _measurement_rows(data)
        )
    performance = result["performance"]
    performance_section = (
        _html_table(_PERFORMANCE_HEADER, _performance_rows(performance))
        if performance["judged"]
        else f"<p>Not judged: {performance['labelled_rows']} labelled rows in the window.</p>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; font-size: 0.9rem; }}
tr.bad td {{ background: #fde8e8; }}
.status {{ font-size: 1.2rem; font-weight: 600; padding: 0.4rem 0.8rem; display: inline-block; }}
.healthy {{ background: #e3f6e8; }} .retrain {{ background: #fde8e8; }} .insufficient-data {{ background: #eee; }}
li.note {{ color: #666; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="status {html.escape(status)}">{html.escape(_STATUS_WORDS.get(status, status))}</p>
<ul>{reasons}{notes}</ul>
<table>{facts}</table>
<h2>Drift and skew against the training data</h2>
{data_section}
<h2>Live performance (fed-back outcomes)</h2>
{performance_section}
</body></html>
"""


def write_report(result: Mapping[str, Any], folder: Path) -> dict[str, Path]:
    """Writes the JSON, Markdown and HTML renderings into ``folder`` (created), each atomically.

    Returns:
        The three paths by kind (``json``, ``markdown``, ``html``).
    """
    import json

    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, name, text in (
        ("json", REPORT_JSON, json.dumps(result, indent=2, default=str) + "\n"),
        ("markdown", REPORT_MARKDOWN, render_markdown(result)),
        ("html", REPORT_HTML, render_html(result)),
    ):
        partial = folder / f".{name}.partial"
        partial.write_text(text, encoding="utf-8")
        partial.replace(folder / name)
        written[kind] = folder / name
    return written
