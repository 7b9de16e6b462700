"""One feature store for the whole test session, shared by every xdist worker.

Building it and joining the year's features through Feast takes about half a minute, so the store lives in
the session's temporary folder (the parent of the workers' folders under xdist) and every test that asks
for the default data, runs ``mlops`` or a pipeline, reads it through ``MLOPS_FEATURE_REPO``. The store
locks itself while it builds, so the worker that comes second waits and then reuses the first one's work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

FEATURE_REPO_VARIABLE = "MLOPS_FEATURE_REPO"


@pytest.fixture(scope="session", autouse=True)
def shared_feature_repo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own basetemp; their parent is the session's.
    session_dir = base.parent if hasattr(request.config, "workerinput") else base
    previous = os.environ.get(FEATURE_REPO_VARIABLE)
    os.environ[FEATURE_REPO_VARIABLE] = str(session_dir / "feature-store")
    yield
    if previous is None:
        os.environ.pop(FEATURE_REPO_VARIABLE, None)
    else:
        os.environ[FEATURE_REPO_VARIABLE] = previous
