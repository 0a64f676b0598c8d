"""The fake Jira's data, built from canonical `FlowData` (the inverse of the connector).

Status events become status changelog entries, blocked/unblocked events become changes of the
Flagged field (a blocked event's reason becomes the "(flag) Flag added" comment Jira writes
beside the change, by the same person at the same time), successful deployments with shipped
items become released fix versions carried by those issues. Item ids that end in a Jira key
(`jira:ABC-7`, `ABC-7`) keep it; others get `{project}-{n}` in order of first appearance
(`JiraWorld.key_of` maps them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from metrics.frames import FlowData

CATEGORIES = {
    "new": {"id": 2, "key": "new", "name": "To Do", "colorName": "blue-gray"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "name": "In Progress",
        "colorName": "yellow",
    },
    "done": {"id": 3, "key": "done", "name": "Done", "colorName": "green"},
}

_DONE_WORDS = re.compile(
    r"done|closed|resolved|released|production|shipped|deployed|won'?t|cancel|完成", re.I
)
_NOT_STARTED_WORDS = re.compile(r"backlog|to ?do|open|new|ready|selected|triage|idea", re.I)
_KEY = re.compile(r"([A-Z][A-Z0-9_]*-\d+)$")


def guess_category(status: str) -> str:
    if _DONE_WORDS.search(status):
        return "done"
    if _NOT_STARTED_WORDS.search(status):
        return "new"
    return "indeterminate"


DEFAULT_AUTHOR = "rankin"
"""Who made the changes and comments of a world built from a flow (see server.USERS)."""


@dataclass
class History:
    id: int
    created: pd.Timestamp
    items: list[dict[str, Any]]
    author: str = DEFAULT_AUTHOR


@dataclass
class Comment:
    id: int
    created: pd.Timestamp
    text: str
    """The reason of a flag comment, or a plain comment's whole text."""
    author: str = DEFAULT_AUTHOR
    flag: bool = True
    """Written by Jira when flagging: "(flag) Flag added" then `text`."""


@dataclass
class Issue:
    id: int
    key: str
    project: str
    summary: str
    issuetype: str
    labels: list[str]
    created: pd.Timestamp
    status: str
    histories: list[History] = field(default_factory=list)
    """Oldest first."""
    fix_versions: list[str] = field(default_factory=list)
    flagged: bool = False
    comments: list[Comment] = field(default_factory=list)
    """Oldest first."""

    @property
    def updated(self) -> pd.Timestamp:
        return max([self.created] + [h.created for h in self.histories])


@dataclass
class Version:
    id: str
    name: str
    project: str
    released: bool
    release_date: str | None


@dataclass
class Board:
    id: int
    name: str
    columns: list[tuple[str, list[str], int | None]]
    """(column name, status names, max issues or None)."""


@dataclass
class JiraWorld:
    issues: dict[str, Issue] = field(default_factory=dict)
    versions: list[Version] = field(default_factory=list)
    statuses: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Status name -> (id, category key)."""
    boards: dict[int, Board] = field(default_factory=dict)
    key_of: dict[str, str] = field(default_factory=dict)
    """FlowData item id -> Jira key."""
    projects: set[str] = field(default_factory=set)
    next_history_id: int = 10000
    next_comment_id: int = 10500

    def status_id(self, name: str, category: str | None = None) -> str:
        if name not in self.statuses:
            self.statuses[name] = (
                str(10000 + len(self.statuses)),
                category or guess_category(name),
            )
        return self.statuses[name][0]

    def add_history(self, issue: Issue, when: pd.Timestamp, items: list[dict[str, Any]]) -> None:
        self.next_history_id += 1
        issue.histories.append(History(self.next_history_id, when, items))
        issue.histories.sort(key=lambda h: (h.created, h.id))

    def add_comment(
        self,
        issue: Issue,
        when: pd.Timestamp,
        text: str,
        author: str = DEFAULT_AUTHOR,
        flag: bool = True,
    ) -> Comment:
        self.next_comment_id += 1
        comment = Comment(self.next_comment_id, when, text, author, flag)
        issue.comments.append(comment)
        issue.comments.sort(key=lambda c: (c.created, c.id))
        return comment

    def add_board(self, board_id: int, name: str, columns) -> Board:
        board = Board(
            board_id, name, [(c[0], list(c[1]), c[2] if len(c) > 2 else None) for c in columns]
        )
        for _, statuses, _ in board.columns:
            for status in statuses:
                self.status_id(status)
        self.boards[board_id] = board
        return board


FLAG_VALUE = "Impediment"


def world_from_flow(
    flow: FlowData,
    project: str = "ABC",
    categories: Mapping[str, str] | None = None,
    zone: str = "UTC",
) -> JiraWorld:
    """A Jira world holding the items, status and blocked events and releases of `flow`."""
    categories = dict(categories or {})
    world = JiraWorld()
    events = flow.events.sort_values(["item_id", "changed_at", "seq"], kind="stable")
    rows = {str(r["item_id"]): r for r in flow.items.to_dict("records")}
    by_item: dict[str, list[dict[str, Any]]] = {}
    for event in events.to_dict("records"):
        by_item.setdefault(str(event["item_id"]), []).append(event)
    order = list(rows) + [i for i in by_item if i not in rows]
    n = 0
    for ident in order:
        group = by_item.get(ident, [])
        statuses = [e for e in group if e["event"] == "status"]
        if not statuses:
            continue
        match = _KEY.search(ident)
        if match:
            key = match.group(1)
        else:
            n += 1
            key = f"{project}-{n}"
        while key in world.issues:
            n += 1
            key = f"{project}-{n}"
        world.key_of[ident] = key
        proj = key.rsplit("-", 1)[0]
        world.projects.add(proj)
        row = rows.get(ident, {})
        first = statuses[0]
        world.status_id(str(first["status"]), categories.get(str(first["status"])))
        issue = Issue(
            id=20000 + len(world.issues),
            key=key,
            project=proj,
            summary=str(row.get("title") or f"Item {ident}"),
            issuetype=str(row.get("type") or "Story"),
            labels=[s for s in str(row.get("labels") or "").split(";") if s],
            created=min(e["changed_at"] for e in group),
            status=str(first["status"]),
        )
        world.issues[key] = issue
        for event in group:
            when = event["changed_at"]
            if event["event"] == "status":
                new = str(event["status"])
                if event is first or new == issue.status:
                    continue
                world.status_id(new, categories.get(new))
                world.add_history(issue, when, [status_item(world, issue.status, new)])
                issue.status = new
            elif event["event"] == "blocked" and not issue.flagged:
                world.add_history(issue, when, [flag_item(True)])
                issue.flagged = True
                reason = str(event.get("status") or "")
                if reason:
                    world.add_comment(issue, when, reason)
            elif event["event"] == "unblocked" and issue.flagged:
                world.add_history(issue, when, [flag_item(False)])
                issue.flagged = False
    tz = ZoneInfo(zone)
    shipped = flow.shipped.groupby("deploy_id")["item_id"].apply(list).to_dict()
    deployments = flow.deployments.sort_values("deployed_at", kind="stable")
    for i, dep in enumerate(deployments.itertuples(index=False)):
        if dep.status != "success":
            continue
        keys = [
            world.key_of[str(x)] for x in shipped.get(dep.deploy_id, []) if str(x) in world.key_of
        ]
        proj = world.issues[keys[0]].project if keys else project
        version = Version(
            id=str(30000 + i),
            name=str(dep.version or dep.deploy_id),
            project=proj,
            released=True,
            release_date=dep.deployed_at.tz_convert(tz).date().isoformat(),
        )
        world.versions.append(version)
        world.projects.add(proj)
        for key in keys:
            world.issues[key].fix_versions.append(version.id)
    world.projects.add(project)
    return world


def status_item(world: JiraWorld, old: str, new: str) -> dict[str, Any]:
    return {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": world.status_id(old),
        "fromString": old,
        "to": world.status_id(new),
        "toString": new,
    }


def flag_item(on: bool) -> dict[str, Any]:
    """A Flagged change; its fieldId is filled in by the server (it differs per mode)."""
    return {
        "field": "Flagged",
        "fieldtype": "custom",
        "fieldId": None,
        "from": None if on else "[10019]",
        "fromString": None if on else FLAG_VALUE,
        "to": "[10019]" if on else None,
        "toString": FLAG_VALUE if on else None,
    }
