"""A long first sync commits checkpoints: when it dies part way, what was checkpointed stays in
the store (rows and cursor) and the next sync makes only the requests that remain. Real PyGithub
and jira clients against the fake servers, real SQLite stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors.config import load_config
from connectors.store import open_store
from connectors.sync import sync_sources
from tests.fake_github import TOKEN, FakeGithub, FakeItem, FakeRepo
from tests.fake_github.harness import need_schema

WORKFLOW = """
[workflow]
timezone = "UTC"
start = "In Progress"
done = "Done"

[[workflow.stages]]
name = "To Do"

[[workflow.stages]]
name = "In Progress"

[[workflow.stages]]
name = "Done"
"""


def _items(db: Path) -> set[str]:
    with open_store(db, create=False) as store:
        return set(store.read_flow_data().items["item_id"])


def _snapshot(db: Path):
    with open_store(db, create=False) as store:
        data = store.read_flow_data()
    events = data.events.sort_values(["item_id", "changed_at", "seq"]).reset_index(drop=True)
    return sorted(data.items["item_id"]), events


# ---- GitHub ---------------------------------------------------------------------------------

ISSUES = 25


@pytest.fixture
def github(tmp_path):
    need_schema()
    with FakeGithub() as server:
        repo = server.add_repo(FakeRepo(owner="acme", name="web"))
        for n in range(1, ISSUES + 1):
            day, hour = divmod(n, 24)
            repo.add(
                FakeItem(
                    n,
                    f"Issue {n}",
                    f"2026-03-{day + 1:02d}T{hour:02d}:00:00Z",
                    timeline=[
                        {
                            "__typename": "ClosedEvent",
                            "createdAt": f"2026-03-{day + 1:02d}T{hour:02d}:30:00Z",
                        }
                    ],
                )
            )
        yield server


def _github_config(folder: Path, fake: FakeGithub, items: str = "issues") -> Path:
    path = folder / "flowdeck.toml"
    path.write_text(
        WORKFLOW
        + f"""
[[sources]]
name = "web"
kind = "github"
repo = "acme/web"
api_url = "{fake.url}"
items = "{items}"
page_size = 5
retries = 1
backoff = 0.01
timeout = 10
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("items", ["issues", "both"])
def test_a_github_first_sync_that_dies_resumes_where_it_stopped(github, tmp_path, items, db):
    # `db` on each engine; the uninterrupted sync it is compared with goes to SQLite.
    config = load_config(_github_config(tmp_path, github, items))
    secrets = {"GITHUB_TOKEN": TOKEN}

    # 25 issues, 5 a page: pages 1-3 answer, then GitHub keeps failing (the one retry too).
    github.fail_next("bad_gateway", times=4, after=3)
    (failed,) = sync_sources(config, db, secrets=secrets, checkpoint_every=2)
    assert not failed.ok and "502" in failed.error
    # The checkpoint after page 2 holds issues 1-10 and the cursor at #10's update; page 3 was
    # staged but not checkpointed, so it is not in the store.
    assert _items(db) == {f"github:acme/web#{n}" for n in range(1, 11)}
    with open_store(db) as store:
        cursor = store.source_cursor("web")
        assert store.sources_status().set_index("name").loc["web", "last_result"] == "failed"
    assert cursor == "2026-03-01T10:30:00Z"  # updatedAt: its last timeline event

    github.failures.clear()
    github.reset_counts()
    (resumed,) = sync_sources(config, db, secrets=secrets, checkpoint_every=2)
    assert resumed.ok, resumed.error
    # From #10 (the closed range re-reads the boundary) to #25: 16 issues, 4 pages, where a
    # sync from zero makes 5. (With `both`, the empty list of pull requests, read to its end on
    # the first page, did not hold the cursor back.)
    assert len(github.requests) == 4
    assert github.graphql_variables[0]["since"] == cursor
    assert _items(db) == {f"github:acme/web#{n}" for n in range(1, ISSUES + 1)}

    # The resumed store holds exactly what one uninterrupted sync stores.
    clean = tmp_path / "clean.db"
    (whole,) = sync_sources(config, clean, secrets=secrets, checkpoint_every=2)
    assert whole.ok
    (ids, events), (clean_ids, clean_events) = _snapshot(db), _snapshot(clean)
    assert ids == clean_ids
    assert events.equals(clean_events)
    with open_store(db) as store, open_store(clean) as other:
        assert store.source_cursor("web") == other.source_cursor("web")
        assert store.sources_status()["last_result"].tolist() == ["ok"]


def test_an_uninterrupted_sync_with_checkpoints_counts_every_row_once(github, tmp_path):
    config = load_config(_github_config(tmp_path, github))
    secrets = {"GITHUB_TOKEN": TOKEN}
    (checkpointed,) = sync_sources(config, tmp_path / "a.db", secrets=secrets, checkpoint_every=1)
    (single,) = sync_sources(config, tmp_path / "b.db", secrets=secrets, checkpoint_every=0)
    assert checkpointed.ok and single.ok
    assert checkpointed.counts == single.counts
    assert checkpointed.counts.items.added == ISSUES
    assert _snapshot(tmp_path / "a.db")[1].equals(_snapshot(tmp_path / "b.db")[1])


def test_a_full_resync_that_dies_keeps_the_stored_cursor_and_removes_nothing(github, tmp_path, db):
    config = load_config(_github_config(tmp_path, github))
    secrets = {"GITHUB_TOKEN": TOKEN}
    assert sync_sources(config, db, secrets=secrets)[0].ok
    with open_store(db) as store:
        cursor = store.source_cursor("web")
    del github.repos["acme/web"].items[25]  # gone from GitHub: only a complete --full removes it

    github.fail_next("bad_gateway", times=4, after=3)
    (failed,) = sync_sources(config, db, full=True, secrets=secrets, checkpoint_every=2)
    assert not failed.ok
    with open_store(db) as store:
        assert store.source_cursor("web") == cursor  # its chunks' cursors lie before it
    assert len(_items(db)) == ISSUES

    github.failures.clear()
    (done,) = sync_sources(config, db, full=True, secrets=secrets, checkpoint_every=2)
    assert done.ok and done.counts.items.removed == 1
    assert _items(db) == {f"github:acme/web#{n}" for n in range(1, ISSUES)}


# ---- Jira -----------------------------------------------------------------------------------


def _jira_config(folder: Path, fake) -> Path:
    path = folder / "flowdeck.toml"
    path.write_text(
        WORKFLOW
        + f"""
[[sources]]
name = "abc"
kind = "jira"
url = "{fake.url}"
jql = "project = ABC"
retries = 1
retry_wait = 0.01
max_retry_wait = 0.05
timeout = 10
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("mode", ["cloud", "datacenter"])
def test_a_jira_first_sync_that_dies_resumes_where_it_stopped(tmp_path, monkeypatch, mode):
    from connectors.jira import fetch as jira_fetch
    from tests.fake_jira import FakeJira, world_from_flow
    from tests.fake_jira.flows import small_flow

    monkeypatch.setattr(jira_fetch, "BULK_LIMIT", 2)  # a chunk per page of two
    world = world_from_flow(small_flow())
    created = sorted(world.issues.values(), key=lambda i: (i.created, i.key))
    with FakeJira(world, mode=mode, page_cap=2) as fake:
        config = load_config(_jira_config(tmp_path, fake))
        db = tmp_path / "flowdeck.db"
        fake.fail("/search", 503, times=2, after=2)  # the third page fails, and its one retry
        (failed,) = sync_sources(config, db, secrets=fake.secrets, checkpoint_every=1)
        assert not failed.ok and "503" in failed.error
        # The first sync reads in order of creation: the four oldest issues were checkpointed,
        # with what their releases shipped.
        assert _items(db) == {f"jira:{i.key}" for i in created[:4]}
        with open_store(db) as store:
            cursor = store.source_cursor("abc")
            shipped = store.read_flow_data().shipped
        assert '"created"' in cursor and '"started"' in cursor
        assert set(shipped["item_id"]) <= {f"jira:{i.key}" for i in created[:4]}
        assert not shipped.empty

        fake.reset_counts()
        (resumed,) = sync_sources(config, db, secrets=fake.secrets, checkpoint_every=1)
        assert resumed.ok, resumed.error
        # One page: the fifth issue and the fourth again (the boundary); from zero it takes 3.
        assert fake.count("/search") == 1
        assert _items(db) == {f"jira:{i.key}" for i in created}
        with open_store(db) as store:
            assert not store.source_cursor("abc").startswith("{")  # a time again

        clean = tmp_path / "clean.db"
        assert sync_sources(config, clean, secrets=fake.secrets, checkpoint_every=1)[0].ok
    (ids, events), (clean_ids, clean_events) = _snapshot(db), _snapshot(clean)
    assert ids == clean_ids
    assert events.equals(clean_events)
    with open_store(db) as store, open_store(clean) as other:
        a, b = store.read_flow_data(), other.read_flow_data()
    for name in ("deployments", "shipped"):
        left = getattr(a, name).sort_values(list(getattr(a, name).columns[:2]))
        right = getattr(b, name).sort_values(list(getattr(b, name).columns[:2]))
        assert left.reset_index(drop=True).equals(right.reset_index(drop=True))


def test_issues_and_pull_requests_resume_from_the_older_of_their_marks(tmp_path):
    need_schema()
    with FakeGithub() as server:
        repo = server.add_repo(FakeRepo(owner="acme", name="web"))
        # Issues updated early in March, pull requests spread over the month: after two pages
        # the pull requests' mark is far ahead of the issues', and the cursor must take the
        # issues' (an older one would re-read, a newer one would lose issues).
        for n in range(1, 16):
            repo.add(FakeItem(n, f"Issue {n}", f"2026-03-01T{n:02d}:00:00Z"))
        for n in range(16, 31):
            repo.add(FakeItem(n, f"PR {n}", f"2026-03-{n - 14:02d}T09:00:00Z", is_pull=True))
        config = load_config(_github_config(tmp_path, server, "both"))
        db = tmp_path / "flowdeck.db"
        secrets = {"GITHUB_TOKEN": TOKEN}

        server.fail_next("bad_gateway", times=4, after=2)
        (failed,) = sync_sources(config, db, secrets=secrets, checkpoint_every=2)
        assert not failed.ok
        with open_store(db) as store:
            cursor = store.source_cursor("web")
        # two pages: issues 1-10 and pull requests 16-25, read oldest first
        assert _items(db) == {f"github:acme/web#{n}" for n in [*range(1, 11), *range(16, 26)]}
        assert cursor == "2026-03-01T10:00:00Z"  # issue #10's; pull request #25's is the 11th

        server.failures.clear()
        (resumed,) = sync_sources(config, db, secrets=secrets, checkpoint_every=2)
        assert resumed.ok, resumed.error
        assert _items(db) == {f"github:acme/web#{n}" for n in range(1, 31)}
        clean = tmp_path / "clean.db"
        assert sync_sources(config, clean, secrets=secrets, checkpoint_every=2)[0].ok
    assert _snapshot(db)[1].equals(_snapshot(clean)[1])


def test_a_resumed_jira_sync_also_reads_what_changed_since_the_stopped_one_began(
    tmp_path, monkeypatch
):
    from connectors.jira import fetch as jira_fetch
    from tests.fake_jira import FakeJira, world_from_flow
    from tests.fake_jira.flows import small_flow
    from tests.fake_jira.world import flag_item

    monkeypatch.setattr(jira_fetch, "BULK_LIMIT", 2)
    world = world_from_flow(small_flow())
    created = sorted(world.issues.values(), key=lambda i: (i.created, i.key))
    with FakeJira(world, mode="cloud", page_cap=2) as fake:
        fake.now = pd.Timestamp("2024-03-01T12:00", tz="UTC")
        config = load_config(_jira_config(tmp_path, fake))
        db = tmp_path / "flowdeck.db"
        fake.fail("/search", 503, times=2, after=2)
        assert not sync_sources(config, db, secrets=fake.secrets, checkpoint_every=1)[0].ok
        # The oldest issue, already checkpointed, is flagged after the stopped sync began.
        oldest = created[0]
        world.add_history(oldest, pd.Timestamp("2024-03-01T12:30", tz="UTC"), [flag_item(True)])
        oldest.flagged = True
        fake.now = pd.Timestamp("2024-03-02T12:00", tz="UTC")
        (resumed,) = sync_sources(config, db, secrets=fake.secrets, checkpoint_every=1)
        assert resumed.ok, resumed.error
        with open_store(db) as store:
            events = store.read_flow_data().events
            assert store.source_cursor("abc") == "2024-03-02T12:00:00+00:00"
    assert _items(db) == {f"jira:{i.key}" for i in created}
    mine = events[events["item_id"] == f"jira:{oldest.key}"]
    assert "blocked" in set(mine["event"])


# ---- incremental syncs ----------------------------------------------------------------------


def _reopen(item: FakeItem, at: str) -> None:
    item.timeline.append({"__typename": "ReopenedEvent", "createdAt": at})
    item.touch()


@pytest.mark.parametrize("items", ["issues", "both"])
def test_a_github_incremental_sync_that_dies_resumes_where_it_stopped(github, tmp_path, items, db):
    config = load_config(_github_config(tmp_path, github, items))
    secrets = {"GITHUB_TOKEN": TOKEN}
    repo = github.repos["acme/web"]
    for n in range(26, 30):
        repo.add(FakeItem(n, f"PR {n}", f"2026-03-05T0{n - 26}:00:00Z", is_pull=True))
    clean = tmp_path / "clean.db"
    for store in (db, clean):
        assert sync_sources(config, store, secrets=secrets, checkpoint_every=2)[0].ok
    with open_store(db) as store:
        first_cursor = store.source_cursor("web")

    # After the first sync, 20 issues are reopened (one an hour) and, with `both`, two pull
    # requests: pull requests are read newest first down to the cursor, all on the first page,
    # after which the issues, read oldest first, alone hold the cursor.
    for n in range(3, 23):
        _reopen(repo.items[n], f"2026-04-01T{n:02d}:00:00Z")
    for n in (27, 28):
        _reopen(repo.items[n], f"2026-04-02T{n - 20:02d}:00:00Z")
    changed = sorted(
        i.updated_at for i in repo.items.values() if not i.is_pull and i.updated_at >= first_cursor
    )
    assert len(changed) in (20, 21)  # 21 with the issue at the boundary, read again

    github.reset_counts()
    github.fail_next("bad_gateway", times=4, after=3)  # pages 1-3 answer, then GitHub fails
    (failed,) = sync_sources(config, db, secrets=secrets, checkpoint_every=2)
    assert not failed.ok and "502" in failed.error
    with open_store(db) as store:
        cursor = store.source_cursor("web")
        events = store.read_flow_data().events
    # The checkpoint after page 2 moved the cursor to the 10th changed issue's update, and holds
    # the reopenings of the issues read up to it.
    assert cursor == changed[9]
    issue_ids = {i.updated_at: f"github:acme/web#{n}" for n, i in repo.items.items()}
    april = events[events["changed_at"] >= pd.Timestamp("2026-04-01", tz="UTC")]
    assert set(april["item_id"]) & {issue_ids[u] for u in changed} == {
        issue_ids[u] for u in changed[:10] if u >= "2026-04"
    }
    github.failures.clear()
    github.reset_counts()
    (resumed,) = sync_sources(config, db, secrets=secrets, checkpoint_every=2)
    assert resumed.ok, resumed.error
    resumed_requests = len(github.requests)
    assert github.graphql_variables[0]["since"] == cursor

    github.reset_counts()
    (whole,) = sync_sources(config, clean, secrets=secrets, checkpoint_every=2)
    assert whole.ok, whole.error
    assert github.graphql_variables[0]["since"] == first_cursor
    # From the 10th changed issue (read again at the boundary) on, 5 a page: 3 pages where an
    # uninterrupted incremental sync makes 5 (4 with `both`).
    pages = (-(-(len(changed) - 9) // 5), -(-len(changed) // 5))
    assert (resumed_requests, len(github.requests)) == pages
    assert pages[0] < pages[1]
    (ids, events), (clean_ids, clean_events) = _snapshot(db), _snapshot(clean)
    assert ids == clean_ids
    assert events.equals(clean_events)
    with open_store(db) as store, open_store(clean) as other:
        assert store.source_cursor("web") == other.source_cursor("web")
        assert store.sources_status()["last_result"].tolist() == ["ok"]


@pytest.mark.parametrize("mode", ["cloud", "datacenter"])
def test_a_jira_incremental_sync_that_dies_resumes_where_it_stopped(tmp_path, monkeypatch, mode):
    import json

    from connectors.jira import fetch as jira_fetch
    from tests.fake_jira import FakeJira, world_from_flow
    from tests.fake_jira.flows import small_flow
    from tests.fake_jira.world import status_item

    monkeypatch.setattr(jira_fetch, "BULK_LIMIT", 2)  # a chunk per page of two
    world = world_from_flow(small_flow())
    created = sorted(world.issues.values(), key=lambda i: (i.created, i.key))
    with FakeJira(world, mode=mode, page_cap=2) as fake:
        fake.now = pd.Timestamp("2024-02-01T12:00", tz="UTC")
        config = load_config(_jira_config(tmp_path, fake))
        db, clean = tmp_path / "flowdeck.db", tmp_path / "clean.db"
        for store in (db, clean):
            assert sync_sources(config, store, secrets=fake.secrets, checkpoint_every=1)[0].ok
        with open_store(db) as store:
            first_cursor = store.source_cursor("abc")
        assert first_cursor == "2024-02-01T12:00:00+00:00"

        # Every issue moves on after the first sync (one an hour): the incremental sync reads
        # all five again, two a page.
        for n, issue in enumerate(created):
            at = pd.Timestamp("2024-02-02T09:00", tz="UTC") + pd.Timedelta(hours=n)
            world.add_history(issue, at, [status_item(world, issue.status, "Reopened")])
            issue.status = "Reopened"
        fake.now = pd.Timestamp("2024-02-03T12:00", tz="UTC")
        fake.reset_counts()
        fake.fail("/search", 503, times=2, after=1)  # the second page fails, and its one retry
        (failed,) = sync_sources(config, db, secrets=fake.secrets, checkpoint_every=1)
        assert not failed.ok and "503" in failed.error
        # The checkpoint after the first page holds the two oldest issues' change and a resume
        # point: of the issues updated since the first sync, all created up to the second
        # oldest have been read, as they were when the stopped sync began.
        with open_store(db) as store:
            cursor = json.loads(store.source_cursor("abc"))
            events = store.read_flow_data().events
        assert cursor == {
            "created": created[1].created.isoformat(),
            "since": first_cursor,
            "started": "2024-02-03T12:00:00+00:00",
        }
        reopened = set(events.loc[events["status"].eq("Reopened"), "item_id"])
        assert reopened == {f"jira:{i.key}" for i in created[:2]}

        fake.reset_counts()
        (resumed,) = sync_sources(config, db, secrets=fake.secrets, checkpoint_every=1)
        assert resumed.ok, resumed.error
        resumed_searches, (jql, *_) = fake.count("/search"), fake.jqls
        fake.reset_counts()
        (whole,) = sync_sources(config, clean, secrets=fake.secrets, checkpoint_every=1)
        assert whole.ok, whole.error
        # The resumed sync asks for the issues updated since the first sync and created since
        # the checkpoint (the second oldest again, at the boundary), or changed since the
        # stopped sync began: 4 issues, 2 pages, where the uninterrupted sync reads 3.
        assert "created >=" in jql and jql.count("updated >=") == 2, jql
        assert (resumed_searches, fake.count("/search")) == (2, 3)
    (ids, events), (clean_ids, clean_events) = _snapshot(db), _snapshot(clean)
    assert ids == clean_ids
    assert events.equals(clean_events)
    with open_store(db) as store, open_store(clean) as other:
        assert (
            store.source_cursor("abc") == other.source_cursor("abc") == "2024-02-03T12:00:00+00:00"
        )
        a, b = store.read_flow_data(), other.read_flow_data()
    for name in ("deployments", "shipped"):
        left = getattr(a, name).sort_values(list(getattr(a, name).columns[:2]))
        right = getattr(b, name).sort_values(list(getattr(b, name).columns[:2]))
        assert left.reset_index(drop=True).equals(right.reset_index(drop=True))
