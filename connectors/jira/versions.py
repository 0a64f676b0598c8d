"""Released fix versions as deployments, and the issues each one shipped.

Jira records only a release *date*. A release is placed at the end of that day (23:59:59 in the
Jira user's time zone) so that an issue finished on release day counts as shipped by it, with a
lead time that is never negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from jira import JIRA

from connectors.jira.calls import call
from connectors.jira.client import is_cloud
from connectors.jira.issues import item_id
from connectors.jira.settings import JiraSettings
from metrics.frames import conform_deployments, empty_deployments, empty_shipped


def deploy_id(project: str, version: Mapping[str, Any]) -> str:
    return f"jira:{project}:{version['id']}"


def release_time(day: str, zone: ZoneInfo) -> pd.Timestamp:
    d = date.fromisoformat(day[:10])
    local = pd.Timestamp(d.year, d.month, d.day, 23, 59, 59, tz=zone)
    return local.tz_convert("UTC")


def is_release(version: Mapping[str, Any]) -> bool:
    return bool(version.get("released")) and bool(version.get("releaseDate"))


def project_releases(
    client: JIRA, settings: JiraSettings, projects: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Version id -> the raw version (with its project key) of every released version."""
    out: dict[str, dict[str, Any]] = {}
    for project in sorted(set(projects)):
        versions = call(
            settings,
            f"reading the versions of project {project}",
            client.project_versions,
            project,
            cloud=is_cloud(client),
        )
        for version in versions:
            raw = dict(version.raw)
            if is_release(raw):
                raw["_project"] = project
                out[str(raw["id"])] = raw
    return out


def deployments_frame(releases: Mapping[str, Mapping[str, Any]], zone: ZoneInfo) -> pd.DataFrame:
    if not releases:
        return empty_deployments()
    rows = [
        {
            "deploy_id": deploy_id(v["_project"], v),
            "deployed_at": release_time(v["releaseDate"], zone),
            "environment": "production",
            "status": "success",
            "version": str(v.get("name") or ""),
            "source": "",
        }
        for v in releases.values()
    ]
    return conform_deployments(pd.DataFrame(rows))


def shipped_frame(
    issues: Sequence[Mapping[str, Any]], releases: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """(deploy_id, item_id) for each issue carrying a released version."""
    rows = []
    for issue in issues:
        for version in (issue.get("fields") or {}).get("fixVersions") or []:
            release = releases.get(str(version.get("id")))
            if release is not None:
                ident = deploy_id(release["_project"], release)
                rows.append({"deploy_id": ident, "item_id": item_id(issue["key"])})
    if not rows:
        return empty_shipped()
    return pd.DataFrame(rows).drop_duplicates().reset_index(drop=True)
