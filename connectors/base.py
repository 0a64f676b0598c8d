"""The connector protocol: what a source kind provides so that `flowdeck sync` can use it.

A connector is given its validated settings, a ready client (built by `make_client`, so tests
can point a real client library at a fake server) and a `since` cursor, and yields `Chunk`s of
canonical frames (see `metrics.frames`), each with the cursor to store once everything up to it
is written. Paging and retries live in the connector or its client library, never in the sync
loop. Item ids in the chunks are already namespaced by source (`github:owner/repo#12`,
`jira:ABC-7`, `csv:NAME:ID`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from metrics.frames import (
    empty_deployments,
    empty_events,
    empty_items,
    empty_pull_requests,
    empty_shipped,
)


@dataclass(frozen=True)
class Chunk:
    """One unit of fetched data, in canonical frames, plus the cursor after it."""

    items: pd.DataFrame = field(default_factory=empty_items)
    events: pd.DataFrame = field(default_factory=empty_events)
    deployments: pd.DataFrame = field(default_factory=empty_deployments)
    shipped: pd.DataFrame = field(default_factory=empty_shipped)
    pull_requests: pd.DataFrame = field(default_factory=empty_pull_requests)
    cursor: str | None = None
    """Where the next incremental fetch starts (ISO 8601 UTC time, or a source's own token)."""
    quality: Mapping[str, int] = field(default_factory=dict)
    """Data-quality counts for the report, e.g. {"incomplete_history": 2}."""


class Progress(Protocol):
    """How a connector reports long work; the sync command draws it as a bar."""

    def update(self, fetched: int, total: int | None = None, note: str = "") -> None: ...


class NoProgress:
    def update(self, fetched: int, total: int | None = None, note: str = "") -> None:
        return None


@dataclass(frozen=True)
class SourceKind:
    """A kind of source (`csv`, `github`, `jira`) as the sync loop sees it.

    - `parse(table, where)` validates one `[[sources]]` table into frozen settings (raising
      `metrics.errors.ConfigError`, unknown keys with a suggestion).
    - `make_client(settings, secrets)` builds the client library's client; `secrets` is a
      mapping of variable name to value (environment, then `.streamlit/secrets.toml`).
    - `fetch(settings, client, since, progress)` yields `Chunk`s.
    """

    name: str
    parse: Callable[[Mapping[str, Any], str], Any]
    make_client: Callable[[Any, Mapping[str, str]], Any]
    fetch: Callable[[Any, Any, str | None, Progress], Iterator[Chunk]]
