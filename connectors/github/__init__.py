"""The GitHub source kind: issues and pull requests with their flow history, and deployments.

See docs/github.md for every option. PyGithub does all the HTTP: GraphQL through
`Github.requester` for bulk history, REST through its objects for workflow runs.
"""

from __future__ import annotations

from connectors.base import SourceKind
from connectors.github.client import make_client
from connectors.github.fetch import fetch
from connectors.github.settings import GithubSettings, parse_settings

KIND = SourceKind(name="github", parse=parse_settings, make_client=make_client, fetch=fetch)

__all__ = ["KIND", "GithubSettings"]
