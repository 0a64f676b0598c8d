"""Pull-request flow through the real PyGithub client and the fake GitHub (spec section 8): the
first commit, ready for review, the first review by someone other than the author, within the
request budget."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from connectors.demo import demo_flow_data
from metrics.frames import FlowData, empty_pull_requests
from tests.fake_github import FakeGithub, repo_from_flow_data
from tests.fake_github.harness import need_schema, settings_for, sync
from tests.fake_github.world import FakeItem, FakeRepo


@pytest.fixture
def fake():
    need_schema()
    with FakeGithub() as server:
        yield server


def review(at: str, state: str, login: str) -> dict:
    return {"__typename": "PullRequestReview", "createdAt": at, "submittedAt": at,
            "state": state, "author": {"__typename": "User", "login": login}}  # fmt: skip


def test_a_draft_its_own_authors_review_a_pending_review_and_a_colleagues(fake):
    repo = fake.add_repo(FakeRepo(owner="acme", name="web"))
    item = FakeItem(
        5,
        "Faster checkout",
        "2024-06-03T10:00:00Z",
        is_pull=True,
        author="Ana",
        first_commit_at="2024-06-03T08:00:00Z",
        merged_at="2024-06-05T16:00:00Z",
        timeline=[
            {"__typename": "ReadyForReviewEvent", "createdAt": "2024-06-04T09:00:00Z"},
            review("2024-06-04T09:30:00Z", "COMMENTED", "ana"),  # the author: not a review
            review("2024-06-04T10:00:00Z", "PENDING", "bo"),  # not submitted
            review("2024-06-04T12:00:00Z", "CHANGES_REQUESTED", "bo"),
            review("2024-06-05T09:00:00Z", "APPROVED", "cy"),
        ],
    )
    item.touch()
    repo.add(item)
    plain = FakeItem(6, "No review", "2024-06-03T11:00:00Z", is_pull=True,
                     merged_at="2024-06-03T15:00:00Z")  # fmt: skip
    repo.add(plain)
    settings = settings_for(fake, status_from="state", items="pulls")

    result = sync(fake, settings)

    prs = result.pull_requests.set_index("item_id")
    five = prs.loc["github:acme/web#5"]
    assert five["created_at"] == pd.Timestamp("2024-06-03T10:00:00Z")
    assert five["ready_at"] == pd.Timestamp("2024-06-04T09:00:00Z")
    assert five["first_commit_at"] == pd.Timestamp("2024-06-03T08:00:00Z")
    assert five["first_review_at"] == pd.Timestamp("2024-06-04T12:00:00Z")
    assert five["merged_at"] == pd.Timestamp("2024-06-05T16:00:00Z")
    six = prs.loc["github:acme/web#6"]
    assert pd.isna(six["ready_at"]) and pd.isna(six["first_commit_at"])
    assert pd.isna(six["first_review_at"]) and six["merged_at"] == pd.Timestamp(
        "2024-06-03T15:00:00Z"
    )


def _demo_pulls(n: int) -> tuple[FlowData, list[str]]:
    data = demo_flow_data()
    ids = list(data.pull_requests["item_id"].iloc[:n])
    keep = data.items["item_id"].isin(ids)
    return (
        FlowData(
            items=data.items[keep],
            events=data.events[data.events["item_id"].isin(ids)],
            deployments=data.deployments,
            shipped=data.shipped[data.shipped["item_id"].isin(ids)],
            pull_requests=data.pull_requests[data.pull_requests["item_id"].isin(ids)],
        ),
        ids,
    )


def test_the_demos_pull_requests_through_github_within_the_request_budget(fake):
    data, ids = _demo_pulls(300)
    repo, numbers = repo_from_flow_data(data, mode="project", pulls=ids)
    fake.add_repo(repo)
    without = FlowData(items=data.items, events=data.events, deployments=data.deployments,
                       shipped=data.shipped, pull_requests=empty_pull_requests())  # fmt: skip
    bare, _ = repo_from_flow_data(without, name="bare", mode="project", pulls=ids)
    fake.add_repo(bare)
    settings = settings_for(fake, status_from="project", project=3, items="pulls")
    result = sync(fake, settings)
    baseline = sync(fake, settings_for(fake, repo="acme/bare", status_from="project", project=3,
                                       items="pulls"))  # fmt: skip

    print(f"{len(ids)} pull requests: {result.requests} requests, {baseline.requests} without")
    # Today's requests plus at most one page per 100 pull requests.
    assert result.requests <= baseline.requests + math.ceil(len(ids) / 100), (
        result.requests,
        baseline.requests,
    )
    got = result.pull_requests.set_index("item_id")
    assert len(got) == len(ids)
    flow = data.pull_requests.set_index("item_id")
    for item_id in ids:
        mine, want = got.loc[f"github:acme/web#{numbers[item_id]}"], flow.loc[item_id]
        opened = want["ready_at"] if pd.notna(want["ready_at"]) else want["created_at"]
        assert mine["ready_at"] == opened.floor("s")
        assert mine["first_commit_at"] == want["first_commit_at"].floor("s")
        if pd.notna(want["first_review_at"]) and (
            pd.isna(mine["merged_at"]) or want["first_review_at"] < mine["merged_at"]
        ):
            # the colleague's review, never the author's own comment a minute after opening
            assert mine["first_review_at"] == want["first_review_at"].floor("s")
        else:
            assert pd.isna(mine["first_review_at"])


def test_sync_then_export_writes_pull_requests_csv_by_section_8(fake, tmp_path, monkeypatch):
    """`flowdeck sync` of a pulls source into a real store, then `flowdeck export`: every hour
    of pull_requests.csv equals section 8 applied to what the fake GitHub holds."""
    import csv

    from flowdeck.cli import main
    from tests.fake_github import TOKEN

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    data, ids = _demo_pulls(120)
    closed = {"Done": "closed"}
    repo, _ = repo_from_flow_data(
        data, mode="state", pulls=ids, state_of=lambda s: closed.get(s, "open")
    )
    fake.add_repo(repo)
    (tmp_path / "flowdeck.toml").write_text(
        '[workflow]\nstart = "Open"\ndone = "Merged"\n'
        '[[workflow.stages]]\nname = "Open"\n[[workflow.stages]]\nname = "In review"\n'
        '[[workflow.stages]]\nname = "Merged"\n'
        f'[[sources]]\nname = "web"\nkind = "github"\nrepo = "acme/web"\n'
        f'api_url = "{fake.url}"\nitems = "pulls"\nstatus_from = "state"\n'
    )
    assert main(["sync"]) == 0
    assert main(["export", "--out", "out"]) == 0
    with open(tmp_path / "out" / "pull_requests.csv", newline="", encoding="utf-8") as f:
        rows = {r["item_id"]: r for r in csv.DictReader(f)}
    merged = [i for i in repo.items.values() if i.merged_at]
    assert len(rows) == len(merged) > 50

    def hours(later: str, earlier: str):
        exact = max(0.0, (pd.Timestamp(later) - pd.Timestamp(earlier)).total_seconds() / 3600)
        return pytest.approx(exact, abs=1e-4)  # the file holds 4 decimals

    for item in merged:
        row = rows[f"github:acme/web#{item.number}"]
        ready = [e["createdAt"] for e in item.timeline if e["__typename"] == "ReadyForReviewEvent"]
        opened = min(ready) if ready else item.created_at
        reviews = [e["submittedAt"] for e in item.timeline if e["__typename"] ==
                   "PullRequestReview" and e["author"]["login"] != item.author]  # fmt: skip
        assert pd.Timestamp(row["opened_at"]) == pd.Timestamp(opened)
        assert float(row["coding_hours"]) == hours(opened, item.first_commit_at)
        if reviews:
            assert float(row["pickup_hours"]) == hours(min(reviews), opened)
            assert float(row["review_hours"]) == hours(item.merged_at, min(reviews))  # fmt: skip
        else:
            assert row["pickup_hours"] == ""
            assert float(row["review_hours"]) == hours(item.merged_at, opened)
