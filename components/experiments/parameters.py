"""The knobs an experiment may turn, parsed and checked before any run starts.

Every parameter set becomes the continuous-training pipeline's arguments, so an experiment runs exactly
the pipeline production runs (experimental-operational symmetry); only the knobs below differ.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.errors import ConfigError

# Without `months`, a run learns from January-June and is judged on July, as `mlops run` does.
DEFAULT_WINDOW = "1-6"


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be above 0")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise ValueError("must be at least 0 and below 1")
    return value


def _count(lowest: int, highest: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not lowest <= value <= highest:
            raise ValueError(f"must be within {lowest}-{highest}")
        return value

    return parse


def _layers(text: str) -> list[int]:
    widths = [int(part) for part in text.split("/")]
    if not widths or any(not 1 <= width <= 4096 for width in widths):
        raise ValueError("must be layer widths within 1-4096 separated by '/', e.g. 64/32")
    return widths


def _window(text: str) -> str:
    from components.time_order.logic import parse_months

    parse_months(text)
    return text


@dataclass(frozen=True)
class Knob:
    """One parameter an experiment may vary.

    Attributes:
        parse: Text to the pipeline's value; raises ValueError (or ConfigError) with the rule broken.
        example: A valid value, shown in the list of valid keys.
    """

    parse: Callable[[str], Any]
    example: str
    meaning: str


KNOBS: Mapping[str, Knob] = {
    "learning_rate": Knob(_positive_float, "0.003", "Adam step size"),
    "epochs": Knob(_count(1, 200), "8", "upper bound on epochs (early stopping usually ends sooner)"),
    "batch_size": Knob(_count(16, 65536), "1024", "rows per gradient step"),
    "hidden_units": Knob(_layers, "64/32", "widths of the hidden layers"),
    "embedding_dim": Knob(_count(1, 64), "8", "upper bound on a categorical feature's embedding width"),
    "dropout": Knob(_fraction, "0.1", "dropout after each hidden layer"),
    "seed": Knob(_count(0, 2**31 - 1), "42", "seeds every random choice of training"),
    "months": Knob(_window, "1-6", "training window (months of 2013); the month after it is judged on"),
}


def valid_keys() -> str:
    """The list a refusal shows: every key with an example value."""
    return ", ".join(f"{name} (e.g. {knob.example})" for name, knob in KNOBS.items())


def parse_value(key: str, text: str) -> Any:
    """``text`` as the pipeline's value of ``key``.

    Raises:
        ConfigError: for an unknown key (listing the valid ones) or a value breaking the key's rule.
    """
    knob = KNOBS.get(key)
    if knob is None:
        raise ConfigError(f"unknown experiment parameter {key!r}; valid keys: {valid_keys()}")
    try:
        return knob.parse(text.strip())
    except (ValueError, ConfigError) as exc:
        raise ConfigError(f"{key}={text!r}: {exc}") from exc


def _split(assignment: str, flag: str) -> tuple[str, str]:
    key, sep, value = assignment.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ConfigError(f"{flag} takes key=value, got {assignment!r}; valid keys: {valid_keys()}")
    return key.strip(), value


def parameter_sets(fixed: Sequence[str], grid: Sequence[str]) -> list[dict[str, Any]]:
    """Every parameter set of a sweep: the ``--set`` values with each combination of the ``--grid`` values.

    Args:
        fixed: ``key=value`` assignments shared by every run.
        grid: ``key=v1,v2,...`` assignments; the sweep is their cartesian product, in the order given.

    Raises:
        ConfigError: for malformed assignments, unknown keys, bad values, a key given twice, or windows
            that end in different months (the runs of one experiment are judged on one month).

    Example:
        >>> [s["learning_rate"] for s in parameter_sets(["epochs=4"], ["learning_rate=0.001,0.003"])]
        [0.001, 0.003]
    """
    shared: dict[str, Any] = {}
    for assignment in fixed:
        key, text = _split(assignment, "--set")
        _refuse_twice(key, shared)
        shared[key] = parse_value(key, text)
    axes: list[tuple[str, list[tuple[str, Any]]]] = []
    for assignment in grid:
        key, text = _split(assignment, "--grid")
        _refuse_twice(key, {**shared, **dict(axes)})
        values = [part for part in text.split(",") if part.strip()]
        axes.append((key, [(value.strip(), parse_value(key, value)) for value in values]))
    sets = []
    for combination in itertools.product(*(values for _, values in axes)):
        sets.append(
            {**shared, **{key: value for (key, _), (_, value) in zip(axes, combination, strict=True)}}
        )
    _refuse_mixed_evaluation_months(sets)
    return sets


def _refuse_twice(key: str, seen: Mapping[str, Any]) -> None:
    if key in seen:
        raise ConfigError(f"experiment parameter {key!r} is given twice")


def _refuse_mixed_evaluation_months(sets: Sequence[Mapping[str, Any]]) -> None:
    from components.time_order.logic import parse_months

    ends = {parse_months(s["months"])[-1] for s in sets if "months" in s}
    if len(ends) > 1:
        raise ConfigError(
            "every run of an experiment is judged on the same month, so every training window must end in "
            f"the same month; these end in months {sorted(ends)}: vary where windows start instead"
        )
