"""Running the Jira connector against a fake: settings, a real `jira` client, all chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from connectors.base import Chunk
from connectors.jira import KIND
from connectors.jira.settings import JiraSettings

from .server import FakeJira

# Short waits between retries; a timeout that even a loaded, slow machine answers within.
FAST = {"retries": 3, "retry_wait": 0.01, "max_retry_wait": 0.05, "timeout": 30}


def settings_for(fake: FakeJira, **overrides: Any) -> JiraSettings:
    table = {"url": fake.url, "jql": "project = ABC", **FAST, **overrides}
    return KIND.parse(table, "sources[0]")


@dataclass
class Notes:
    calls: list[tuple[int, int | None, str]] = field(default_factory=list)

    def update(self, fetched: int, total: int | None = None, note: str = "") -> None:
        self.calls.append((fetched, total, note))


@dataclass
class Result:
    chunks: list[Chunk]
    progress: Notes

    def frame(self, name: str) -> pd.DataFrame:
        frames = [getattr(c, name) for c in self.chunks if len(getattr(c, name))]
        if not frames:
            return getattr(self.chunks[0], name)
        return pd.concat(frames, ignore_index=True)

    @property
    def items(self) -> pd.DataFrame:
        return self.frame("items")

    @property
    def events(self) -> pd.DataFrame:
        return self.frame("events")

    @property
    def cursor(self) -> str | None:
        return self.chunks[-1].cursor

    def quality(self, key: str) -> int:
        return sum(c.quality.get(key, 0) for c in self.chunks)


def sync(fake: FakeJira, since: str | None = None, secrets=None, **overrides: Any) -> Result:
    settings = settings_for(fake, **overrides)
    client = KIND.make_client(settings, fake.secrets if secrets is None else secrets)
    notes = Notes()
    try:
        chunks = list(KIND.fetch(settings, client, since, notes))
    finally:
        client.close()
    return Result(chunks, notes)


__all__ = ["FAST", "Notes", "Result", "settings_for", "sync"]
