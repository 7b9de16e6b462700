"""The ``mlops models ...`` and ``mlops lineage`` command functions, called as the CLI calls them."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from registry_support import FIXED_NOW, record_pipeline_run

from cli import model_commands
from components.lineage import open_store
from components.registry import ModelRegistry
from components.settings import ProjectSettings
from contracts.errors import RegistryError

Command = Callable[[argparse.Namespace, ProjectSettings], int]


@pytest.fixture
def settings(tmp_path: Path) -> ProjectSettings:
    """Settings with two versions registered, v1 promoted then replaced by v2."""
    settings = ProjectSettings(state_dir=tmp_path, metadata_uri=f"sqlite:///{tmp_path}/metadata.sqlite")
    with open_store(settings.metadata_uri) as store:
        registry = ModelRegistry(store, actor="pipeline", clock=lambda: FIXED_NOW)
        registry.register(record_pipeline_run(store, "run-1", auc=0.7))
        registry.register(record_pipeline_run(store, "run-2", auc=0.73))
        registry.promote("v1", reason="first")
        registry.promote("v2", reason="better")
    return settings


def _json(
    capsys: pytest.CaptureFixture[str], command: Command, settings: ProjectSettings, **args: object
) -> object:
    assert command(argparse.Namespace(json=True, **args), settings) == 0
    return json.loads(capsys.readouterr().out)


def test_models_list_marks_production_and_prints_a_table(
    settings: ProjectSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = _json(capsys, model_commands.models_list, settings)
    assert isinstance(listed, dict)
    assert (listed["model"], listed["production"]) == ("flight-delay", "v2")
    assert [(v["version"], v["stage"]) for v in listed["versions"]] == [
        ("v1", "archived"),
        ("v2", "production"),
    ]

    assert model_commands.models_list(argparse.Namespace(json=False), settings) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "version",
        "stage",
        "blessed",
        "auc",
        "log_loss",
        "accuracy",
        "run_id",
        "registered",
        "previous",
    ]
    assert lines[3].split() == [
        "v2",
        "production",
        "yes",
        "0.7300",
        "0.4500",
        "0.7800",
        "run-2",
        "2026-11-27T12:00:00+00:00",
        "v1",
    ]


def test_models_show_prints_fields_and_history(
    settings: ProjectSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = _json(capsys, model_commands.models_show, settings, version="v1")
    assert isinstance(shown, dict)
    assert shown["version"]["stage"] == "archived"
    assert [t["trigger"] for t in shown["transitions"]] == ["register", "promote", "replaced"]

    assert model_commands.models_show(argparse.Namespace(json=False, version="1"), settings) == 0
    text = capsys.readouterr().out
    assert "stage                archived" in text
    assert "replaced by v2: better" in text


def test_models_rollback_restores_v1_and_records_the_cli_user(
    settings: ProjectSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    rolled = _json(capsys, model_commands.models_rollback, settings, reason="latency regression")
    assert isinstance(rolled, dict)
    assert (rolled["production"]["version"], rolled["rolled_back"]["version"]) == ("v1", "v2")
    assert rolled["rolled_back"]["stage"] == "rolled_back"

    with open_store(settings.metadata_uri) as store:
        last = ModelRegistry(store).transitions()[-1]
    assert (last.version, last.to_stage.value, last.reason) == (
        "v1",
        "production",
        "rollback from v2: latency regression",
    )
    assert last.actor.startswith("cli:")
    assert (settings.state_dir / "registry.lock").exists()

    with pytest.raises(RegistryError, match="v1 has no previous production version"):
        model_commands.models_rollback(argparse.Namespace(json=False, reason=None), settings)


def test_lineage_prints_the_report(settings: ProjectSettings, capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, model_commands.lineage, settings, version="v2")
    assert isinstance(report, dict)
    assert [s["component"] for s in report["steps"]][-1] == "register"
    assert report["version"]["run_id"] == "run-2"

    assert model_commands.lineage(argparse.Namespace(json=False, version="v2"), settings) == 0
    assert capsys.readouterr().out.startswith("flight-delay v2  stage=production  blessed=yes\n")


def test_register_parsers_wires_every_subcommand(
    settings: ProjectSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="mlops")
    model_commands.register_parsers(parser.add_subparsers(dest="command", required=True))

    cases = {
        ("models", "list", "--json"): model_commands.models_list,
        ("models", "show", "v2", "--json"): model_commands.models_show,
        ("models", "rollback", "--reason", "bad", "--json"): model_commands.models_rollback,
        ("lineage", "v2", "--json", "--model", "flight-delay"): model_commands.lineage,
    }
    for argv, handler in cases.items():
        args = parser.parse_args(argv)
        assert args.handler is handler and args.json is True and args.model == "flight-delay"
    assert parser.parse_args(["models", "rollback"]).reason == model_commands.DEFAULT_ROLLBACK_REASON

    args = parser.parse_args(["models", "show", "v2", "--json"])
    assert args.handler(args, settings) == 0
    assert json.loads(capsys.readouterr().out)["version"]["version"] == "v2"

    with pytest.raises(SystemExit):
        parser.parse_args(["models", "rollback", "--help"])
    assert "the version it replaced becomes production" in " ".join(capsys.readouterr().out.split())
