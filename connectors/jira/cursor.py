"""The incremental cursor and the JQL that resumes from it.

The cursor Flowdeck stores is an ISO 8601 UTC time: the site's clock when the last sync began.
JQL only takes `"yyyy/MM/dd HH:mm"` read in the Jira user's own time zone, at minute precision,
so the clause is written in that zone, rounded down to the minute and moved back by an overlap;
the issues fetched twice are deduplicated by key (and their histories by id).

A sync that stopped part way after a checkpoint leaves a *resume* cursor instead (see
`Resume`), a small JSON object: `{"created": ..., "started": ...}`, with `"since": ...` when the
stopped sync was incremental.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from connectors.jira.jql import compose_jql
from metrics.days import as_utc
from metrics.errors import ConfigError

#: Every search (first or incremental) reads issues in order of creation, which no update can
#: change: every issue created before the last one read has been read (paging skips none), so
#: that is a safe point. Ordered by `updated` instead, an issue changed during the sync would move
#: to the end and its neighbour slip past a `startAt` page boundary, never to be read.
SEARCH_ORDER = "created ASC, key ASC"


@dataclass(frozen=True)
class Resume:
    """Where a sync that stopped part way resumes: of the issues it was reading (all, or for an
    incremental sync those updated since `since`), it had read every one created before
    `created` (in order of creation), each as it was at `started` or later. What remains is
    those created since, and every issue updated since `started`."""

    started: pd.Timestamp
    created: pd.Timestamp
    since: pd.Timestamp | None = None

    def text(self) -> str:
        fields = {"created": format_cursor(self.created), "started": format_cursor(self.started)}
        if self.since is not None:
            fields["since"] = format_cursor(self.since)
        return json.dumps(fields, sort_keys=True)


def parse_resume(since: str | None) -> Resume | None:
    """The resume cursor of a stopped sync; None for a time cursor or none."""
    if since is None or not since.lstrip().startswith("{"):
        return None
    try:
        raw = json.loads(since)
        incremental = as_utc(raw["since"]) if raw.get("since") is not None else None
        return Resume(
            started=as_utc(raw["started"]), created=as_utc(raw["created"]), since=incremental
        )
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"jira: stored cursor {since!r} is not a resume point; run `flowdeck sync --full`"
        ) from None


def search_jql(
    base: str,
    start: pd.Timestamp | None,
    resume: Resume | None,
    zone: ZoneInfo,
    overlap_minutes: int,
) -> str:
    """The issue search of a sync, in order of creation: incremental from `start`, or a first
    sync; resumed from `resume` when it had stopped part way."""
    if start is not None:
        return compose_jql(
            base, updated_clause(start, zone, overlap_minutes), order_by=SEARCH_ORDER
        )
    clause = ""
    if resume is not None:
        created = resume.created.tz_convert(zone).floor("min")
        remaining = f'created >= "{created.strftime("%Y/%m/%d %H:%M")}"'
        if resume.since is not None:
            remaining = f"({updated_clause(resume.since, zone, overlap_minutes)} AND {remaining})"
        clause = f"({remaining} OR {updated_clause(resume.started, zone, overlap_minutes)})"
    return compose_jql(base, clause, order_by=SEARCH_ORDER)


def parse_cursor(since: str | None) -> pd.Timestamp | None:
    if since is None or not since.strip():
        return None
    try:
        return as_utc(since)
    except ValueError:
        raise ConfigError(f"jira: stored cursor {since!r} is not an ISO 8601 time") from None


def format_cursor(stamp: pd.Timestamp) -> str:
    return stamp.tz_convert("UTC").isoformat()


def user_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def updated_clause(since: pd.Timestamp, zone: ZoneInfo, overlap_minutes: int) -> str:
    local = (since - pd.Timedelta(minutes=overlap_minutes)).tz_convert(zone).floor("min")
    return f'updated >= "{local.strftime("%Y/%m/%d %H:%M")}"'


def parse_jira_time(values) -> pd.Series:
    """Jira's `2024-03-01T09:00:00.000+0100` (offset always present) as UTC timestamps."""
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
