"""The Jira source kind (Jira Cloud and Jira Data Center), through the `jira` library.

Settings: `connectors.jira.settings`; sign-in: `connectors.jira.client`; the sync side:
`connectors.jira.fetch`. docs/jira.md is the user's guide.
"""

from __future__ import annotations

from connectors.base import SourceKind
from connectors.jira.client import make_client
from connectors.jira.fetch import fetch as fetch_chunks
from connectors.jira.settings import JiraSettings, parse

KIND = SourceKind(name="jira", parse=parse, make_client=make_client, fetch=fetch_chunks)

__all__ = ["KIND", "JiraSettings"]
