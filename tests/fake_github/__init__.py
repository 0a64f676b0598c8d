"""A fake GitHub (REST + GraphQL) on 127.0.0.1 for the GitHub connector's tests."""

from tests.fake_github.from_flow import repo_from_flow_data
from tests.fake_github.graphql_api import SCHEMA_DIR, schema_available
from tests.fake_github.server import TOKEN, FakeGithub
from tests.fake_github.world import (
    FakeCommit,
    FakeDeployment,
    FakeItem,
    FakeProject,
    FakeRelease,
    FakeRepo,
    FakeRun,
)

__all__ = [
    "SCHEMA_DIR",
    "TOKEN",
    "FakeCommit",
    "FakeDeployment",
    "FakeGithub",
    "FakeItem",
    "FakeProject",
    "FakeRelease",
    "FakeRepo",
    "FakeRun",
    "repo_from_flow_data",
    "schema_available",
]
