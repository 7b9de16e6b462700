"""Container images of the dependency sets, tied to the package version.

One image per dependency set (not per component): the pipeline steps share one, serving has its own.
Components name these tags; specs compiled for a cluster replace them by digests
(``pipelines/image_pins.py``), because KFP's cache key ignores digests and a moved tag would otherwise
reuse results computed by other code.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DEFAULT_REGISTRY = "localhost:5000"
IMAGE_NAMES = {
    "pipeline": "flights-mlops-pipeline",
    "serving": "flights-mlops-serving",
    "features": "flights-mlops-features",
}
"""Dependency set -> image repository name (also the Dockerfile ``images/<set>.Dockerfile``)."""


def package_version() -> str:
    try:
        return version("flights-mlops")
    except PackageNotFoundError:
        return "0.0.0"


def image_ref(dependency_set: str, registry: str = DEFAULT_REGISTRY) -> str:
    """The tagged reference of a dependency set's image, e.g. ``localhost:5000/flights-mlops-serving:0.1.0``."""
    return f"{registry}/{IMAGE_NAMES[dependency_set]}:{package_version()}"


def pipeline_image(registry: str = DEFAULT_REGISTRY) -> str:
    return image_ref("pipeline", registry)


def serving_image(registry: str = DEFAULT_REGISTRY) -> str:
    return image_ref("serving", registry)
