"""A fake Jira Cloud / Data Center for tests: real HTTP on 127.0.0.1, seeded from FlowData."""

from .server import FakeJira
from .world import JiraWorld, world_from_flow

__all__ = ["FakeJira", "JiraWorld", "world_from_flow"]
