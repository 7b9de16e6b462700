"""Compiles the pipelines to KFP IR YAML, the form a Kubeflow Pipelines cluster runs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kfp import compiler

from pipelines import features
from pipelines.image_pins import pin_file
from pipelines.training import PIPELINE_NAME, continuous_training


def compile_pipelines(out_dir: Path, pins: Mapping[str, str] | None = None) -> list[Path]:
    """Writes every pipeline's spec into ``out_dir`` and returns the files written.

    Args:
        out_dir: Folder for the specs (created if absent).
        pins: Dependency set -> digest reference (``image_pins.read_pins``). Without it the specs keep
            the components' tags, which suits reading and golden tests but not a cluster.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, pipeline_func in (
        (PIPELINE_NAME, continuous_training),
        (features.PIPELINE_NAME, features.feature_materialization),
    ):
        target = out_dir / f"{name}.yaml"
        compiler.Compiler().compile(pipeline_func=pipeline_func, package_path=str(target))
        if pins is not None:
            pin_file(target, pins)
        written.append(target)
    return written
