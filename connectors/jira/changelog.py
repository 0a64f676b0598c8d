"""Complete status histories.

An issue's embedded changelog (`expand=changelog`) is capped and holds the newest entries, so
an issue with a long history would silently lose its oldest transitions, and with them its
creation status and start date. Whenever `changelog.total` exceeds the histories returned, the
rest is fetched: on Cloud in bulk (`POST /rest/api/3/changelog/bulkfetch`, up to 1,000 issues a
call, only the fields Flowdeck reads), else by paging `/issue/{key}/changelog`, or, on a Data
Center without that endpoint, from the issue itself, whose changelog is complete there.

The `jira` library has no method for either endpoint, so they go through its own session
(same sign-in, same headers) and errors are raised the library's way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from jira import JIRA
from jira.resilientsession import raise_on_error

from connectors.jira.calls import JiraError, call
from connectors.jira.client import is_cloud
from connectors.jira.settings import JiraSettings

BULK_LIMIT = 1000
"""Issues per bulk-fetch call (Jira Cloud's limit)."""
CHANGELOG_PAGE = 100


def embedded_histories(issue: dict[str, Any]) -> list[dict[str, Any]]:
    return list((issue.get("changelog") or {}).get("histories") or [])


def is_truncated(issue: dict[str, Any]) -> bool:
    changelog = issue.get("changelog") or {}
    total = changelog.get("total")
    return total is not None and int(total) > len(changelog.get("histories") or [])


def merge_histories(*groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Histories deduplicated by id (the embedded page and a fetched page overlap)."""
    seen: dict[str, dict[str, Any]] = {}
    for group in groups:
        for history in group:
            seen.setdefault(str(history.get("id")), history)
    return list(seen.values())


def rest_json(client: JIRA, method: str, path: str, **kwargs: Any) -> Any:
    url = f"{client.server_url}{path}"
    response = client._session.request(method, url, **kwargs)
    raise_on_error(response)
    return response.json()


def bulk_fetch(
    client: JIRA, settings: JiraSettings, issue_ids: Sequence[str], field_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Issue id -> its histories touching `field_ids` (Cloud only), all pages."""
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(issue_ids), BULK_LIMIT):
        body: dict[str, Any] = {
            "issueIdsOrKeys": list(issue_ids[start : start + BULK_LIMIT]),
            "fieldIds": list(field_ids),
            "maxResults": 10000,
        }
        while True:
            page = call(
                settings,
                "fetching complete changelogs (bulkfetch)",
                rest_json,
                client,
                "POST",
                "/rest/api/3/changelog/bulkfetch",
                data=json.dumps(body),
                cloud=True,
            )
            for log in page.get("issueChangeLogs") or []:
                out.setdefault(str(log.get("issueId")), []).extend(log.get("changeHistories") or [])
            token = page.get("nextPageToken")
            if not token:
                break
            body["nextPageToken"] = token
    return out


def paged_changelog(client: JIRA, settings: JiraSettings, key: str) -> list[dict[str, Any]]:
    """Every history of one issue from `/issue/{key}/changelog`, page by page."""
    histories: list[dict[str, Any]] = []
    start = 0
    while True:
        page = call(
            settings,
            f"fetching the changelog of {key}",
            rest_json,
            client,
            "GET",
            f"/rest/api/2/issue/{key}/changelog",
            params={"startAt": start, "maxResults": CHANGELOG_PAGE},
            cloud=is_cloud(client),
        )
        values = page.get("values") or []
        histories.extend(values)
        start += len(values)
        total = page.get("total")
        if not values or page.get("isLast") or (total is not None and start >= int(total)):
            return histories


def issue_changelog(client: JIRA, settings: JiraSettings, key: str) -> list[dict[str, Any]]:
    """The changelog embedded in one issue (`/issue/{key}?expand=changelog`): complete on Data
    Center, where `/issue/{key}/changelog` may be missing (Jira 9.12 answers 404 "null for uri")."""
    issue = call(
        settings,
        f"fetching the changelog of {key}",
        client.issue,
        key,
        fields="status",
        expand="changelog",
        cloud=is_cloud(client),
    )
    return embedded_histories(issue.raw)


def complete_changelogs(
    client: JIRA,
    settings: JiraSettings,
    issues: Sequence[dict[str, Any]],
    field_ids: Sequence[str],
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Issue key -> its complete histories, and how many could not be completed.

    Issues whose embedded changelog is complete are returned as they are, without a request.
    """
    result = {issue["key"]: embedded_histories(issue) for issue in issues}
    truncated = [issue for issue in issues if is_truncated(issue)]
    if not truncated:
        return result, 0
    incomplete = 0
    if is_cloud(client):
        try:
            fetched = bulk_fetch(client, settings, [str(i["id"]) for i in truncated], field_ids)
        except JiraError as exc:
            if exc.status != 404:
                raise
            fetched = None  # a site without the bulk endpoint: page each issue instead
        if fetched is not None:
            # A finished bulk fetch holds every history touching the fields asked for; an issue
            # it leaves out has none beyond those embedded.
            for issue in truncated:
                extra = fetched.get(str(issue["id"])) or fetched.get(issue["key"]) or []
                result[issue["key"]] = merge_histories(result[issue["key"]], extra)
            return result, 0
    paging = True  # until the site shows it has no /issue/{key}/changelog
    for issue in truncated:
        total = int(issue["changelog"]["total"])
        try:
            if paging:
                try:
                    paged = paged_changelog(client, settings, issue["key"])
                except JiraError as exc:
                    if exc.status != 404:
                        raise
                    # The endpoint or the issue is missing: asking for the issue tells which.
                    paged = issue_changelog(client, settings, issue["key"])
                    paging = False
            else:
                paged = issue_changelog(client, settings, issue["key"])
        except JiraError as exc:
            # An issue deleted or hidden since the search keeps what was embedded; it is
            # counted, not fatal. Anything else (rate limits, outages) stops the sync.
            if exc.status not in (403, 404):
                raise
            incomplete += 1
            continue
        histories = merge_histories(result[issue["key"]], paged)
        result[issue["key"]] = histories
        if len(histories) < total:
            incomplete += 1
    return result, incomplete
