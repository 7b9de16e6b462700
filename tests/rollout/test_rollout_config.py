"""The rollout configuration: the shipped file loads; typos, missing keys and bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_files import assert_refused_naming_the_file, edited_copy

from components.rollout.core.config import DEFAULT_CONFIG_PATH, load_config
from contracts.errors import RolloutError


def test_shipped_config_loads() -> None:
    config = load_config()
    assert config.steps.canary == (10, 25, 50, 100)
    assert 0 < config.checks.max_error_rate < 0.1
    assert config.bandit.policy in ("thompson", "epsilon-greedy")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("max_error_rate = 0.01", "max_eror_rate = 0.01", "unknown keys \\['max_eror_rate'\\]"),
        ("canary = [10, 25, 50, 100]", "canary = [10, 50, 25, 100]", "rise strictly"),
        ("canary = [10, 25, 50, 100]", "canary = [10, 25, 50]", "end at 100"),
        ("ab_split = 50", "ab_split = 100", "ab_split"),
        ("max_error_rate = 0.01", "max_error_rate = 1.5", "max_error_rate"),
        ('policy = "thompson"', 'policy = "greedy"', "bandit.policy"),
        ("[bandit]", "[bandits]", "unknown tables \\['bandits'\\]"),
        ("ab_split = 50", "ab_split = true", "ab_split must be an integer, got True"),
        ("canary = [10, 25, 50, 100]", "canary = [10, 25, 50.5, 100]", "canary must be an integer"),
        ("canary = [10, 25, 50, 100]", "canary = 100", "canary must be a list of percentages"),
        ("window_seconds = 300.0", "window_seconds = nan", "window_seconds must be a finite number"),
        ('policy = "thompson"', "policy = 1", "policy must be a string"),
    ],
)
def test_bad_config_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = edited_copy(DEFAULT_CONFIG_PATH, tmp_path, old, new)
    assert_refused_naming_the_file(load_config, path, RolloutError, message)


def test_an_unreadable_config_is_a_rollout_error(tmp_path: Path) -> None:
    with pytest.raises(RolloutError, match="cannot read the rollout config"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(RolloutError, match="not valid TOML"):
        load_config(edited_copy(DEFAULT_CONFIG_PATH, tmp_path, "[steps]", "[steps"))


def test_overrides_are_checked() -> None:
    config = load_config().with_overrides(steps={"window_seconds": 2.0}, checks={"min_requests": 20})
    assert (config.steps.window_seconds, config.checks.min_requests) == (2.0, 20)
    with pytest.raises(RolloutError, match="unknown keys"):
        load_config().with_overrides(steps={"window": 2.0})
    with pytest.raises(RolloutError, match="window_seconds"):
        load_config().with_overrides(steps={"window_seconds": 0})


def test_to_dict_is_plain() -> None:
    assert load_config().to_dict()["steps"]["canary"] == [10, 25, 50, 100]
