"""The shared TOML settings reader: one set of refusals, every message naming the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from config_files import assert_refused_naming_the_file

from components.toml_config import check_names, integer, load_toml, names, number, table_fields
from contracts.errors import ConfigError, RolloutError


@dataclass(frozen=True)
class Window:
    rows: int
    seconds: float
    features: tuple[str, ...]


@dataclass(frozen=True)
class Labelled:
    label: str


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _window(document: dict[str, Any]) -> Window:
    return Window(**table_fields(document, "window", Window))


WINDOW = '[window]\nrows = 10\nseconds = 5\nfeatures = ["temp", "origin"]\n'


def test_a_valid_file_is_built_with_typed_values(tmp_path: Path) -> None:
    window = load_toml(_write(tmp_path, WINDOW), _window, what="the window", tables=["window"])

    assert window == Window(rows=10, seconds=5.0, features=("temp", "origin"))
    assert isinstance(window.seconds, float)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[window\nrows = 1", "not valid TOML"),
        (WINDOW + "[extra]\nx = 1\n", r"unknown tables \['extra'\], missing tables \[\]; expected tables"),
        ("", r"missing tables \['window'\]"),
        ("window = 3\n", r"\[window\] is missing or not a table"),
        (
            WINDOW.replace("rows = 10", "row = 10"),
            r"\[window\]: unknown keys \['row'\], missing keys \['rows'\]",
        ),
        (WINDOW.replace("rows = 10", "rows = 10.0"), r"\[window\] rows must be an integer, got 10\.0"),
        (WINDOW.replace("rows = 10", "rows = true"), r"\[window\] rows must be an integer, got True"),
        (WINDOW.replace("seconds = 5", "seconds = true"), r"\[window\] seconds must be a number, got True"),
        (WINDOW.replace("seconds = 5", 'seconds = "5"'), r"seconds must be a number, got '5'"),
        (WINDOW.replace("seconds = 5", "seconds = nan"), r"seconds must be a finite number, got nan"),
        (WINDOW.replace("seconds = 5", "seconds = -inf"), r"seconds must be a finite number, got -inf"),
        (WINDOW.replace('"origin"', '""'), r"features must be a list of names, got \['temp', ''\]"),
        (WINDOW.replace('["temp", "origin"]', "3"), "features must be a list of names, got 3"),
    ],
)
def test_malformed_files_are_refused_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    assert_refused_naming_the_file(
        lambda file: load_toml(file, _window, what="the window", tables=["window"]),
        path,
        ConfigError,
        message,
    )


def test_an_unreadable_file_says_what_it_should_have_held(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.toml: cannot read the window: "):
        load_toml(tmp_path / "absent.toml", _window, what="the window", tables=["window"])
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe rows = 1")
    with pytest.raises(ConfigError, match="cannot read the window"):
        load_toml(tmp_path / "binary.toml", _window, what="the window", tables=["window"])


def test_errors_of_the_record_itself_name_the_file(tmp_path: Path) -> None:
    def refuse(document: dict[str, Any]) -> None:
        raise ConfigError("[window] rows must be > 0")

    path = _write(tmp_path, WINDOW)
    with pytest.raises(ConfigError, match=r"^.*settings\.toml: \[window\] rows must be > 0$"):
        load_toml(path, refuse, what="the window", tables=["window"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[window\nrows = 1", "not valid TOML"),
        ("", r"missing tables \['window'\]"),
        (WINDOW.replace("seconds = 5", "seconds = nan"), "seconds must be a finite number"),
    ],
)
def test_a_loader_may_raise_its_own_error_family(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    assert_refused_naming_the_file(
        lambda file: load_toml(file, _window, what="the window", tables=["window"], error=RolloutError),
        path,
        RolloutError,
        message,
    )
    with pytest.raises(RolloutError, match="cannot read the window"):
        load_toml(tmp_path / "absent.toml", _window, what="the window", tables=["window"], error=RolloutError)


def test_errors_of_the_family_raised_by_the_record_name_the_file(tmp_path: Path) -> None:
    def refuse(document: dict[str, Any]) -> None:
        raise RolloutError("steps.canary must end at 100")

    path = _write(tmp_path, WINDOW)
    with pytest.raises(RolloutError, match=r"^.*settings\.toml: steps\.canary must end at 100$"):
        load_toml(path, refuse, what="the window", tables=["window"], error=RolloutError)


def test_a_flat_file_names_its_keys_in_its_own_words(tmp_path: Path) -> None:
    path = _write(tmp_path, "rows = 1\nsecond = 2\n")

    with pytest.raises(ConfigError, match=r"unknown budgets \['second'\], missing budgets \['seconds'\]"):
        load_toml(path, dict, what="budgets", tables=["rows", "seconds"], top_level="budgets")


def test_toml_keys_can_fill_fields_of_other_names() -> None:
    document = {"debounce": {"checks": 2}, "cooldown": {"hours": 6}}

    values = table_fields(document, "debounce", Window, keys={"checks": "rows"})
    values |= table_fields(document, "cooldown", Window, keys={"hours": "seconds"})

    assert values == {"rows": 2, "seconds": 6.0}
    with pytest.raises(
        ConfigError, match=r"\[debounce\]: unknown keys \['checks'\], missing keys \['count'\]"
    ):
        table_fields(document, "debounce", Window, keys={"count": "rows"})


def test_optional_names_may_be_absent_but_never_unknown() -> None:
    check_names({"a"}, {"a", "b"}, where="[t]", noun="keys", optional={"b"})
    with pytest.raises(ConfigError, match=r"\[t\]: unknown keys \['c'\], missing keys \[\]"):
        check_names({"a", "c"}, {"a", "b"}, where="[t]", noun="keys", optional={"b"})


def test_value_readers_accept_only_their_kind() -> None:
    assert integer(3, "x") == 3
    assert number(3, "x") == 3.0 and isinstance(number(3, "x"), float)
    assert names([], "x") == ()
    with pytest.raises(ConfigError, match="x must be a list of feature names"):
        names(["temp", 1], "x", item="feature name")
    with pytest.raises(ConfigError, match="must be a finite number"):
        number(float("inf"), "x")


def test_a_field_type_with_no_reading_is_a_code_error() -> None:
    with pytest.raises(TypeError, match=r"Labelled\.label: no TOML reading for fields of type"):
        table_fields({"t": {"label": "a"}}, "t", Labelled)
