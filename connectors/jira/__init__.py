"""The Jira source kind (Jira Cloud and Jira Data Center), through the `jira` library.

Settings: `connectors.jira.settings`; sign-in: `connectors.jira.client`; the sync side:
`connectors.jira.fetch`. docs/jira.md is the user's guide.

`KIND` is built on first use: reading a workflow file imports only `connectors.jira.settings`,
and the jira library and pandas load when a Jira source is synced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.jira.settings import JiraSettings

if TYPE_CHECKING:
    from connectors.base import SourceKind

    KIND: SourceKind


def __getattr__(name: str) -> Any:
    if name == "KIND":
        from connectors.base import SourceKind
        from connectors.jira.client import make_client
        from connectors.jira.fetch import fetch as fetch_chunks
        from connectors.jira.settings import parse

        kind = SourceKind(name="jira", parse=parse, make_client=make_client, fetch=fetch_chunks)
        globals()["KIND"] = kind
        return kind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["KIND", "JiraSettings"]
