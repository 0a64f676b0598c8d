"""What the fake GitHub knows: repositories with issues, pull requests (with their timelines),
a Projects (v2) board, deployments, releases, workflow runs and a linear commit history.

Everything is plain data: tests build it by hand or from canonical FlowData (see from_flow.py)
and may edit it between syncs (drop a timeline event, move an item) to exercise the connector.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any


def node_id(prefix: str, key: str) -> str:
    return f"{prefix}_" + base64.b64encode(key.encode()).decode().rstrip("=")


def sha(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()


@dataclass
class FakeItem:
    number: int
    title: str
    created_at: str
    is_pull: bool = False
    labels: list[str] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    """GraphQL timeline nodes, oldest first, each with `__typename` and `createdAt`."""
    updated_at: str = ""
    closed_at: str | None = None
    merged_at: str | None = None
    board_status: str | None = None
    """The current Status on the board (None: empty Status)."""
    on_board: bool = False
    board_added_at: str | None = None
    board_status_set_at: str | None = None
    additions: int = 0
    deletions: int = 0
    changed_files: int = 0
    author: str = "octocat"
    first_commit_at: str | None = None
    """Authored time of the pull request's first commit (None: no commits listed)."""

    def __post_init__(self) -> None:
        if not self.updated_at:
            self.touch()

    def touch(self) -> None:
        """updatedAt = the latest of creation and every timeline event (as GitHub does)."""
        times = [self.created_at] + [e["createdAt"] for e in self.timeline]
        times += [t for t in (self.closed_at, self.merged_at, self.board_status_set_at) if t]
        self.updated_at = max(times)

    @property
    def state(self) -> str:
        if self.is_pull and self.merged_at:
            return "MERGED"
        return "CLOSED" if self.closed_at else "OPEN"


@dataclass
class FakeProject:
    number: int
    owner: str
    title: str = "Team board"
    options: list[str] = field(default_factory=list)
    field_name: str = "Status"

    @property
    def id(self) -> str:
        return node_id("PVT", f"{self.owner}/{self.number}")


@dataclass
class FakeDeployment:
    database_id: int
    sha: str
    created_at: str
    environment: str = "production"
    ref: str = "main"
    statuses: list[tuple[str, str]] = field(default_factory=list)
    """(state, createdAt), oldest first."""


@dataclass
class FakeRelease:
    database_id: int
    tag: str
    created_at: str
    published_at: str | None
    sha: str
    draft: bool = False
    prerelease: bool = False


@dataclass
class FakeRun:
    id: int
    run_number: int
    head_sha: str
    head_branch: str
    created_at: str
    updated_at: str
    conclusion: str | None
    status: str = "completed"


@dataclass
class FakeCommit:
    oid: str
    pull: int | None = None


@dataclass
class FakeRepo:
    owner: str
    name: str
    items: dict[int, FakeItem] = field(default_factory=dict)
    project: FakeProject | None = None
    deployments: list[FakeDeployment] = field(default_factory=list)
    releases: list[FakeRelease] = field(default_factory=list)
    runs: list[FakeRun] = field(default_factory=list)
    workflow_file: str = "deploy.yml"
    commits: list[FakeCommit] = field(default_factory=list)
    """The default branch, oldest first."""
    repo_labels: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def add(self, item: FakeItem) -> FakeItem:
        self.items[item.number] = item
        return item

    def all_labels(self) -> list[str]:
        seen = list(self.repo_labels)
        for item in self.items.values():
            for label in item.labels:
                if label not in seen:
                    seen.append(label)
            for event in item.timeline:
                name = (event.get("label") or {}).get("name")
                if name and name not in seen:
                    seen.append(name)
        return seen
