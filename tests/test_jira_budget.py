"""Request budget: a first sync of 1,000 issues with complete history, counted at the fake."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import demo_subset
from tests.fake_jira.harness import sync


@pytest.fixture(scope="module")
def demo_world():
    flow = demo_subset(1000)
    return flow, world_from_flow(flow, project="FD", zone="Europe/London")


def _expected(flow) -> pd.DataFrame:
    events = flow.events.copy()
    # The fake keeps what Jira can hold: a status event repeating the current status is not a
    # transition, and a flag already set cannot be set again.
    rows = []
    for item, group in events.sort_values(["item_id", "changed_at", "seq"]).groupby("item_id"):
        current, flagged = None, False
        for e in group.itertuples(index=False):
            if e.event == "status":
                if e.status != current:
                    rows.append((f"jira:{item}", e.changed_at, "status", e.status))
                    current = e.status
            elif (e.event == "blocked") != flagged:
                flagged = e.event == "blocked"
                # a spell's reason rides in its blocked event (Jira: the flag's comment)
                rows.append((f"jira:{item}", e.changed_at, e.event, e.status))
    out = pd.DataFrame(rows, columns=["item_id", "changed_at", "event", "status"])
    return out.sort_values(list(out.columns)).reset_index(drop=True)


def _got(events: pd.DataFrame) -> pd.DataFrame:
    cols = ["item_id", "changed_at", "event", "status"]
    return events[cols].sort_values(cols).reset_index(drop=True)


def test_cloud_first_sync_of_1000_issues_within_25_requests(demo_world):
    flow, world = demo_world
    assert len(world.issues) == 1000
    # Three histories embedded: most issues' changelogs arrive truncated.
    with FakeJira(world, mode="cloud", embedded_cap=3, zone="Europe/London") as fake:
        result = sync(fake, jql="project = FD")
        total = fake.count()
        by_path = {
            p: fake.count(p)
            for p in ("serverInfo", "/field", "/myself", "/search/jql", "bulkfetch", "/versions")
        }
    truncated = sum(1 for i in world.issues.values() if len(i.histories) > 3)
    assert truncated > 500
    assert total <= 25, by_path
    assert by_path == {
        "serverInfo": 3,
        "/field": 2,
        "/myself": 1,
        "/search/jql": 10,
        "bulkfetch": 1,
        "/versions": 1,
    }
    assert result.quality("incomplete_history") == 0
    assert len(result.items) == 1000
    pd.testing.assert_frame_equal(_got(result.events), _expected(flow), check_dtype=False)
    shipped = result.frame("shipped")
    assert len(shipped) == len(flow.shipped)
    assert len(result.frame("deployments")) == len(flow.deployments)


def test_datacenter_first_sync_of_1000_issues_pages_changelogs(demo_world):
    flow, world = demo_world
    # Data Center has no bulk fetch: each truncated issue costs one changelog page.
    with FakeJira(world, mode="datacenter", embedded_cap=8, zone="Europe/London") as fake:
        result = sync(fake, jql="project = FD")
        searches, pages = fake.count("/search"), fake.count("/changelog")
    truncated = sum(1 for i in world.issues.values() if len(i.histories) > 8)
    assert searches == 10
    assert pages == truncated
    assert result.quality("incomplete_history") == 0
    pd.testing.assert_frame_equal(_got(result.events), _expected(flow), check_dtype=False)
