"""Pins the container images of compiled KFP specs by digest.

``build/images.json`` (written by ``images/build.sh push``) maps each dependency set to the reference the
registry returned on push, ``REGISTRY/NAME@sha256:...``. Pinning rewrites every executor image of a spec
from the tag the components name to that reference, and refuses a spec whose image has no pin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from components.images import IMAGE_NAMES
from contracts.errors import ConfigError

DIGEST_REFERENCE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


def read_pins(path: Path) -> dict[str, str]:
    """Dependency set -> digest reference, from an ``images.json``.

    Raises:
        ConfigError: when the file is absent, malformed, lacks a dependency set, or holds a reference
            that is not pinned by digest.
    """
    if not path.is_file():
        raise ConfigError(f"no image pins at {path}: build and push the images first (make push)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not JSON: {exc}") from exc
    pins = {name: str(entry.get("pinned", "")) for name, entry in document.items() if isinstance(entry, dict)}
    for dependency_set in IMAGE_NAMES:
        if not DIGEST_REFERENCE.match(pins.get(dependency_set, "")):
            raise ConfigError(f"{path} has no digest reference for the {dependency_set} image")
    return pins


def executor_images(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(executor name, image) for every container executor of a compiled pipeline spec."""
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    for name, executor in executors.items():
        container = executor.get("container")
        if container is not None:
            yield name, str(container.get("image", ""))


def unpinned_images(spec: Mapping[str, Any]) -> list[str]:
    """The executors whose image is referenced by tag rather than by digest."""
    return [f"{name}: {image}" for name, image in executor_images(spec) if not DIGEST_REFERENCE.match(image)]


def pin_spec(spec: dict[str, Any], pins: Mapping[str, str]) -> dict[str, Any]:
    """Rewrites every executor image of ``spec`` in place to its dependency set's digest reference.

    Raises:
        ConfigError: when an executor uses an image of no known dependency set.
    """
    by_repository = {name: pins[dependency_set] for dependency_set, name in IMAGE_NAMES.items()}
    for executor_name, image in list(executor_images(spec)):
        repository = image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]
        if repository not in by_repository:
            raise ConfigError(
                f"executor {executor_name} uses {image}, which is none of {sorted(IMAGE_NAMES)}"
            )
        spec["deploymentSpec"]["executors"][executor_name]["container"]["image"] = by_repository[repository]
    return spec


def pin_file(spec_file: Path, pins: Mapping[str, str]) -> None:
    """Pins the images of a compiled spec file in place (every YAML document it holds is kept).

    Raises:
        ConfigError: when an image is of no known dependency set or a pin is not a digest reference.
    """
    documents = list(yaml.safe_load_all(spec_file.read_text(encoding="utf-8")))
    documents[0] = pin_spec(documents[0], pins)
    left = unpinned_images(documents[0])
    if left:
        raise ConfigError(f"{spec_file} would still reference images by tag: {', '.join(left)}")
    spec_file.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
