"""The feature store's commands, run by the features environment's interpreter.

The pipeline and ``mlops`` run in the pipeline environment, which cannot import Feast (it needs numpy and
pyarrow releases the pipeline set cannot hold). They start this module in the features environment
(``components/features/environment.py``) and hand data over as Parquet or JSON files; every command
prints one JSON object on stdout.

Usage:
    python -m components.features.worker apply --repo DIR [--raw-data DIR] [--config local|cluster]
    python -m components.features.worker materialize --repo DIR --end ISO [--start ISO]
    python -m components.features.worker historical --repo DIR --entities IN.parquet --out OUT.parquet
        [--chunk-rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contracts.errors import FeatureStoreError, MlopsError
from contracts.feature_catalog import CONFIG_FILE, ENTITIES, FEATURE_REFS, TIMESTAMP_COLUMN, VIEWS

# Before the first instant any view holds (the aircraft snapshot is 2013-01-01T00:00Z).
DATA_START = datetime(2012, 12, 1, tzinfo=UTC)
TEMPLATES = Path(__file__).resolve().parent / "repo"
# The Feast configurations `apply` can render, by name: this machine's (SQLite online store, file
# registry beside the data) and a cluster's (Redis online store; registry and Redis address from the
# environment, as the manifests in manifests/base/features set them).
CONFIGS = {"local": "feature_store.yaml", "cluster": "feature_store.cluster.yaml"}
DEFAULT_CONFIG = "local"
# What Feast expands when it reads its configuration (os.path.expandvars): $NAME and ${NAME}.
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
# Entity rows per point-in-time join (see ``historical``); the worker's peak memory follows it. Measured
# on 50k rows: 5k -> 0.51 GB, 12.5k -> 0.72 GB, 25k -> 1.0 GB peak resident; each extra call costs
# ~0.2 s of CPU (reading the offline files again), so 10k spends ~6 s more on the year than one call.
CHUNK_ROWS = 10_000
# The column that carries each entity row's position through Feast's unordered join.
ROW_ORDER = "__row"


def config_template(name: str) -> Path:
    """The configuration file named ``name`` (a key of ``CONFIGS``).

    Raises:
        FeatureStoreError: for a name that is not one of ``CONFIGS``.
    """
    if name not in CONFIGS:
        known = ", ".join(sorted(CONFIGS))
        raise FeatureStoreError(f"unknown feature store configuration {name!r}: use one of {known}")
    return TEMPLATES / CONFIGS[name]


def render_config(repo: Path, name: str) -> Path:
    """Copies configuration ``name`` into ``repo`` as its ``feature_store.yaml``; returns that file.

    Raises:
        FeatureStoreError: for an unknown name, or a configuration that reads environment variables
            which are not set.
    """
    template = config_template(name)
    require_environment(template)
    repo.mkdir(parents=True, exist_ok=True)
    rendered = repo / CONFIG_FILE
    shutil.copyfile(template, rendered)
    return rendered


def unset_variables(config: Path, environ: Mapping[str, str]) -> list[str]:
    """The environment variables ``config`` reads that ``environ`` does not set, in order of use."""
    names = (braced or bare for braced, bare in _VARIABLE.findall(config.read_text(encoding="utf-8")))
    return list(dict.fromkeys(name for name in names if name not in environ))


def require_environment(config: Path) -> None:
    """Fails unless every variable ``config`` reads is set.

    Feast leaves an unset variable as its literal text, so a missing registry variable would
    silently become a file named ``${MLOPS_FEATURES_REGISTRY}`` in the working folder.

    Raises:
        FeatureStoreError: naming the unset variables.
    """
    missing = unset_variables(config, os.environ)
    if missing:
        raise FeatureStoreError(
            f"{config.name} reads {', '.join(missing)}, which the environment does not set"
        )


def open_store(repo: Path) -> Any:
    """The Feast store configured by ``repo/feature_store.yaml``.

    Raises:
        FeatureStoreError: when ``repo`` holds no configuration, or its configuration reads environment
            variables which are not set.
    """
    if not (repo / CONFIG_FILE).is_file():
        raise FeatureStoreError(f"{repo} holds no feature store: run `mlops features apply` first")
    require_environment(repo / CONFIG_FILE)

    from feast import FeatureStore

    # The DuckDB offline store reads relative source paths from the working folder, not the repository's.
    os.chdir(repo)
    return FeatureStore(repo_path=str(repo.resolve()))


def apply(repo: Path, raw_data: Path | None, config: str = DEFAULT_CONFIG) -> dict[str, Any]:
    """Renders configuration ``config`` into ``repo``, writes the offline Parquet files and registers every
    object. The configuration is checked first, before the offline rows take seconds to build."""
    started = time.perf_counter()
    render_config(repo, config)

    from components.features.definitions import repository_objects
    from components.features.raw_tables import read_raw_tables
    from components.features.sources import offline_tables

    rows = offline_tables(read_raw_tables(raw_data)).write(repo)
    built = time.perf_counter()
    store = open_store(repo)
    store.apply(repository_objects())
    return {
        "repo": str(repo),
        "config": config,
        "rows": rows,
        "views": [view.name for view in VIEWS],
        "build_seconds": round(built - started, 3),
        "apply_seconds": round(time.perf_counter() - built, 3),
    }


def materialize(repo: Path, end: datetime, start: datetime | None) -> dict[str, Any]:
    """Loads the latest value per entity into the online store, view by view.

    Incremental by default: each view continues from where its previous materialisation ended, or from
    the start of the data when it has none. (Feast's own ``materialize_incremental`` would start a first
    run at wall-clock now minus the view's TTL, which skips a replayed year entirely.) With ``start`` every
    view is materialised over ``[start, end)``.
    """
    store = open_store(repo)
    started = time.perf_counter()
    windows: dict[str, list[str] | None] = {}
    for view in store.list_feature_views():
        begin = start or _last_end(view) or DATA_START
        if begin >= end:
            windows[view.name] = None
            continue
        store.materialize(start_date=begin, end_date=end, feature_views=[view.name])
        windows[view.name] = [begin.isoformat(), end.isoformat()]
    return {
        "end": end.isoformat(),
        "incremental": start is None,
        "seconds": round(time.perf_counter() - started, 3),
        "windows": windows,
    }


def _last_end(view: Any) -> datetime | None:
    ends = [interval[1] for interval in view.materialization_intervals]
    return max(ends) if ends else None


def historical(repo: Path, entities_path: Path, out: Path, chunk_rows: int = CHUNK_ROWS) -> dict[str, Any]:
    """Point-in-time features for every entity row, in the rows' order.

    The entity file holds the four entity keys, ``event_timestamp`` (UTC: the instant the row's features
    are looked up at) and any other columns, which are passed through.

    The rows are joined ``chunk_rows`` at a time and each chunk's result is appended to ``out`` before the
    next is joined: Feast's DuckDB join pairs every entity row with every feature row of its keys within
    the view's TTL (~170 hourly rows of the 7-day aggregates) before it keeps the latest, so its memory
    grows with the rows asked for at once (the year in one call held 5.6-7.5 GB). The file is the same
    as one call's: same rows, order and column types (DuckDB types each column the same in every chunk).

    Raises:
        FeatureStoreError: when a key column is absent or ``chunk_rows`` is below 1.
    """
    if chunk_rows < 1:
        raise FeatureStoreError(f"chunk_rows must be at least 1, got {chunk_rows}")
    entity_frame = pd.read_parquet(entities_path)
    _require(entity_frame.columns, (*ENTITIES, TIMESTAMP_COLUMN))
    entity_frame[ROW_ORDER] = range(len(entity_frame))
    entity_frame[TIMESTAMP_COLUMN] = pd.to_datetime(entity_frame[TIMESTAMP_COLUMN], utc=True)
    store = open_store(repo)
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    try:
        # At least one call, so an empty entity file still gives a file with every column.
        for begin in range(0, max(len(entity_frame), 1), chunk_rows):
            table = _joined(store, entity_frame.iloc[begin : begin + chunk_rows])
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - started
    return {
        "rows": len(entity_frame),
        "seconds": round(seconds, 3),
        "out": str(out),
        "chunk_rows": chunk_rows,
    }


def _joined(store: Any, entities: pd.DataFrame) -> pa.Table:
    """One chunk's features in its rows' order, without the row-order column (Feast's result is unordered)."""
    table = store.get_historical_features(entity_df=entities, features=list(FEATURE_REFS)).to_arrow()
    return table.sort_by(ROW_ORDER).drop_columns([ROW_ORDER])


def _require(columns: Sequence[str], names: Sequence[str]) -> None:
    missing = [name for name in names if name not in columns]
    if missing:
        raise FeatureStoreError(f"the entity rows lack columns {missing}")


def _instant(text: str) -> datetime:
    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m components.features.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    apply_ = sub.add_parser("apply")
    apply_.add_argument("--raw-data", type=Path, default=None)
    # Checked by `apply` rather than by argparse, so a wrong name is answered in JSON like every failure.
    apply_.add_argument(
        "--config",
        default=DEFAULT_CONFIG,
        metavar="{" + ",".join(sorted(CONFIGS)) + "}",
        help=f"the Feast configuration to render (default: {DEFAULT_CONFIG})",
    )
    materialize_ = sub.add_parser("materialize")
    materialize_.add_argument("--end", type=_instant, required=True)
    materialize_.add_argument("--start", type=_instant, default=None)
    historical_ = sub.add_parser("historical")
    historical_.add_argument("--entities", type=Path, required=True)
    historical_.add_argument("--out", type=Path, required=True)
    historical_.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS)
    for command in sub.choices.values():
        command.add_argument("--repo", type=Path, required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "apply":
            result = apply(args.repo, args.raw_data, args.config)
        elif args.command == "materialize":
            result = materialize(args.repo, args.end, args.start)
        else:
            result = historical(args.repo, args.entities, args.out, args.chunk_rows)
    except MlopsError as exc:
        print(json.dumps({"error": str(exc)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
