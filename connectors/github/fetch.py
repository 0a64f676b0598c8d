"""The GitHub sync: pages of issues / pull requests with their whole timelines -> `Chunk`s.

Request budget: each GraphQL page carries 100 items with up to 100 timeline events each, plus
(in the same request) the board's Status field and a page of deployments or releases; only the
items whose timeline has more than 100 events are re-paged, 50 per request. A re-sync where
nothing changed is one request (plus two REST calls for workflow-run deployments).

Incremental: issues are read `updatedAt >= cursor` in ascending order (a closed range: the
boundary is re-read and the store dedupes by key), so the cursor can advance page by page. Pull
requests have no `since` filter in GraphQL: on a first sync they are read oldest first too, so
the cursor advances with them; later they are read newest first down to the cursor, and the
cursor only moves past them once they are all read. Deployments and releases are read newest
first: the cursor waits until they are all read. So a sync stopped part way (and checkpointed,
see `connectors.sync`) resumes from the last chunk's cursor and loses nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd

from connectors.base import Chunk, Progress
from connectors.github.client import GithubClient, github_failures
from connectors.github.deployments import (
    Deployment,
    fetch_workflow_runs,
    from_deployment_nodes,
    from_release_nodes,
    shipped_pulls,
)
from connectors.github.history import item_history, item_type, node_labels, timeline_of
from connectors.github.pulls import pull_request_facts
from connectors.github.queries import (
    PAGE_QUERY,
    board_project,
    timeline_pages_query,
    timeline_types,
)
from connectors.github.settings import GithubSettings
from metrics.days import as_utc
from metrics.errors import FlowdeckError
from metrics.frames import (
    conform_deployments,
    conform_events,
    conform_items,
    conform_pull_requests,
    empty_deployments,
    empty_events,
    empty_items,
    empty_pull_requests,
    empty_shipped,
)

TIMELINE_BATCH = 50
"""Items whose next timeline page is read in one request."""


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_cursor(since: str | None) -> pd.Timestamp | None:
    """The stored cursor as a UTC time (a cursor without an offset is read as UTC)."""
    if not since:
        return None
    try:
        return as_utc(since)
    except (ValueError, TypeError):
        raise FlowdeckError(
            f"stored GitHub cursor {since!r} is not an ISO 8601 time; run a full sync"
        ) from None


class _Pager:
    """The cursors of every list still being read, and the sync cursor they allow."""

    def __init__(self, settings: GithubSettings, since: pd.Timestamp | None):
        self.since = _iso(since) if since is not None else None
        self.issues = settings.items in ("issues", "both")
        self.pulls = settings.items in ("pulls", "both")
        self.deployments = settings.deployments == "deployments"
        self.releases = settings.deployments == "releases"
        self.board = settings.status_from == "project"
        # With no cursor there is nothing to stop at: oldest first lets the cursor advance.
        self.pulls_ascending = since is None
        self.started = _iso(pd.Timestamp.now(tz="UTC"))
        self.after: dict[str, str | None] = {}
        self.issue_mark: str | None = None
        self.pull_mark: str | None = None
        self.max_seen: str | None = self.since

    @property
    def active(self) -> bool:
        return self.issues or self.pulls or self.deployments or self.releases

    def seen(self, updated_at: str) -> None:
        if self.max_seen is None or as_utc(updated_at) > as_utc(self.max_seen):
            self.max_seen = _iso(as_utc(updated_at))

    def cursor(self) -> str | None:
        """Everything updated before this time has been read (the closed range re-reads it).

        While lists are still being read oldest first, that is the oldest of their marks (the
        last `updatedAt` read in each): items that were not updated during the sync keep their
        place, so each list has given every one before its mark, and a finished list all of
        them. Items updated during the sync moved to the end; the sync's start time bounds the
        cursor so that the next sync reads them again.
        """
        if self.deployments or self.releases or (self.pulls and not self.pulls_ascending):
            return self.since
        marks = [m for m, reading in ((self.issue_mark, self.issues), (self.pull_mark, self.pulls))
                 if reading]  # fmt: skip
        if not marks:
            return self.max_seen
        if None in marks:
            return self.since
        return _iso(min(as_utc(m) for m in [*marks, self.started] if m is not None))


def _variables(settings: GithubSettings, pager: _Pager, kinds: tuple[list, list]) -> dict:
    return {
        "owner": settings.owner,
        "name": settings.name,
        "pageSize": settings.page_size,
        "withIssues": pager.issues,
        "issuesAfter": pager.after.get("issues"),
        "since": pager.since,
        "issueTypes": kinds[0],
        "withPulls": pager.pulls,
        "pullsAfter": pager.after.get("pulls"),
        "pullsDirection": "ASC" if pager.pulls_ascending else "DESC",
        "pullTypes": kinds[1],
        "withProject": settings.status_from == "project",
        "withBoard": pager.board,
        "boardOwner": settings.board_owner,
        "projectNumber": settings.project or 0,
        "statusField": settings.status_field,
        "withDeployments": pager.deployments,
        "deploymentsAfter": pager.after.get("deployments"),
        "environments": [settings.environment],
        "withReleases": pager.releases,
        "releasesAfter": pager.after.get("releases"),
    }


def _repage_timelines(
    client: GithubClient, nodes: list[dict[str, Any]], kinds: tuple[list, list]
) -> None:
    """Read the rest of every timeline that did not fit in its first 100 events."""
    pending = [n for n in nodes if n["timelineItems"]["pageInfo"]["hasNextPage"]]
    while pending:
        batch, pending = pending[:TIMELINE_BATCH], pending[TIMELINE_BATCH:]
        variables: dict[str, Any] = {"issueTypes": kinds[0], "pullTypes": kinds[1]}
        for i, node in enumerate(batch):
            variables[f"id{i}"] = node["id"]
            variables[f"after{i}"] = node["timelineItems"]["pageInfo"]["endCursor"]
        data = client.graphql(timeline_pages_query(len(batch)), variables)
        for i, node in enumerate(batch):
            page = (data.get(f"n{i}") or {}).get("timelineItems")
            if not page:
                node["timelineItems"]["pageInfo"]["hasNextPage"] = False
                continue
            node["timelineItems"]["nodes"].extend(page["nodes"])
            node["timelineItems"]["pageInfo"] = page["pageInfo"]
            if page["pageInfo"]["hasNextPage"]:
                pending.append(node)


def _held_back(cursor: str | None, held: list[tuple[dict[str, Any], bool]]) -> str | None:
    """The cursor, moved back to the oldest item not yet yielded."""
    if cursor is None or not held:
        return cursor
    oldest = min(as_utc(node["updatedAt"]) for node, _ in held)
    return cursor if as_utc(cursor) <= oldest else _iso(oldest)


def _frames(
    nodes: list[tuple[dict[str, Any], bool]],
    settings: GithubSettings,
    project_id: str | None,
    sync_time: str,
    quality: Counter,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    items, events, pulls = [], [], []
    for node, is_pull in nodes:
        history = item_history(node, settings, is_pull, project_id, sync_time)
        if history is None:
            continue
        quality.update(history.quality)
        item_id = settings.item_id(node["number"])
        lines = None
        if is_pull and node.get("additions") is not None:
            lines = int(node["additions"]) + int(node.get("deletions") or 0)
        items.append(
            {
                "item_id": item_id,
                "title": node.get("title") or "",
                "type": item_type(node, settings, is_pull),
                "labels": ";".join(node_labels(node)),
                "url": node.get("url") or "",
                "source": "",
                "lines_changed": lines,
            }
        )
        if is_pull:
            pulls.append({"item_id": item_id, **pull_request_facts(node, timeline_of(node))})
        ordered = sorted(history.events, key=lambda e: as_utc(e[0]))
        for seq, (at, event, status) in enumerate(ordered):
            events.append(
                {"item_id": item_id, "changed_at": at, "event": event, "status": status, "seq": seq}
            )
    items_frame = conform_items(pd.DataFrame(items)) if items else empty_items()
    events_frame = conform_events(pd.DataFrame(events)) if events else empty_events()
    pulls_frame = conform_pull_requests(pd.DataFrame(pulls)) if pulls else empty_pull_requests()
    return items_frame, events_frame, pulls_frame


def _deployment_frames(
    client: GithubClient,
    deployments: list[Deployment],
    since: pd.Timestamp | None,
    quality: Counter,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    settings = client.settings
    rows = [
        {
            "deploy_id": d.deploy_id,
            "deployed_at": d.deployed_at,
            "environment": d.environment,
            "status": d.status,
            "version": d.version,
            "source": "",
        }
        for d in deployments
    ]
    frame = conform_deployments(pd.DataFrame(rows)) if rows else empty_deployments()
    if settings.items == "issues" or not deployments:
        return frame, empty_shipped()
    pairs = shipped_pulls(client, deployments, since, quality)
    shipped = pd.DataFrame(
        [{"deploy_id": d, "item_id": settings.item_id(n)} for d, n in pairs],
        columns=["deploy_id", "item_id"],
    )
    return frame, shipped if len(shipped) else empty_shipped()


def fetch(
    settings: GithubSettings, client: GithubClient, since: str | None, progress: Progress
) -> Iterator[Chunk]:
    since_ts = parse_cursor(since)
    sync_time = _iso(pd.Timestamp.now(tz="UTC"))
    kinds = timeline_types(settings.status_from)
    pager = _Pager(settings, since_ts)
    project_id: str | None = None
    deployments: list[Deployment] = []
    held: list[tuple[dict[str, Any], bool]] = []
    fetched = 0
    total: int | None = None

    def on_wait(wait: float, why: str) -> None:
        progress.update(fetched, total, f"{why}: waiting {wait:.0f} s")

    client.listeners.append(on_wait)
    try:
        if settings.deployments == "workflow_runs":
            quality: Counter = Counter()
            with github_failures(settings, f"reading runs of workflow '{settings.workflow}'"):
                runs = fetch_workflow_runs(client, since_ts, quality)
                deployments_frame, shipped = _deployment_frames(client, runs, since_ts, quality)
            yield Chunk(
                deployments=deployments_frame,
                shipped=shipped,
                cursor=since,
                quality=dict(quality),
            )
        while pager.active:
            quality = Counter()
            with github_failures(settings, "reading issues and their timelines"):
                data = client.graphql(PAGE_QUERY, _variables(settings, pager, kinds))
            if pager.board:
                project_id = board_project(settings, data.get("board"))["id"]
                pager.board = False
            repository = data.get("repository")
            if repository is None:
                raise FlowdeckError(f"{settings.repo}: repository not found at {settings.api_url}")
            nodes: list[tuple[dict[str, Any], bool]] = []
            if pager.issues:
                page = repository["issues"]
                total = page.get("totalCount") if settings.items == "issues" else None
                for node in page["nodes"]:
                    nodes.append((node, False))
                    pager.seen(node["updatedAt"])
                    pager.issue_mark = _iso(as_utc(node["updatedAt"]))
                pager.after["issues"] = page["pageInfo"]["endCursor"]
                pager.issues = page["pageInfo"]["hasNextPage"]
            if pager.pulls:
                page = repository["pullRequests"]
                older = False
                for node in page["nodes"]:
                    if since_ts is not None and as_utc(node["updatedAt"]) < since_ts:
                        older = True
                        break
                    nodes.append((node, True))
                    pager.seen(node["updatedAt"])
                    if pager.pulls_ascending:
                        pager.pull_mark = _iso(as_utc(node["updatedAt"]))
                pager.after["pulls"] = page["pageInfo"]["endCursor"]
                pager.pulls = page["pageInfo"]["hasNextPage"] and not older
            deployments_done = False
            for part, reader in (
                ("deployments", from_deployment_nodes),
                ("releases", from_release_nodes),
            ):
                if not getattr(pager, part):
                    continue
                page = repository[part]
                deployments += reader(page["nodes"], settings, quality)
                oldest = page["nodes"][-1]["createdAt"] if page["nodes"] else None
                more = page["pageInfo"]["hasNextPage"]
                if since_ts is not None and oldest is not None and as_utc(oldest) < since_ts:
                    more = False
                pager.after[part] = page["pageInfo"]["endCursor"]
                setattr(pager, part, more)
                deployments_done = not more
            # Items whose timeline needs more pages wait, so that one request serves up to 50
            # of them across pages; the cursor stays at or before the oldest one waiting.
            held += [(n, p) for n, p in nodes if n["timelineItems"]["pageInfo"]["hasNextPage"]]
            nodes = [(n, p) for n, p in nodes if not n["timelineItems"]["pageInfo"]["hasNextPage"]]
            if held and (len(held) >= TIMELINE_BATCH or not pager.active):
                with github_failures(settings, "reading long timelines"):
                    _repage_timelines(client, [n for n, _ in held], kinds)
                nodes, held = nodes + held, []
            items, events, pulls = _frames(nodes, settings, project_id, sync_time, quality)
            deployments_frame, shipped = empty_deployments(), empty_shipped()
            if deployments_done:
                with github_failures(settings, "reading what each deployment shipped"):
                    deployments_frame, shipped = _deployment_frames(
                        client, deployments, since_ts, quality
                    )
            fetched += len(items)
            progress.update(fetched, total, f"{settings.repo}: {fetched} items")
            yield Chunk(
                items=items,
                events=events,
                deployments=deployments_frame,
                shipped=shipped,
                pull_requests=pulls,
                cursor=_held_back(pager.cursor(), held),
                quality=dict(quality),
            )
    finally:
        client.listeners.remove(on_wait)
