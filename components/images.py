"""Container images of the dependency sets, tied to the package version.

One image per dependency set (not per component): the pipeline steps share one, serving has its own.
Compiled specs for a cluster replace these tags by digests (see ``pipelines/compile.py``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DEFAULT_REGISTRY = "localhost:5000"


def package_version() -> str:
    try:
        return version("flights-mlops")
    except PackageNotFoundError:
        return "0.0.0"


def pipeline_image(registry: str = DEFAULT_REGISTRY) -> str:
    return f"{registry}/flights-mlops-pipeline:{package_version()}"


def serving_image(registry: str = DEFAULT_REGISTRY) -> str:
    return f"{registry}/flights-mlops-serving:{package_version()}"
