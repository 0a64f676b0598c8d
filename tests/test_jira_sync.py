"""The Jira connector against a fake Jira (Cloud and Data Center) over real HTTP."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import small_flow
from tests.fake_jira.harness import sync
from tests.fake_jira.world import flag_item, status_item

MODES = ["cloud", "datacenter"]


def _expected_events(flow) -> pd.DataFrame:
    out = flow.events.copy()
    out["item_id"] = "jira:" + out["item_id"]
    return _comparable(out)


def _comparable(events: pd.DataFrame) -> pd.DataFrame:
    cols = ["item_id", "changed_at", "event", "status"]
    return events[cols].sort_values(cols).reset_index(drop=True)


@pytest.fixture(params=MODES)
def mode(request) -> str:
    return request.param


def test_round_trip_multi_page_with_truncated_changelogs(mode):
    flow = small_flow()
    # Two issues a page and ten histories embedded: ABC-1 (25 changes) is truncated.
    with FakeJira(world_from_flow(flow), mode=mode, embedded_cap=10, page_cap=2) as fake:
        result = sync(fake)
        searches = fake.count("/search")
        bulk = fake.count("/changelog/bulkfetch")
        paged = fake.count("/issue/ABC-1/changelog")
    assert searches == 3  # 5 issues, 2 a page
    if mode == "cloud":
        assert (bulk, paged) == (1, 0)
    else:
        assert (bulk, paged) == (0, 1)
    pd.testing.assert_frame_equal(_comparable(result.events), _expected_events(flow))
    assert result.quality("incomplete_history") == 0
    # seq orders each item's events
    for _, group in result.events.groupby("item_id"):
        assert list(group["seq"]) == list(range(len(group)))
    items = result.items.set_index("item_id")
    assert list(items.index) == [f"jira:ABC-{i}" for i in range(1, 6)]
    assert items.loc["jira:ABC-3", "title"] == "统计图"
    assert items.loc["jira:ABC-1", "labels"] == "backend;api"
    assert items.loc["jira:ABC-2", "type"] == "Bug"
    assert items.loc["jira:ABC-1", "url"] == f"{fake.url}/browse/ABC-1"
    assert str(result.events["changed_at"].dtype) == "datetime64[ns, UTC]"


def test_progress_says_which_deployment(mode):
    with FakeJira(world_from_flow(small_flow()), mode=mode, page_cap=2) as fake:
        result = sync(fake)
    first_note = result.progress.calls[0][2]
    expected = "Jira Cloud 1001.0.0-SNAPSHOT" if mode == "cloud" else "Jira Data Center 9.12.2"
    assert first_note.startswith(f"{expected} at {fake.url}")
    assert result.progress.calls[-1][0] == 5
    if mode == "datacenter":  # the classic search tells the total
        assert result.progress.calls[-1][1] == 5


def test_oldest_transitions_dropped_without_completion_are_counted():
    flow = small_flow()
    with FakeJira(world_from_flow(flow), mode="datacenter", embedded_cap=10) as fake:
        # deleted between the search and the paging: its changelog and itself are gone
        fake.fail("/issue/ABC-1", 404, times=2)
        result = sync(fake)
    assert result.quality("incomplete_history") == 1
    abc1 = result.events[result.events["item_id"] == "jira:ABC-1"]
    assert len(abc1) == 11  # the creation event and the ten newest changes
    assert fake.count("/issue/ABC-1") == 2


def test_creation_status_comes_from_first_history():
    # The embedded histories arrive newest first; the creation status is the *oldest* change's
    # fromString, not the current status.
    flow = small_flow()
    with FakeJira(world_from_flow(flow), mode="cloud") as fake:
        result = sync(fake)
    created = result.events.groupby("item_id").first()
    assert created.loc["jira:ABC-1", "status"] == "Backlog"
    assert created.loc["jira:ABC-3", "status"] == "Open"
    assert created.loc["jira:ABC-4", "status"] == "Backlog"  # never moved: current status


def test_times_with_offsets_are_stored_in_utc():
    flow = small_flow()
    with FakeJira(world_from_flow(flow), mode="cloud", zone="Asia/Shanghai") as fake:
        # The payload says 2024-01-02T17:00:00.000+0800 for 09:00 UTC.
        import requests

        raw = requests.get(
            f"{fake.url}/rest/api/3/search/jql",
            params={"jql": "key = ABC-1", "fields": "created"},
            auth=(fake.email, fake.token),
            timeout=30,
        ).json()
        assert raw["issues"][0]["fields"]["created"] == "2024-01-02T17:00:00.000+0800"
        result = sync(fake)
    first = result.events[result.events["item_id"] == "jira:ABC-1"].iloc[0]
    assert first["changed_at"] == pd.Timestamp("2024-01-02T09:00:00", tz="UTC")


def test_flags_found_by_name_in_both_modes(mode):
    # Cloud's Flagged is customfield_10021, the DC fake's customfield_10100 (and DC changelog
    # items carry no fieldId): neither id is known to the connector.
    with FakeJira(world_from_flow(small_flow()), mode=mode) as fake:
        result = sync(fake)
    blocked = result.events[result.events["event"] != "status"]
    assert list(zip(blocked["item_id"], blocked["event"], strict=True)) == [
        ("jira:ABC-2", "blocked"),
        ("jira:ABC-2", "unblocked"),
        ("jira:ABC-5", "blocked"),
    ]
    assert blocked.iloc[1]["changed_at"] == pd.Timestamp("2024-01-06T16:30", tz="UTC")
    # The reason comes from the flag's comment; ABC-5 was flagged without one.
    assert list(blocked["status"]) == ["Waiting on vendor API", "", ""]


def test_flags_off_and_missing_flag_field():
    with FakeJira(world_from_flow(small_flow()), mode="cloud") as fake:
        off = sync(fake, use_flags=False)
        missing = sync(fake, flag_field="Impediment marker")
    assert (off.events["event"] == "status").all()
    assert (missing.events["event"] == "status").all()
    assert missing.quality("flag_field_missing") == 1


def test_blocked_labels_merge_with_flags():
    world = world_from_flow(small_flow())
    issue = world.issues["ABC-2"]
    t = pd.Timestamp
    # Labelled blocked while already flagged (no new spell), then unlabelled after the flag
    # cleared (the spell ends only then).
    world.add_history(issue, t("2024-01-05T09:00", tz="UTC"), [_labels("", "blocked")])
    world.add_history(issue, t("2024-01-07T09:00", tz="UTC"), [_labels("blocked", "")])
    with FakeJira(world, mode="cloud", embedded_cap=3) as fake:
        result = sync(fake, blocked_labels=["blocked"])
    spells = result.events[
        (result.events["item_id"] == "jira:ABC-2") & (result.events["event"] != "status")
    ]
    assert list(spells["event"]) == ["blocked", "unblocked"]
    assert list(spells["changed_at"]) == [
        t("2024-01-04T10:00", tz="UTC"),
        t("2024-01-07T09:00", tz="UTC"),
    ]
    # ABC-5 carries the label since creation (no labels history): blocked from its creation
    abc5 = result.events[result.events["item_id"] == "jira:ABC-5"]
    assert abc5.iloc[1]["event"] == "blocked"
    assert abc5.iloc[1]["changed_at"] == abc5.iloc[0]["changed_at"]
    assert (abc5["event"] == "blocked").sum() == 1  # the later flag adds no second spell


def _labels(old: str, new: str) -> dict:
    return {
        "field": "labels",
        "fieldtype": "jira",
        "fieldId": "labels",
        "from": None,
        "fromString": old,
        "to": None,
        "toString": new,
    }


def test_flag_set_at_creation_without_history():
    world = world_from_flow(small_flow())
    world.issues["ABC-4"].flagged = True
    with FakeJira(world, mode="cloud") as fake:
        result = sync(fake)
    abc4 = result.events[result.events["item_id"] == "jira:ABC-4"]
    assert list(abc4["event"]) == ["status", "blocked"]


def test_releases_become_deployments_with_shipped_items(mode):
    with FakeJira(world_from_flow(small_flow()), mode=mode, zone="America/New_York") as fake:
        result = sync(fake)
    last = result.chunks[-1]
    deployments = last.deployments.sort_values("version").reset_index(drop=True)
    assert list(deployments["version"]) == ["v1.0", "v1.1"]
    assert (deployments["status"] == "success").all()
    assert (deployments["environment"] == "production").all()
    # releaseDate 2024-01-06 at the end of that day in the user's zone (UTC-5)
    assert deployments.loc[0, "deployed_at"] == pd.Timestamp("2024-01-07T04:59:59", tz="UTC")
    shipped = set(zip(last.shipped["deploy_id"], last.shipped["item_id"], strict=True))
    ids = dict(zip(deployments["version"], deployments["deploy_id"], strict=True))
    assert shipped == {
        (ids["v1.0"], "jira:ABC-1"),
        (ids["v1.1"], "jira:ABC-2"),
        (ids["v1.1"], "jira:ABC-3"),
    }


def test_unreleased_versions_and_releases_off():
    world = world_from_flow(small_flow())
    world.versions[1].released = False
    with FakeJira(world, mode="cloud") as fake:
        result = sync(fake)
        off = sync(fake, releases=False)
        before = fake.count("/versions")
    assert list(result.chunks[-1].deployments["version"]) == ["v1.0"]
    assert set(result.chunks[-1].shipped["item_id"]) == {"jira:ABC-1"}
    assert off.chunks[-1].deployments.empty and off.chunks[-1].shipped.empty
    assert before == 1  # only the first sync asked for versions


def test_incremental_resync_uses_cursor_in_user_zone_with_overlap(mode):
    world = world_from_flow(small_flow())
    with FakeJira(world, mode=mode, zone="Asia/Kolkata") as fake:
        fake.now = pd.Timestamp("2024-01-12T08:03:30", tz="UTC")
        first = sync(fake)
        assert first.cursor == "2024-01-12T08:03:30+00:00"  # the site's clock at the start
        assert "updated" not in fake.jqls[0]
        # ABC-4 moves on later; nothing else changes.
        issue = world.issues["ABC-4"]
        world.add_history(
            issue,
            pd.Timestamp("2024-01-13T10:00", tz="UTC"),
            [status_item(world, "Backlog", "In Progress")],
        )
        issue.status = "In Progress"
        fake.now = pd.Timestamp("2024-01-14T00:00", tz="UTC")
        fake.reset_counts()
        second = sync(fake, since=first.cursor)
        jql = fake.jqls[0]
    # 08:03:30 UTC minus the 5-minute overlap, in Kolkata (UTC+5:30), down to the minute
    assert jql == '(project = ABC) AND updated >= "2024/01/12 13:28" ORDER BY created ASC, key ASC'
    # the overlap re-reads ABC-5 (updated 08:00), to be deduplicated by key downstream
    assert set(second.items["item_id"]) == {"jira:ABC-4", "jira:ABC-5"}
    abc4 = second.events[second.events["item_id"] == "jira:ABC-4"]
    assert list(abc4["status"]) == ["Backlog", "In Progress"]  # the whole history again
    assert second.cursor == "2024-01-14T00:00:00+00:00"


def test_resync_with_nothing_new_keeps_cursor():
    with FakeJira(world_from_flow(small_flow()), mode="cloud") as fake:
        fake.now = pd.Timestamp("2024-02-01", tz="UTC")
        first = sync(fake)
        fake.now = pd.Timestamp("2024-02-02", tz="UTC")
        again = sync(fake, since=first.cursor)
    assert len(first.items) == 5
    assert again.items.empty and again.events.empty
    assert again.cursor == "2024-02-02T00:00:00+00:00"


def test_new_release_names_issues_not_updated_since_cursor():
    world = world_from_flow(small_flow())
    with FakeJira(world, mode="cloud") as fake:
        first = sync(fake)
        # v1.2 is released after the first sync; releasing touches no issue's `updated`.
        from tests.fake_jira.world import Version

        world.versions.append(Version("39999", "v1.2", "ABC", True, "2024-01-20"))
        world.issues["ABC-5"].fix_versions.append("39999")
        second = sync(fake, since="2024-01-15T00:00:00+00:00")
    assert second.items.empty
    shipped = second.chunks[-1].shipped
    assert ("jira:ABC:39999", "jira:ABC-5") in set(
        zip(shipped["deploy_id"], shipped["item_id"], strict=True)
    )
    assert "jira:ABC:39999" not in set(first.chunks[-1].deployments["deploy_id"])


def test_update_during_paging_neither_skips_nor_loses_an_issue():
    # Ordering by `updated` would move an issue changed mid-sync to the end, and `startAt`
    # paging would then skip its neighbour. Ordered by key, all five come once, and the change
    # made during the sync is read by the next one.
    world = world_from_flow(small_flow())
    with FakeJira(world, mode="datacenter", page_cap=2) as fake:
        fake.now = pd.Timestamp("2024-01-20", tz="UTC")
        original = fake.query
        calls = {"n": 0}

        def changing_query(jql):
            calls["n"] += 1
            if calls["n"] == 2:
                issue = world.issues["ABC-1"]
                world.add_history(
                    issue, pd.Timestamp("2024-01-20T00:01", tz="UTC"), [flag_item(True)]
                )
                issue.flagged = True
            return original(jql)

        fake.query = changing_query
        first = sync(fake)
        fake.query = original
        second = sync(fake, since=first.cursor)
    assert first.items["item_id"].is_unique
    assert len(first.items) == 5
    assert list(second.items["item_id"]) == ["jira:ABC-1"]
    assert second.events.iloc[-1]["event"] == "blocked"


def test_chunks_of_bulk_size_and_their_cursors(monkeypatch):
    import importlib

    fetch_module = importlib.import_module("connectors.jira.fetch")
    monkeypatch.setattr(fetch_module, "BULK_LIMIT", 2)
    with FakeJira(world_from_flow(small_flow()), mode="cloud", page_cap=2, embedded_cap=3) as fake:
        fake.now = pd.Timestamp("2024-03-01", tz="UTC")
        result = sync(fake, since="2024-01-01T00:00:00+00:00", flag_field="No such field")
        bulk_calls = fake.count("bulkfetch")
    assert [len(c.items) for c in result.chunks] == [2, 2, 1]
    # The search is in order of creation, so each chunk but the last gives a resume point
    # (every issue updated since the cursor and created before the chunk's newest one is read);
    # the last moves the cursor to the site's clock when the search began.
    assert [c.cursor for c in result.chunks] == [
        '{"created": "2024-01-02T10:00:00+00:00", "since": "2024-01-01T00:00:00+00:00", '
        '"started": "2024-03-01T00:00:00+00:00"}',
        '{"created": "2024-01-04T08:00:00+00:00", "since": "2024-01-01T00:00:00+00:00", '
        '"started": "2024-03-01T00:00:00+00:00"}',
        "2024-03-01T00:00:00+00:00",
    ]
    assert result.quality("flag_field_missing") == 1  # counted once, not once per chunk
    # the releases come with the first chunk of their project, so that what its issues shipped
    # is stored with them (a checkpoint needs both)
    assert [len(c.deployments) for c in result.chunks] == [2, 0, 0]
    assert bulk_calls == 1  # ABC-1 and ABC-2 (first chunk) are the only truncated ones
    assert result.quality("incomplete_history") == 0


def test_datacenter_changelog_pages_and_old_datacenter_without_the_endpoint():
    flow = small_flow()
    world = world_from_flow(flow)
    with FakeJira(world, mode="datacenter", embedded_cap=3, changelog_page_cap=10) as fake:
        paged = sync(fake)
        pages = fake.count("/changelog")
        fake.changelog_endpoint = False  # Jira 9: /issue/{key}/changelog is "null for uri"
        fake.reset_counts()
        fallback = sync(fake)
        tried = fake.count("/changelog")
        issue_gets = sum(1 for _, p in fake.requests if p.startswith("/rest/api/2/issue/"))
    # ABC-1 (25 histories) takes 3 pages of 10, ABC-2 (4) one page
    assert pages == 4
    assert tried == 1  # once seen missing, the endpoint is not asked again
    assert issue_gets == 3  # the failed page, then ABC-1 and ABC-2 from the issue itself
    for result in (paged, fallback):
        assert result.quality("incomplete_history") == 0
        pd.testing.assert_frame_equal(_comparable(result.events), _expected_events(flow))


def test_bulk_fetch_pages_and_splits_at_the_limit(monkeypatch):
    import importlib

    changelog = importlib.import_module("connectors.jira.changelog")
    monkeypatch.setattr(changelog, "BULK_LIMIT", 1)  # one issue per bulk call
    flow = small_flow()
    with FakeJira(world_from_flow(flow), mode="cloud", embedded_cap=3, bulk_page_cap=4) as fake:
        result = sync(fake)
        bodies = [b for (_, p), b in zip(fake.requests, fake.bodies, strict=True)
                  if "bulkfetch" in p]  # fmt: skip
    assert [len(b["issueIdsOrKeys"]) for b in bodies].count(1) == len(bodies)
    assert len({b["issueIdsOrKeys"][0] for b in bodies}) == 2  # ABC-1 and ABC-2
    assert any("nextPageToken" in b for b in bodies)  # ABC-1's 25 changes take 7 pages of 4
    assert all(set(b["fieldIds"]) == {"status", "customfield_10021"} for b in bodies)
    pd.testing.assert_frame_equal(_comparable(result.events), _expected_events(flow))


def test_cloud_without_bulk_endpoint_pages_instead():
    flow = small_flow()
    with FakeJira(world_from_flow(flow), mode="cloud", embedded_cap=3) as fake:
        fake.fail("bulkfetch", 404)
        result = sync(fake)
    assert fake.count("bulkfetch") == 1
    assert fake.count("/issue/ABC-1/changelog") == 1
    assert fake.count("/issue/ABC-2/changelog") == 1
    pd.testing.assert_frame_equal(_comparable(result.events), _expected_events(flow))
