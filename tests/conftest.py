"""Shared fixtures: the real data sets in ../shared (skipped when absent) and Hypothesis
profiles (derandomized under CI so that a run never flakes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REAL_DATA = SHARED / "data" / "real"
REAL_SETS = ("jira-cloud-prj", "asos-search-board")


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the shared data sets are not here ({SHARED}); CI always has them")
    return SHARED


@pytest.fixture(params=REAL_SETS)
def real_set(request, shared_dir) -> Path:
    path = REAL_DATA / request.param
    if not (path / "events.csv").is_file():
        pytest.skip(f"real data set {path} is absent")
    return path
