"""The GitHub source kind: issues and pull requests with their flow history, and deployments.

See docs/github.md for every option. PyGithub does all the HTTP: GraphQL through
`Github.requester` for bulk history, REST through its objects for workflow runs.

`KIND` is built on first use: reading a workflow file imports only `connectors.github.settings`,
and PyGithub and pandas load when a GitHub source is synced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.github.settings import GithubSettings

if TYPE_CHECKING:
    from connectors.base import SourceKind

    KIND: SourceKind


def __getattr__(name: str) -> Any:
    if name == "KIND":
        from connectors.base import SourceKind
        from connectors.github.client import make_client
        from connectors.github.fetch import fetch
        from connectors.github.settings import parse_settings

        kind = SourceKind(name="github", parse=parse_settings, make_client=make_client, fetch=fetch)
        globals()["KIND"] = kind
        return kind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["KIND", "GithubSettings"]
