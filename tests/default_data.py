"""The default data as the pipeline sees it, from the session's shared feature store (``conftest.py``)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pandas as pd

from components.features.offline import OfflineFeatures
from components.ingest.logic import load_year, select_months
from components.settings import ProjectSettings


def session_feature_store() -> OfflineFeatures:
    """The session's feature store (``MLOPS_FEATURE_REPO``, set for every test by ``conftest.py``)."""
    return OfflineFeatures(ProjectSettings.resolve().feature_repo)


@functools.cache
def _year() -> pd.DataFrame:
    return load_year(session_feature_store())


def default_year() -> pd.DataFrame:
    """Every labelled flight of 2013 in the data contract (a copy: callers may change it)."""
    return _year().copy()


def default_months(months: Iterable[int]) -> pd.DataFrame:
    """The labelled batch of the given months of 2013."""
    return select_months(_year(), months)
