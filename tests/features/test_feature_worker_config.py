"""The feature-store worker's configurations: `apply --config` renders this machine's (the default) or a
cluster's Feast configuration, refuses any other name and a cluster configuration whose environment
variables are not set, and answers every refusal as the JSON object on stdout its callers read.

Loading Redis needs a Redis server, which CI does not have; what is checked here is everything before
Feast connects: the rendered file, as Feast reads it, and the refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from components.features import worker
from components.features.environment import FeatureEnvironment, features_venv
from contracts.errors import FeatureStoreError
from contracts.feature_catalog import CONFIG_FILE

CLUSTER_VARIABLES = ("MLOPS_FEATURES_REGISTRY", "MLOPS_FEATURES_REDIS")


def as_feast_reads_it(config: Path) -> dict[str, object]:
    # feast.repo_config.load_repo_config: os.path.expandvars over the file, then YAML.
    loaded = yaml.safe_load(os.path.expandvars(config.read_text(encoding="utf-8")))
    assert isinstance(loaded, dict)
    return loaded


def last_json(stdout: str) -> dict[str, object]:
    loaded = json.loads(stdout.strip().splitlines()[-1])
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture()
def cluster_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    values = {
        "MLOPS_FEATURES_REGISTRY": str(tmp_path / "registry" / "registry.db"),
        "MLOPS_FEATURES_REDIS": "feature-redis:6379,password=0123abcd",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_apply_renders_the_local_configuration_by_default(tmp_path: Path) -> None:
    assert worker._parser().parse_args(["apply", "--repo", str(tmp_path)]).config == "local"
    rendered = worker.render_config(tmp_path / "repo", worker.DEFAULT_CONFIG)
    assert rendered == tmp_path / "repo" / CONFIG_FILE
    config = as_feast_reads_it(rendered)
    assert config["online_store"] == {"type": "sqlite", "path": "data/online.db"}
    assert config["registry"] == "data/registry.db"


def test_the_cluster_configuration_reads_redis_and_the_registry_from_the_environment(
    tmp_path: Path, cluster_environment: dict[str, str]
) -> None:
    rendered = worker.render_config(tmp_path / "repo", "cluster")
    assert rendered.read_bytes() == (worker.TEMPLATES / "feature_store.cluster.yaml").read_bytes()
    config = as_feast_reads_it(rendered)
    assert config["online_store"] == {
        "type": "redis",
        "connection_string": cluster_environment["MLOPS_FEATURES_REDIS"],
    }
    assert config["registry"] == cluster_environment["MLOPS_FEATURES_REGISTRY"]
    # The same project and key serialisation as the local store: the feature server, registered
    # afresh, finds the keys the materialisation wrote.
    local = as_feast_reads_it(worker.config_template("local"))
    for key in ("project", "provider", "offline_store", "entity_key_serialization_version"):
        assert config[key] == local[key], key


def test_an_unknown_configuration_is_refused_in_json_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    assert worker.main(["apply", "--repo", str(repo), "--config", "staging"]) == 1
    assert last_json(capsys.readouterr().out) == {
        "error": "unknown feature store configuration 'staging': use one of cluster, local"
    }
    assert not repo.exists()


def test_a_cluster_configuration_without_its_variables_is_refused_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in CLUSTER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLOPS_FEATURES_REGISTRY", str(tmp_path / "registry.db"))
    repo = tmp_path / "repo"
    assert worker.main(["apply", "--repo", str(repo), "--config", "cluster"]) == 1
    error = last_json(capsys.readouterr().out)["error"]
    assert (
        error == "feature_store.cluster.yaml reads MLOPS_FEATURES_REDIS, which the environment does not set"
    )
    # Refused before the offline rows are built (seconds of work that would end in a Feast error).
    assert not repo.exists()


def test_materialize_refuses_a_rendered_cluster_store_whose_variables_are_gone(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cluster_environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A materialize container given less environment than its apply: refused before Feast would
    # open a registry file literally named "${MLOPS_FEATURES_REGISTRY}".
    repo = tmp_path / "repo"
    worker.render_config(repo, "cluster")
    for name in CLUSTER_VARIABLES:
        monkeypatch.delenv(name)
    argv = ["materialize", "--repo", str(repo), "--start", "2012-12-01", "--end", "2014-01-01"]
    assert worker.main(argv) == 1
    assert last_json(capsys.readouterr().out) == {
        "error": "feature_store.yaml reads MLOPS_FEATURES_REGISTRY, MLOPS_FEATURES_REDIS, "
        "which the environment does not set"
    }


def test_unset_variables_finds_both_forms_feast_expands_once_each_in_order(tmp_path: Path) -> None:
    config = tmp_path / CONFIG_FILE
    config.write_text("registry: ${B_REGISTRY}\nonline: $A_REDIS,x=${B_REGISTRY}\npath: ${SET}/x\n")
    assert worker.unset_variables(config, {"SET": "1"}) == ["B_REGISTRY", "A_REDIS"]
    assert worker.unset_variables(config, {"SET": "1", "A_REDIS": "r", "B_REGISTRY": "f"}) == []
    for name in ("local", "cluster"):
        assert worker.unset_variables(worker.config_template(name), {}) == (
            [] if name == "local" else list(CLUSTER_VARIABLES)
        )


def test_the_features_environment_reports_the_refusal_through_its_json_contract(tmp_path: Path) -> None:
    # The worker as images and `mlops features` start it: the features interpreter, a subprocess.
    if not (features_venv() / "bin" / "python").exists():
        pytest.fail(f"the features environment is missing ({features_venv()}): run `make env`")
    store = FeatureEnvironment(repo=tmp_path / "repo", timeout=120)
    with pytest.raises(FeatureStoreError, match="unknown feature store configuration 'nightly'"):
        store.run("apply", "--config", "nightly")
    assert not store.repo.exists()
