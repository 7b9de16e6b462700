"""Compiles the pipelines to KFP IR YAML, the form a Kubeflow Pipelines cluster runs."""

from __future__ import annotations

from pathlib import Path

from kfp import compiler

from pipelines.training import PIPELINE_NAME, continuous_training


def compile_pipelines(out_dir: Path) -> list[Path]:
    """Writes every pipeline's spec into ``out_dir`` and returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PIPELINE_NAME}.yaml"
    compiler.Compiler().compile(pipeline_func=continuous_training, package_path=str(target))
    return [target]
