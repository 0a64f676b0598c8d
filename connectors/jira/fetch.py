"""`fetch`: the Jira connector's side of `flowdeck sync`.

One search, histories completed in bulk for up to 1,000 issues at a time, each chunk with the
released versions of the projects it is the first to name (so that what an issue shipped is
stored with it, checkpoint or not). Requests for a first sync of N issues: 3 serverInfo
(anonymous probe, signed in, and the clock at the start), 2 /field (ours, and the library's own
name lookup), 1 /myself, ceil(N / page_size) searches, ceil(truncated / 1000) bulk fetches
(Cloud; one per truncated issue and changelog page on Data Center) and one versions request per
project.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
from jira import JIRA

from connectors.base import Chunk, Progress
from connectors.jira.calls import call, printable
from connectors.jira.changelog import BULK_LIMIT, complete_changelogs
from connectors.jira.client import deployment_name, is_cloud
from connectors.jira.cursor import (
    Resume,
    format_cursor,
    parse_cursor,
    parse_jira_time,
    parse_resume,
    search_jql,
    user_zone,
)
from connectors.jira.issues import BlockSignals, frames, item_id
from connectors.jira.jql import compose_jql, projects_in_jql
from connectors.jira.search import search_pages
from connectors.jira.settings import JiraSettings
from connectors.jira.versions import (
    deployments_frame,
    project_releases,
    shipped_frame,
)

ISSUE_FIELDS = (
    "summary",
    "issuetype",
    "labels",
    "status",
    "created",
    "updated",
    "project",
    "fixVersions",
)


def find_field(fields: Sequence[Mapping[str, Any]], name: str) -> str | None:
    """The id of the field called `name` (case-insensitive), custom fields first."""
    wanted = name.strip().casefold()
    matches = [f for f in fields if str(f.get("name", "")).strip().casefold() == wanted]
    matches.sort(key=lambda f: not f.get("custom", False))
    return str(matches[0]["id"]) if matches else None


def block_signals(client: JIRA, settings: JiraSettings, quality: dict[str, int]) -> BlockSignals:
    labels = frozenset(settings.blocked_labels)
    if not settings.use_flags:
        return BlockSignals(labels=labels)
    fields = call(
        settings, "reading the field list (/field)", client.fields, cloud=is_cloud(client)
    )
    flag_id = find_field(fields, settings.flag_field)
    if flag_id is None:
        quality["flag_field_missing"] = 1
    return BlockSignals(flag_id=flag_id, flag_name=settings.flag_field, labels=labels)


def server_time(info: Mapping[str, Any]) -> pd.Timestamp:
    """The site's clock when the sync began; the local clock if the site does not say."""
    text = info.get("serverTime")
    if text:
        return parse_jira_time([text]).iloc[0]
    return pd.Timestamp.now(tz="UTC")


def fetch(
    settings: JiraSettings, client: JIRA, since: str | None, progress: Progress
) -> Iterator[Chunk]:
    """Yield chunks of up to 1,000 issues with complete histories, with the releases of the
    projects they are the first of, and the issues those shipped.

    Every search is ordered by creation, an order that no update during the sync can change
    (ordering by `updated` would move a changed issue to the end and make `startAt` paging skip
    another). So after each chunk every issue created before the chunk's newest one has been
    read: each chunk but the last carries a resume cursor (`Resume`) at that point, where a
    checkpointed sync that stops resumes, first or incremental. The last chunk moves the cursor
    to the site's clock when the search began, since everything updated before then has been
    read.
    """
    cloud = is_cloud(client)
    info = call(settings, "reading serverInfo", client.server_info, cloud=cloud)
    started = server_time(info)
    where = printable(f"{deployment_name(client)} {info.get('version', '')} at {settings.url}")
    progress.update(0, None, note=f"{where}: reading issues")
    quality: dict[str, int] = {}  # sync-wide counts, reported once, in the last chunk
    signals = block_signals(client, settings, quality)
    me = call(settings, "reading the signed-in user (/myself)", client.myself, cloud=cloud)
    zone = user_zone(me.get("timeZone"))
    resume = parse_resume(since)
    start = None if resume is not None else parse_cursor(since)
    # Where the incremental sync this one is (or resumes) began; None for a first sync.
    incremental = start if resume is None else resume.since
    jql = search_jql(settings.jql, start, resume, zone, settings.overlap_minutes)
    fields = list(ISSUE_FIELDS)
    if signals.flag_id:
        # The comments come with the search, not one request per issue: they hold the reasons
        # given when flagging (connectors.jira.flag_reasons).
        fields += [signals.flag_id, "comment"]
    releases = _Releases(client, settings, zone)

    fetched = 0
    batch: dict[str, dict[str, Any]] = {}
    for page, total in search_pages(client, settings, jql, fields, expand="changelog"):
        for issue in page:
            batch[issue["key"]] = issue
        fetched += len(page)
        progress.update(fetched, total, note=where)
        if len(batch) >= BULK_LIMIT:
            cursor = _resume_point(batch, started, resume, since, incremental)
            yield _chunk(client, settings, batch, signals, cursor, {}, releases)
            batch = {}
    last = _chunk(client, settings, batch, signals, format_cursor(started), quality, releases)
    if incremental is not None:
        # A release made since the last sync may name issues this sync did not fetch (a
        # release does not touch their `updated`): ask for them by version.
        extra = releases.shipped_since(incremental)
        if not extra.empty:
            shipped = pd.concat([last.shipped, extra], ignore_index=True).drop_duplicates()
            last = replace(last, shipped=shipped.reset_index(drop=True))
    yield last


def _resume_point(
    batch: Mapping[str, Mapping[str, Any]],
    started: pd.Timestamp,
    resume: Resume | None,
    since: str | None,
    incremental: pd.Timestamp | None,
) -> str | None:
    """The resume cursor after a chunk: of the issues the sync reads (all, or those updated
    since `incremental`), every one created before the chunk's newest one has been read
    (creation order), as it was at `started` or later.

    A resumed sync first reads the issues updated since the stopped one began, whatever their
    creation: until it is past the stopped sync's point, that point (and its start) stays.
    """
    created = [(i.get("fields") or {}).get("created") for i in batch.values()]
    times = parse_jira_time([c for c in created if c])
    if times.empty:
        return since
    newest = times.max()
    if resume is not None and newest < resume.created:
        return since
    return Resume(started=started, created=newest, since=incremental).text()


class _Releases:
    """The released fix versions of the projects met so far, read once per project."""

    def __init__(self, client: JIRA, settings: JiraSettings, zone) -> None:
        self.client, self.settings, self.zone = client, settings, zone
        self.by_id: dict[str, dict[str, Any]] = {}
        self.projects: set[str] = set(settings.projects) | projects_in_jql(settings.jql)
        self.read: set[str] = set()
        self.seen: set[str] = set()  # item ids fetched by this sync

    def frames(self, issues: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The deployments not given yet (of the issues' projects) and what the issues shipped."""
        for issue in issues:
            self.seen.add(item_id(issue["key"]))
            project = ((issue.get("fields") or {}).get("project") or {}).get("key")
            if project:
                self.projects.add(str(project))
        if not self.settings.releases:
            return deployments_frame({}, self.zone), shipped_frame([], {})
        fresh = project_releases(self.client, self.settings, self.projects - self.read)
        self.read |= self.projects
        self.by_id.update(fresh)
        return deployments_frame(fresh, self.zone), shipped_frame(issues, self.by_id)

    def shipped_since(self, start: pd.Timestamp) -> pd.DataFrame:
        """What the releases made since `start` (a day's margin) shipped among the issues this
        sync did not fetch."""
        if not self.settings.releases or not self.by_id:
            return shipped_frame([], {})
        since_day = (start.tz_convert(self.zone) - pd.Timedelta(days=1)).date().isoformat()
        extra: list[dict[str, Any]] = []
        for version_id, version in self.by_id.items():
            if str(version["releaseDate"])[:10] < since_day:
                continue
            jql = compose_jql(self.settings.jql, f"fixVersion = {version_id}", order_by=None)
            for page, _ in search_pages(self.client, self.settings, jql, ["fixVersions"]):
                extra.extend(i for i in page if item_id(i["key"]) not in self.seen)
        return shipped_frame(extra, self.by_id)


def _key_order(issue: Mapping[str, Any]) -> tuple[str, int, str]:
    project, _, number = str(issue["key"]).rpartition("-")
    return project, int(number) if number.isdigit() else 0, str(issue["key"])


def _chunk(
    client: JIRA,
    settings: JiraSettings,
    batch: Mapping[str, dict[str, Any]],
    signals: BlockSignals,
    cursor: str | None,
    quality: dict[str, int],
    releases: _Releases,
) -> Chunk:
    # In key order whatever the search's order: the same chunk always reads the same.
    issues = sorted(batch.values(), key=_key_order)
    changelog_fields = ["status"]
    if signals.flag_id:
        changelog_fields.append(signals.flag_id)
    if signals.labels:
        changelog_fields.append("labels")
    histories, incomplete = complete_changelogs(client, settings, issues, changelog_fields)
    items, events = frames(issues, histories, signals, settings.url)
    deployments, shipped = releases.frames(issues)
    quality = dict(quality)
    quality["incomplete_history"] = quality.get("incomplete_history", 0) + incomplete
    return Chunk(items, events, deployments, shipped, cursor=cursor, quality=quality)
