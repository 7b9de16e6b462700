"""A/B analysis: where version A or version B did better, per segment, with confidence intervals.

From the proxy's traffic log (every answered request with its version, segment and predictions, and
the ground truth fed back for it), each segment - all traffic, each origin airport, each carrier - gets
per version: answers, labelled answers, accuracy with a 95% Wilson interval, the observed delay rate
with its Wilson interval, the mean predicted probability and log loss; and the difference in log loss
(B - A) with a 95% bootstrap interval. A segment is called for a version only when that interval
excludes 0: "you learn on which data A or B did well", and how sure that is.

Both versions are judged on the same period, so a segment's traffic mix is the same for both (a random
split, or with a shadow the very same requests).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from components.rollout.core.traffic import DECISION_THRESHOLD, Exchange
from contracts.errors import RolloutError

Z_95 = 1.959963984540054
SEGMENT_KEYS = ("origin", "carrier")
_EPSILON = 1e-7


@dataclass(frozen=True)
class Labelled:
    """One fed-back answer: the version's predicted probability and what happened (0 or 1)."""

    probability: float
    truth: int


@dataclass(frozen=True)
class ArmSummary:
    """One version in one segment."""

    answers: int
    labelled: int
    delayed: int
    accuracy: float
    accuracy_interval: tuple[float, float]
    delay_rate: float
    delay_rate_interval: tuple[float, float]
    mean_prediction: float
    log_loss: float


@dataclass(frozen=True)
class SegmentComparison:
    """A against B in one segment."""

    segment: str
    a: ArmSummary
    b: ArmSummary
    log_loss_difference: float
    difference_interval: tuple[float, float]

    @property
    def winner(self) -> str:
        """``A``, ``B``, ``no clear difference`` or ``too few labels``."""
        low, high = self.difference_interval
        if math.isnan(low):
            return "too few labels"
        if high < 0:
            return "B"
        if low > 0:
            return "A"
        return "no clear difference"


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (NaN, NaN) without trials.

    Example:
        >>> [round(x, 4) for x in wilson_interval(8, 10)]
        [0.4902, 0.9433]
    """
    if trials <= 0:
        return math.nan, math.nan
    share = successes / trials
    spread = z * z / trials
    center = (share + spread / 2) / (1 + spread)
    half = z / (1 + spread) * math.sqrt(share * (1 - share) / trials + spread / (4 * trials))
    # At 0 or n successes one bound is exactly 0 or 1; rounding would leave it a hair inside.
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == trials else min(1.0, center + half)
    return low, high


def log_loss(rows: Sequence[Labelled]) -> float:
    """Mean binary cross-entropy; NaN for no rows."""
    if not rows:
        return math.nan
    total = 0.0
    for row in rows:
        p = min(max(row.probability, _EPSILON), 1 - _EPSILON)
        total -= math.log(p) if row.truth else math.log(1 - p)
    return total / len(rows)


def bootstrap_difference(
    a: Sequence[Labelled], b: Sequence[Labelled], *, resamples: int = 1_000, seed: int = 0
) -> tuple[float, float]:
    """A 95% percentile bootstrap interval of ``log_loss(b) - log_loss(a)``, each arm resampled apart."""
    if not a or not b:
        return math.nan, math.nan
    rng = random.Random(seed)
    differences = sorted(
        log_loss(rng.choices(b, k=len(b))) - log_loss(rng.choices(a, k=len(a))) for _ in range(resamples)
    )
    return differences[int(0.025 * resamples)], differences[min(resamples - 1, int(0.975 * resamples))]


def compare(
    exchanges: Iterable[Exchange],
    truth: Mapping[str, int],
    *,
    version_a: str,
    version_b: str,
    min_labelled: int = 30,
    resamples: int = 1_000,
) -> list[SegmentComparison]:
    """Compares the two versions per segment on answered requests (mirrored answers included).

    Args:
        exchanges: The proxy's exchanges of the period.
        truth: Ground truth by request id.
        version_a: The main version.
        version_b: The candidate.
        min_labelled: Labelled answers each version needs in a segment for an interval of the difference.
        resamples: Bootstrap resamples.
    """
    answers: dict[tuple[str, str], list[Exchange]] = {}
    for exchange in exchanges:
        if exchange.failed or exchange.version not in (version_a, version_b) or not exchange.predictions:
            continue
        for segment in [
            "all",
            *(f"{k}={exchange.segment[k]}" for k in SEGMENT_KEYS if k in exchange.segment),
        ]:
            answers.setdefault((segment, exchange.version), []).append(exchange)
    segments = sorted({segment for segment, _ in answers}, key=lambda s: (s != "all", s))
    comparisons = []
    for segment in segments:
        rows = {
            version: [
                Labelled(e.predictions[0], truth[e.puid])
                for e in answers.get((segment, version), [])
                if e.puid in truth
            ]
            for version in (version_a, version_b)
        }
        enough = min(len(rows[version_a]), len(rows[version_b])) >= min_labelled
        interval = (
            bootstrap_difference(rows[version_a], rows[version_b], resamples=resamples)
            if enough
            else (math.nan, math.nan)
        )
        comparisons.append(
            SegmentComparison(
                segment=segment,
                a=_summary(answers.get((segment, version_a), []), rows[version_a]),
                b=_summary(answers.get((segment, version_b), []), rows[version_b]),
                log_loss_difference=log_loss(rows[version_b]) - log_loss(rows[version_a]),
                difference_interval=interval,
            )
        )
    return comparisons


def read_traffic_log(
    path: Path, *, since: float = 0.0, until: float = math.inf
) -> tuple[list[Exchange], dict[str, int]]:
    """The exchanges of a period and all ground truth from the proxy's traffic log.

    Raises:
        RolloutError: for a missing file or a line that is not a traffic record.
    """
    exchanges, truth = [], {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RolloutError(f"cannot read the traffic log {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if "exchange" in record:
                exchange = Exchange.from_dict(record["exchange"])
                if since <= exchange.time < until:
                    exchanges.append(exchange)
            elif "feedback" in record and record["feedback"].get("truth") is not None:
                truth[str(record["feedback"]["puid"])] = int(record["feedback"]["truth"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RolloutError(f"{path}:{number} is not a traffic record: {exc}") from exc
    return exchanges, truth


def render_markdown(
    comparisons: Sequence[SegmentComparison], *, version_a: str, version_b: str, period: str
) -> str:
    """The report: one table row per segment, then the segments each version did better on."""
    lines = [
        f"# A/B analysis: {version_a} (A) against {version_b} (B)",
        "",
        f"Period: {period}. Accuracy and delay rate with 95% Wilson intervals; log loss difference B - A with a "
        "95% bootstrap interval (negative: B predicts better). A segment is called only when the interval "
        "excludes 0.",
        "",
        "| segment | answers A / B | labelled A / B | accuracy A | accuracy B | delay rate | mean p A / B "
        "| log loss A / B | B - A log loss [95% CI] | better |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        # Both versions saw the same traffic, so the delay rate is measured on both arms' labels together.
        delayed, labelled = c.a.delayed + c.b.delayed, c.a.labelled + c.b.labelled
        rate = delayed / labelled if labelled else math.nan
        lines.append(
            f"| {c.segment} | {c.a.answers} / {c.b.answers} | {c.a.labelled} / {c.b.labelled} "
            f"| {_share(c.a.accuracy, c.a.accuracy_interval)} | {_share(c.b.accuracy, c.b.accuracy_interval)} "
            f"| {_share(rate, wilson_interval(delayed, labelled))} "
            f"| {_number(c.a.mean_prediction)} / {_number(c.b.mean_prediction)} "
            f"| {_number(c.a.log_loss)} / {_number(c.b.log_loss)} "
            f"| {_number(c.log_loss_difference)} [{_number(c.difference_interval[0])}, {_number(c.difference_interval[1])}] "
            f"| {c.winner} |"
        )
    for label in ("A", "B"):
        won = [c.segment for c in comparisons if c.winner == label]
        version = version_a if label == "A" else version_b
        lines += [
            "",
            f"{label} ({version}) did better on: {', '.join(won) if won else 'no segment, with confidence'}.",
        ]
    return "\n".join(lines) + "\n"


def _summary(answers: Sequence[Exchange], rows: Sequence[Labelled]) -> ArmSummary:
    correct = sum((row.probability >= DECISION_THRESHOLD) == bool(row.truth) for row in rows)
    delayed = sum(row.truth for row in rows)
    predictions = [e.predictions[0] for e in answers]
    return ArmSummary(
        answers=len(answers),
        labelled=len(rows),
        delayed=delayed,
        accuracy=correct / len(rows) if rows else math.nan,
        accuracy_interval=wilson_interval(correct, len(rows)),
        delay_rate=delayed / len(rows) if rows else math.nan,
        delay_rate_interval=wilson_interval(delayed, len(rows)),
        mean_prediction=sum(predictions) / len(predictions) if predictions else math.nan,
        log_loss=log_loss(rows),
    )


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _share(value: float, interval: tuple[float, float]) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"
