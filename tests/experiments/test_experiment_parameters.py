"""Experiment parameters are parsed and checked before any run starts."""

from __future__ import annotations

import pytest

from components.experiments.parameters import KNOBS, parameter_sets
from components.experiments.sweep import pipeline_arguments
from contracts.errors import ConfigError


def test_a_grid_is_the_cartesian_product_with_the_fixed_values_in_every_set() -> None:
    sets = parameter_sets(["epochs=4"], ["learning_rate=0.001,0.003", "hidden_units=64/32,16"])
    assert sets == [
        {"epochs": 4, "learning_rate": 0.001, "hidden_units": [64, 32]},
        {"epochs": 4, "learning_rate": 0.001, "hidden_units": [16]},
        {"epochs": 4, "learning_rate": 0.003, "hidden_units": [64, 32]},
        {"epochs": 4, "learning_rate": 0.003, "hidden_units": [16]},
    ]


def test_no_flags_is_one_run_of_the_defaults() -> None:
    assert parameter_sets([], []) == [{}]


def test_an_unknown_key_is_refused_with_the_list_of_valid_keys() -> None:
    with pytest.raises(ConfigError) as refused:
        parameter_sets(["layers=3"], [])
    message = str(refused.value)
    assert message.startswith("unknown experiment parameter 'layers'; valid keys:")
    assert all(key in message for key in KNOBS)


@pytest.mark.parametrize(
    ("assignment", "reason"),
    [
        ("epochs=0", "epochs='0': must be within 1-200"),
        ("dropout=1.0", "dropout='1.0': must be at least 0 and below 1"),
        ("learning_rate=-1", "learning_rate='-1': must be above 0"),
        ("hidden_units=64/x", "hidden_units='64/x'"),
        ("months=0-3", "months='0-3': months must be within 1-12"),
        ("epochs", "--set takes key=value"),
    ],
)
def test_bad_values_are_refused_naming_the_rule(assignment: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parameter_sets([assignment], [])


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="'epochs' is given twice"):
        parameter_sets(["epochs=2"], ["epochs=3,4"])


def test_every_run_is_judged_on_the_same_month() -> None:
    assert len(parameter_sets([], ["months=1-6,4-6"])) == 2
    with pytest.raises(ConfigError, match=r"end in months \[5, 6\]"):
        parameter_sets([], ["months=1-6,1-5"])


def test_a_parameter_set_becomes_time_ordered_pipeline_arguments_registering_a_candidate() -> None:
    arguments = pipeline_arguments({"months": "4-6", "epochs": 3, "hidden_units": [32]})
    assert arguments == {
        "epochs": 3,
        "hidden_units": [32],
        "train_months": [4, 5, 6],
        "eval_month": 7,
        "previous_month": 6,
        "promotion": "candidate",
    }
    assert pipeline_arguments({}, window="1-11")["eval_month"] == 12
    with pytest.raises(ConfigError, match="no later month"):
        pipeline_arguments({"months": "1-12"})
