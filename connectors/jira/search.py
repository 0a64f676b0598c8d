"""Issue search, one page per request: token-paged `/search/jql` on Cloud, `startAt` on DC.

The library's own "fetch everything" mode would hold every issue before returning and retry
nothing; asking it for one page at a time lets each page be retried alone and lets the
connector hand over work in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from jira import JIRA

from connectors.jira.calls import call
from connectors.jira.client import is_cloud
from connectors.jira.settings import JiraSettings


def search_pages(
    client: JIRA,
    settings: JiraSettings,
    jql: str,
    fields: Sequence[str],
    expand: str | None = None,
) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
    """Yield (issues of one page as raw JSON, total when the server tells it)."""
    cloud = is_cloud(client)
    what = "searching issues"
    if cloud:
        token: str | None = None
        while True:
            page = call(
                settings,
                what,
                client.enhanced_search_issues,
                jql,
                nextPageToken=token,
                maxResults=settings.page_size,
                fields=list(fields),  # the library rewrites this list in place
                expand=expand,
                json_result=True,
                cloud=True,
            )
            yield list(page.get("issues") or []), None
            token = page.get("nextPageToken")
            if not token or page.get("isLast"):
                return
    start = 0
    while True:
        page = call(
            settings,
            what,
            client.search_issues,
            jql,
            startAt=start,
            maxResults=settings.page_size,
            fields=list(fields),
            expand=expand,
            json_result=True,
            cloud=False,
        )
        assert isinstance(page, dict)  # json_result=True
        issues = list(page.get("issues") or [])
        total = page.get("total")
        yield issues, total
        start += len(issues)
        if not issues or (total is not None and start >= int(total)):
            return
