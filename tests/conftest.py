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


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL cluster for the session (tests/postgres.py). Skipped when
    PostgreSQL is not installed, except under CI=true, where that is a failure."""
    from tests.postgres import PostgresCluster, PostgresUnavailable

    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(postgres_cluster) -> str:
    """The URL of a fresh, empty PostgreSQL database (one per test)."""
    return postgres_cluster.new_database(f"test_{next(_databases)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request) -> str:
    """Which store engine a test runs on; tests using it run once per engine."""
    return request.param


@pytest.fixture
def db(engine, tmp_path, request) -> str:
    """A store location on the test's engine: an SQLite file, or an empty PostgreSQL database."""
    if engine == "sqlite":
        return str(tmp_path / "s.db")
    return request.getfixturevalue("pg_url")
