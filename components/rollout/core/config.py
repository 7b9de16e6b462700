"""Rollout configuration: ``rollout.toml`` beside this module, read into frozen, validated records."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from components.toml_config import check_names, integer, load_toml, number, table, table_fields
from contracts.errors import ConfigError, RolloutError

DEFAULT_CONFIG_PATH = Path(__file__).with_name("rollout.toml")
BANDIT_POLICIES = ("epsilon-greedy", "thompson")


@dataclass(frozen=True)
class StepConfig:
    """How traffic moves (see ``rollout.toml`` for the reasoning).

    Attributes:
        canary: The candidate's traffic share per canary step, in percent, rising, ending at 100.
        ab_split: The candidate's share during an A/B test, 1-99.
        window_seconds: Length of each step's analysis window.
        max_windows: Windows a step may wait for enough candidate requests before it fails.
        poll_seconds: The controller's polling interval.
    """

    canary: tuple[int, ...]
    ab_split: int
    window_seconds: float
    max_windows: int
    poll_seconds: float

    def __post_init__(self) -> None:
        steps = self.canary
        if not steps or any(not isinstance(s, int) or not 0 < s <= 100 for s in steps):
            raise RolloutError(f"steps.canary must be whole percentages in 1-100, got {list(steps)}")
        if list(steps) != sorted(set(steps)) or steps[-1] != 100:
            raise RolloutError(f"steps.canary must rise strictly and end at 100, got {list(steps)}")
        if not 0 < self.ab_split < 100:
            raise RolloutError(f"steps.ab_split must be within 1-99, got {self.ab_split}")
        if self.window_seconds <= 0 or self.poll_seconds <= 0 or self.max_windows < 1:
            raise RolloutError("steps.window_seconds and poll_seconds must be > 0 and max_windows >= 1")


@dataclass(frozen=True)
class CheckConfig:
    """What a step's traffic must show for the candidate to go on (see ``rollout.toml``).

    Attributes:
        min_requests: Candidate requests needed in a window before judging.
        max_error_rate: Candidate error rate, at most.
        max_p99_latency_ms: Candidate p99 latency, at most.
        max_p99_latency_ratio: Candidate p99 over the main version's p99, at most.
        max_prediction_divergence: KS distance between the two prediction distributions, at most.
        min_feedback: Labelled answers per version needed before accuracy is judged.
        max_accuracy_drop: Main accuracy minus candidate accuracy, at most.
    """

    min_requests: int
    max_error_rate: float
    max_p99_latency_ms: float
    max_p99_latency_ratio: float
    max_prediction_divergence: float
    min_feedback: int
    max_accuracy_drop: float

    def __post_init__(self) -> None:
        if self.min_requests < 1 or self.min_feedback < 1:
            raise RolloutError("checks.min_requests and checks.min_feedback must be >= 1")
        for name in ("max_error_rate", "max_prediction_divergence", "max_accuracy_drop"):
            if not 0 <= getattr(self, name) <= 1:
                raise RolloutError(f"checks.{name} must be within [0, 1], got {getattr(self, name)}")
        if self.max_p99_latency_ms <= 0 or self.max_p99_latency_ratio < 1:
            raise RolloutError("checks.max_p99_latency_ms must be > 0 and max_p99_latency_ratio >= 1")


@dataclass(frozen=True)
class BanditConfig:
    """The bandit router's policy.

    Attributes:
        policy: ``epsilon-greedy`` or ``thompson``.
        epsilon: Exploration share of the epsilon-greedy policy, within [0, 1].
    """

    policy: str
    epsilon: float

    def __post_init__(self) -> None:
        if self.policy not in BANDIT_POLICIES:
            raise RolloutError(f"bandit.policy must be one of {BANDIT_POLICIES}, got {self.policy!r}")
        if not 0 <= self.epsilon <= 1:
            raise RolloutError(f"bandit.epsilon must be within [0, 1], got {self.epsilon}")


@dataclass(frozen=True)
class RolloutConfig:
    """Everything a rollout is configured with."""

    steps: StepConfig
    checks: CheckConfig
    bandit: BanditConfig

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, one mapping per section."""
        return {
            section.name: {
                f.name: _plain(getattr(getattr(self, section.name), f.name))
                for f in fields(getattr(self, section.name))
            }
            for section in fields(self)
        }

    def with_overrides(self, **sections: dict[str, Any]) -> RolloutConfig:
        """A copy with some keys replaced, e.g. ``with_overrides(steps={"window_seconds": 5})``.

        Raises:
            RolloutError: for an unknown section or key, or a value the section refuses.
        """
        changed = {}
        for name, values in sections.items():
            if name not in _SECTIONS:
                raise RolloutError(f"unknown rollout config section {name!r}; known: {sorted(_SECTIONS)}")
            current = getattr(self, name)
            unknown = set(values) - {f.name for f in fields(current)}
            if unknown:
                raise RolloutError(f"unknown keys in rollout config section [{name}]: {sorted(unknown)}")
            changed[name] = replace(current, **_typed(values))
        return replace(self, **changed)


_SECTIONS: dict[str, type[Any]] = {"steps": StepConfig, "checks": CheckConfig, "bandit": BanditConfig}


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> RolloutConfig:
    """Reads a rollout configuration from TOML with sections ``[steps]``, ``[checks]``, ``[bandit]``.

    Args:
        path: The file; by default ``rollout.toml`` beside this module.

    Raises:
        RolloutError: for an unreadable file, a missing or unknown section or key, a value of the wrong
            type, or one out of range; the message starts with ``path``.

    Example:
        >>> load_config().steps.canary
        (10, 25, 50, 100)
    """
    return load_toml(path, _rollout, what="the rollout config", tables=_SECTIONS, error=RolloutError)


def _rollout(document: dict[str, Any]) -> RolloutConfig:
    steps = table(document, "steps")
    check_names(steps, [f.name for f in fields(StepConfig)], where="[steps]", noun="keys")
    canary = steps["canary"]
    if not isinstance(canary, list):
        raise ConfigError(f"[steps] canary must be a list of percentages, got {canary!r}")
    bandit = table(document, "bandit")
    check_names(bandit, [f.name for f in fields(BanditConfig)], where="[bandit]", noun="keys")
    if not isinstance(bandit["policy"], str):
        raise ConfigError(f"[bandit] policy must be a string, got {bandit['policy']!r}")
    return RolloutConfig(
        steps=StepConfig(
            canary=tuple(integer(share, "[steps] canary") for share in canary),
            ab_split=integer(steps["ab_split"], "[steps] ab_split"),
            window_seconds=number(steps["window_seconds"], "[steps] window_seconds"),
            max_windows=integer(steps["max_windows"], "[steps] max_windows"),
            poll_seconds=number(steps["poll_seconds"], "[steps] poll_seconds"),
        ),
        checks=CheckConfig(**table_fields(document, "checks", CheckConfig)),
        bandit=BanditConfig(policy=bandit["policy"], epsilon=number(bandit["epsilon"], "[bandit] epsilon")),
    )


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    # TOML arrays arrive as lists; the records are frozen and hashable, so sequences become tuples.
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
