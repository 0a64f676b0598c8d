"""The GitHub connector against the fake GitHub, seeded from the demo world: paging, history
round trip, incremental re-sync, long timelines and the request budget."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pytest

from connectors.demo import demo_flow_data
from metrics.frames import FlowData
from tests.fake_github import FakeGithub, repo_from_flow_data
from tests.fake_github.harness import need_schema, settings_for, sync


@lru_cache(maxsize=1)
def demo_slice() -> FlowData:
    """The first 1,000 items of the seeded demo world with all its deployments."""
    data = demo_flow_data()
    keep = set(data.items["item_id"].iloc[:1000])
    return FlowData(
        items=data.items[data.items["item_id"].isin(keep)],
        events=data.events[data.events["item_id"].isin(keep)],
        deployments=data.deployments,
        shipped=data.shipped,
    )


@pytest.fixture
def fake():
    need_schema()
    with FakeGithub() as server:
        yield server


def _statuses(events: pd.DataFrame, item_id: str) -> list[str]:
    rows = events[(events["item_id"] == item_id) & (events["event"] == "status")]
    rows = rows.sort_values(["changed_at", "seq"], kind="stable")
    out: list[str] = []
    for status in rows["status"]:
        if not out or out[-1] != status:
            out.append(status)
    return out


def _times(events: pd.DataFrame, item_id: str, kind: str = "status") -> list[pd.Timestamp]:
    rows = events[(events["item_id"] == item_id) & (events["event"] == kind)]
    return sorted(rows["changed_at"])


@pytest.mark.parametrize("mode", ["project", "labels"])
def test_history_round_trips_through_github(fake, mode):
    """Project mode: the whole 1,000-issue first sync within the request budget; labels mode:
    the most recently updated 300 issues (a since-window)."""
    data = demo_slice()
    repo, numbers = repo_from_flow_data(data, mode=mode)
    fake.add_repo(repo)
    settings = settings_for(fake, status_from=mode, project=3, deployments="deployments")
    since = None
    if mode == "labels":
        since = sorted(i.updated_at for i in repo.items.values())[-300]
        numbers = {k: n for k, n in numbers.items() if repo.items[n].updated_at >= since}
    else:
        # three issues with more than 100 timeline events (label noise): their later timeline
        # pages come in one batched request
        for number in (2, 500, 999):
            item = repo.items[number]
            noise = [
                {"__typename": "LabeledEvent", "createdAt": item.created_at, "label": {"name": "x"}}
            ] * 150
            item.timeline = noise + item.timeline

    result = sync(fake, settings, since=since)

    if mode == "project":
        assert result.requests <= 15, f"first sync took {result.requests} requests"
        print(f"first sync of 1,000 issues: {result.requests} requests")
    assert not fake.invalid_queries
    assert len(result.items) == len(numbers)
    assert result.quality.get("status_snapshot_fallback", 0) == 0
    # every item's status history (and blocked spells) is the world's, at the same instants
    for item_id in [*list(numbers)[::7], *[k for k, n in numbers.items() if n in (2, 500, 999)]]:
        ours = f"github:acme/web#{numbers[item_id]}"
        want = _statuses(data.events, item_id)
        got = _statuses(result.events, ours)
        if mode == "labels":
            assert got[0] == "Open"
            got = got[1:]
        assert got == want, item_id
        for kind in ("blocked", "unblocked"):
            assert _times(result.events, ours, kind) == _times(data.events, item_id, kind)
    assert str(result.events["changed_at"].dtype) == "datetime64[ns, UTC]"
    if mode == "labels":
        return
    production = data.deployments[data.deployments["environment"] == "production"]
    assert len(result.deployments) == len(production)
    last_update = max(item.updated_at for item in repo.items.values())
    assert result.cursor == last_update

    # a re-sync when nothing changed, then one after a board move
    first = result
    again = sync(fake, settings, since=first.cursor)
    print(f"re-sync with nothing changed: {again.requests} requests")
    assert again.requests <= 3, f"re-sync took {again.requests} requests"
    # the closed range re-reads only the boundary item(s)
    assert len(again.items) <= 2
    assert again.cursor == first.cursor

    # one item moves on the board: the next sync sees exactly that change
    item = repo.items[5]
    at = "2027-01-04T09:30:00Z"
    item.timeline.append(
        {
            "__typename": "ProjectV2ItemStatusChangedEvent",
            "createdAt": at,
            "previousStatus": item.board_status or "",
            "status": "Testing",
            "project": True,
        }
    )
    item.board_status, item.board_status_set_at = "Testing", at
    item.touch()
    later = sync(fake, settings, since=again.cursor)
    assert later.requests <= 3
    assert later.cursor == at
    # item 5 and, from the closed range, the item(s) updated exactly at the previous cursor
    assert "github:acme/web#5" in set(later.items["item_id"])
    assert len(later.items) <= 3
    assert later.history(5)[-1] == (at, "status", "Testing")


def test_cursor_with_an_offset_is_sent_in_utc(fake):
    data = demo_slice()
    repo, _ = repo_from_flow_data(data, mode="labels")
    fake.add_repo(repo)
    settings = settings_for(fake, status_from="labels")
    cutoff = sorted(i.updated_at for i in repo.items.values())[-40]
    local = pd.Timestamp(cutoff).tz_convert("America/New_York").isoformat()

    result = sync(fake, settings, since=local)

    expected = sum(1 for i in repo.items.values() if i.updated_at >= cutoff)
    assert len(result.items) == expected
    assert fake.graphql_variables[-1]["since"] == cutoff
    assert result.cursor >= cutoff


def test_multi_page_sync_with_small_pages_advances_the_cursor_page_by_page(fake):
    data = demo_slice()
    repo, _ = repo_from_flow_data(data, mode="labels")
    fake.add_repo(repo)
    settings = settings_for(fake, status_from="labels", page_size=25)
    since = sorted(i.updated_at for i in repo.items.values())[-120]

    result = sync(fake, settings, since=since)

    assert len(result.chunks) >= 5
    cursors = [c.cursor for c in result.chunks]
    assert cursors == sorted(cursors)
    assert len(result.items) == sum(1 for i in repo.items.values() if i.updated_at >= since)
    assert result.items["item_id"].is_unique


def test_an_issue_whose_timeline_needs_a_second_page(fake):
    data = demo_slice()
    repo, _ = repo_from_flow_data(data, mode="labels")
    fake.add_repo(repo)
    item = repo.items[7]
    start = pd.Timestamp("2027-02-01T00:00:00Z")
    for i in range(130):  # 260 label events: three timeline pages
        at = (start + pd.Timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        item.timeline.append(
            {"__typename": "LabeledEvent", "createdAt": at, "label": {"name": "blocked"}}
        )
        item.timeline.append(
            {"__typename": "UnlabeledEvent", "createdAt": at, "label": {"name": "blocked"}}
        )
    final = (start + pd.Timedelta(hours=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    item.timeline.append(
        {"__typename": "LabeledEvent", "createdAt": final, "label": {"name": "status: QA"}}
    )
    item.touch()
    settings = settings_for(fake, status_from="labels")
    since = sorted(i.updated_at for i in repo.items.values())[-50]

    result = sync(fake, settings, since=since)

    assert result.requests == 1 + 2  # one page, then the 2nd and 3rd timeline pages of #7
    history = result.history(7)
    assert history[-1] == (final, "status", "QA")
    assert sum(1 for h in history if h[1] == "blocked") == 130
    assert sum(1 for h in history if h[1] == "unblocked") == 130


def test_github_enterprise_api_url(fake):
    data = demo_slice()
    repo, _ = repo_from_flow_data(data, mode="labels")
    fake.add_repo(repo)
    settings = settings_for(fake, status_from="labels", api_url=f"{fake.url}/api/v3")
    since = sorted(i.updated_at for i in repo.items.values())[-10]

    result = sync(fake, settings, since=since)

    assert len(result.items) == 10
    assert ("POST", "/api/graphql") in fake.requests


def test_the_fake_validates_queries_against_githubs_schema(fake):
    from connectors.github import KIND
    from connectors.github.client import SyncStopped, github_failures
    from tests.fake_github import TOKEN

    fake.add_repo(repo_from_flow_data(demo_slice(), mode="labels")[0])
    settings = settings_for(fake)
    client = KIND.make_client(settings, {"GITHUB_TOKEN": TOKEN})
    wrong = """query { repository(owner: "acme", name: "web") { issues(first: 1) {
      nodes { timelineItems(first: 5) { nodes {
        ... on ProjectV2ItemStatusChangedEvent { previous_status } } } } } } }"""

    with (
        pytest.raises(SyncStopped, match="Did you mean 'previousStatus'"),
        github_failures(settings, "testing"),
    ):
        client.graphql(wrong, {})
    assert fake.invalid_queries
