"""Running the GitHub connector against the fake: settings with short waits, and a sync that
gathers every chunk (as the sync loop would) into one result."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
import pytest

from connectors.base import Chunk
from connectors.github import KIND
from tests.fake_github.graphql_api import SCHEMA_DIR, schema_available
from tests.fake_github.server import TOKEN, FakeGithub


def need_schema() -> None:
    # The schema ships with the tests: missing, the checkout is broken, which must not skip.
    if not schema_available():
        pytest.fail(f"GitHub's GraphQL schema is missing from {SCHEMA_DIR}")


def settings_for(fake: FakeGithub, **table):
    """Source settings pointing at the fake, with waits short enough for tests."""
    base = {
        "repo": "acme/web",
        "api_url": fake.url,
        "backoff": 0.01,
        "max_wait": 3,
        "retries": 3,
        "timeout": 30,
    }
    base.update(table)
    return KIND.parse(base, "sources[0]")


class RecordingProgress:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def update(self, fetched, total=None, note="") -> None:
        self.notes.append(note)


@dataclass
class SyncResult:
    chunks: list[Chunk]
    requests: int
    progress: RecordingProgress = field(default_factory=RecordingProgress)

    def _concat(self, name: str) -> pd.DataFrame:
        frames = [getattr(c, name) for c in self.chunks if len(getattr(c, name))]
        if not frames:
            return getattr(self.chunks[0], name) if self.chunks else pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    @property
    def items(self) -> pd.DataFrame:
        return self._concat("items").drop_duplicates("item_id", keep="last")

    @property
    def events(self) -> pd.DataFrame:
        return self._concat("events")

    @property
    def deployments(self) -> pd.DataFrame:
        return self._concat("deployments")

    @property
    def shipped(self) -> pd.DataFrame:
        return self._concat("shipped")

    @property
    def pull_requests(self) -> pd.DataFrame:
        return self._concat("pull_requests").drop_duplicates("item_id", keep="last")

    @property
    def cursor(self) -> str | None:
        return self.chunks[-1].cursor if self.chunks else None

    @property
    def quality(self) -> Counter:
        total: Counter = Counter()
        for chunk in self.chunks:
            total.update(chunk.quality)
        return total

    def history(self, number: int, repo: str = "acme/web") -> list[tuple[str, str, str]]:
        ev = self.events
        ev = ev[ev["item_id"] == f"github:{repo}#{number}"].sort_values(["changed_at", "seq"])
        return [
            (t.strftime("%Y-%m-%dT%H:%M:%SZ"), e, s)
            for t, e, s in zip(ev["changed_at"], ev["event"], ev["status"], strict=True)
        ]


def sync(fake: FakeGithub, settings, since: str | None = None, token: str = TOKEN) -> SyncResult:
    """One `KIND.fetch` run through a fresh PyGithub client; counts the requests it made."""
    client = KIND.make_client(settings, {settings.token_env: token})
    before = len(fake.requests)
    progress = RecordingProgress()
    chunks = list(KIND.fetch(settings, client, since, progress))
    assert not fake.fake_errors, fake.fake_errors
    return SyncResult(chunks=chunks, requests=len(fake.requests) - before, progress=progress)
