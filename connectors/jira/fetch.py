"""`fetch`: the Jira connector's side of `flowdeck sync`.

One search, histories completed in bulk for up to 1,000 issues at a time, then the projects'
released versions. Requests for a first sync of N issues: 3 serverInfo (anonymous probe, signed
in, and the clock at the start), 2 /field (ours, and the library's own name lookup), 1 /myself,
ceil(N / page_size) searches, ceil(truncated / 1000) bulk fetches (Cloud; one per truncated
issue and changelog page on Data Center) and one versions request per project.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
from jira import JIRA

from connectors.base import Chunk, Progress
from connectors.jira.calls import call, printable
from connectors.jira.changelog import BULK_LIMIT, complete_changelogs
from connectors.jira.client import deployment_name, is_cloud
from connectors.jira.cursor import (
    compose_jql,
    format_cursor,
    parse_cursor,
    parse_jira_time,
    updated_clause,
    user_zone,
)
from connectors.jira.issues import BlockSignals, frames, item_id
from connectors.jira.search import search_pages
from connectors.jira.settings import JiraSettings
from connectors.jira.versions import (
    deployments_frame,
    project_releases,
    projects_in_jql,
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


def _chunk(
    client: JIRA,
    settings: JiraSettings,
    batch: Mapping[str, dict[str, Any]],
    signals: BlockSignals,
    cursor: str | None,
    quality: dict[str, int],
) -> Chunk:
    issues = list(batch.values())
    changelog_fields = ["status"]
    if signals.flag_id:
        changelog_fields.append(signals.flag_id)
    if signals.labels:
        changelog_fields.append("labels")
    histories, incomplete = complete_changelogs(client, settings, issues, changelog_fields)
    items, events = frames(issues, histories, signals, settings.url)
    quality = dict(quality)
    quality["incomplete_history"] = quality.get("incomplete_history", 0) + incomplete
    return Chunk(items=items, events=events, cursor=cursor, quality=quality)


def server_time(info: Mapping[str, Any]) -> pd.Timestamp:
    """The site's clock when the sync began; the local clock if the site does not say."""
    text = info.get("serverTime")
    if text:
        return parse_jira_time([text]).iloc[0]
    return pd.Timestamp.now(tz="UTC")


def fetch(
    settings: JiraSettings, client: JIRA, since: str | None, progress: Progress
) -> Iterator[Chunk]:
    """Yield chunks of up to 1,000 issues with complete histories, then the releases.

    The search is ordered by key, which an update during the sync cannot reorder (ordering by
    `updated` would move a changed issue to the end and make `startAt` paging skip another).
    So only the last chunk moves the cursor: to the site's clock when the search began, since
    everything updated before then has been read.
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
    start = parse_cursor(since)
    clause = updated_clause(start, zone, settings.overlap_minutes) if start is not None else ""
    jql = compose_jql(settings.jql, clause)
    fields = list(ISSUE_FIELDS) + ([signals.flag_id] if signals.flag_id else [])

    fetched = 0
    batch: dict[str, dict[str, Any]] = {}
    carried: dict[str, dict[str, Any]] = {}  # key -> just its fix versions, for `shipped`
    projects = set(settings.projects) | projects_in_jql(settings.jql)
    for page, total in search_pages(client, settings, jql, fields, expand="changelog"):
        for issue in page:
            batch[issue["key"]] = issue
            issue_fields = issue.get("fields") or {}
            carried[issue["key"]] = {
                "key": issue["key"],
                "fields": {"fixVersions": issue_fields.get("fixVersions") or []},
            }
            project = (issue_fields.get("project") or {}).get("key")
            if project:
                projects.add(str(project))
        fetched += len(page)
        progress.update(fetched, total, note=where)
        if len(batch) >= BULK_LIMIT:
            yield _chunk(client, settings, batch, signals, since, {})
            batch = {}
    cursor = format_cursor(started)
    last = _chunk(client, settings, batch, signals, cursor, quality)
    deployments, shipped = _releases(
        client, settings, projects, list(carried.values()), zone, start
    )
    yield Chunk(
        items=last.items,
        events=last.events,
        deployments=deployments,
        shipped=shipped,
        cursor=cursor,
        quality=last.quality,
    )


def _releases(
    client: JIRA,
    settings: JiraSettings,
    projects: set[str],
    issues: Sequence[dict[str, Any]],
    zone,
    start: pd.Timestamp | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not settings.releases or not projects:
        return deployments_frame({}, zone), shipped_frame([], {})
    releases = project_releases(client, settings, projects)
    shipped = shipped_frame(issues, releases)
    if start is not None:
        # A release made since the last sync may name issues this sync did not fetch (a
        # release does not touch their `updated`): ask for them by version.
        seen = {item_id(i["key"]) for i in issues}
        since_day = (start.tz_convert(zone) - pd.Timedelta(days=1)).date().isoformat()
        extra = []
        for version_id, version in releases.items():
            if str(version["releaseDate"])[:10] < since_day:
                continue
            jql = compose_jql(settings.jql, f"fixVersion = {version_id}", order_by=None)
            for page, _ in search_pages(client, settings, jql, ["fixVersions"]):
                extra.extend(i for i in page if item_id(i["key"]) not in seen)
        if extra:
            shipped = (
                pd.concat([shipped, shipped_frame(extra, releases)], ignore_index=True)
                .drop_duplicates()
                .reset_index(drop=True)
            )
    return deployments_frame(releases, zone), shipped
