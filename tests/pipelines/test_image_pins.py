"""Specs compiled for a cluster reference every image by digest, never by a tag that can move."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from components.images import IMAGE_NAMES
from contracts.errors import ConfigError
from pipelines.compile import compile_pipelines
from pipelines.image_pins import pin_spec, read_pins, unpinned_images


def _digest_reference(dependency_set: str) -> str:
    digest = hashlib.sha256(dependency_set.encode()).hexdigest()
    return f"registry.example:5000/{IMAGE_NAMES[dependency_set]}@sha256:{digest}"


def _write_pins(path: Path, pins: dict[str, str]) -> Path:
    document = {name: {"tag": f"{name}:0.1.0", "pinned": ref} for name, ref in pins.items()}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def pins() -> dict[str, str]:
    return {name: _digest_reference(name) for name in IMAGE_NAMES}


def test_pinned_compile_leaves_no_image_referenced_by_tag(tmp_path: Path, pins: dict[str, str]) -> None:
    pinned = compile_pipelines(tmp_path, read_pins(_write_pins(tmp_path / "images.json", pins)))
    for path in pinned:
        documents = list(yaml.safe_load_all(path.read_text()))
        assert unpinned_images(documents[0]) == [], path.name
        images = {
            executor["container"]["image"]
            for executor in documents[0]["deploymentSpec"]["executors"].values()
        }
        assert images == {pins["pipeline"]}


def test_compile_without_pins_is_reported_unpinned(tmp_path: Path) -> None:
    for path in compile_pipelines(tmp_path):
        spec = yaml.safe_load(path.read_text())
        left = unpinned_images(spec)
        assert len(left) == len(spec["deploymentSpec"]["executors"]) > 0
        assert all("@sha256:" not in entry for entry in left)


def test_pins_must_be_digest_references(tmp_path: Path, pins: dict[str, str]) -> None:
    pins["serving"] = "localhost:5000/flights-mlops-serving:0.1.0"
    with pytest.raises(ConfigError, match="no digest reference for the serving image"):
        read_pins(_write_pins(tmp_path / "images.json", pins))


def test_missing_pins_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="make push"):
        read_pins(tmp_path / "images.json")


def test_an_image_of_no_dependency_set_is_refused(pins: dict[str, str]) -> None:
    spec = {"deploymentSpec": {"executors": {"exec-x": {"container": {"image": "python:3.11"}}}}}
    with pytest.raises(ConfigError, match=r"exec-x uses python:3\.11"):
        pin_spec(spec, pins)
