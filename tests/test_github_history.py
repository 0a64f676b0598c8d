"""How each `status_from` mode turns a GitHub timeline into raw status history, read through the
fake GitHub with hand-built issues and pull requests (small, exact expectations)."""

from __future__ import annotations

import pytest

from tests.fake_github import FakeGithub, FakeItem, FakeProject, FakeRepo
from tests.fake_github.harness import need_schema, settings_for, sync


@pytest.fixture
def fake():
    need_schema()
    with FakeGithub() as server:
        yield server


def ev(kind: str, at: str, **fields) -> dict:
    return {"__typename": kind, "createdAt": f"2026-03-{at}Z", **fields}


def label(kind: str, at: str, name: str) -> dict:
    return ev(kind, at, label={"name": name})


def moved(at: str, previous: str, status: str) -> dict:
    return ev(
        "ProjectV2ItemStatusChangedEvent", at, previousStatus=previous, status=status, project=True
    )


def t(at: str) -> str:
    return f"2026-03-{at}Z"


def board_repo() -> FakeRepo:
    repo = FakeRepo(owner="acme", name="web")
    repo.project = FakeProject(number=3, owner="acme", options=["Todo", "Doing", "Done"])
    return repo


def test_project_status_history_with_snapshot_fallback_for_a_missing_event(fake):
    repo = fake.add_repo(board_repo())
    # 1: complete history
    repo.add(
        FakeItem(
            1,
            "Complete",
            t("02T09:00:00"),
            on_board=True,
            board_added_at=t("02T09:00:00"),
            board_status="Done",
            board_status_set_at=t("05T10:00:00"),
            timeline=[
                ev("AddedToProjectV2Event", "02T09:00:00", project=True),
                moved("02T09:00:00", "", "Todo"),
                moved("03T10:00:00", "Todo", "Doing"),
                moved("05T10:00:00", "Doing", "Done"),
            ],
        )
    )
    # 2: GitHub wrote no event for the move to Done: the snapshot gives it, at the time the
    # Status value was set
    repo.add(
        FakeItem(
            2,
            "Missing event",
            t("02T09:00:00"),
            on_board=True,
            board_added_at=t("02T09:00:00"),
            board_status="Done",
            board_status_set_at=t("06T16:00:00"),
            timeline=[
                ev("AddedToProjectV2Event", "02T09:00:00", project=True),
                moved("02T09:00:00", "", "Todo"),
                moved("03T10:00:00", "Todo", "Doing"),
            ],
        )
    )
    # 3: added straight into a column: no change event at all
    repo.add(
        FakeItem(
            3,
            "Added in a column",
            t("04T08:00:00"),
            on_board=True,
            board_added_at=t("04T08:00:00"),
            board_status="Doing",
            board_status_set_at=t("04T08:00:00"),
            timeline=[ev("AddedToProjectV2Event", "04T08:00:00", project=True)],
        )
    )
    # 4: never on the board: not an item of this source
    repo.add(FakeItem(4, "Elsewhere", t("04T08:00:00")))
    # 5: taken off the board; 6: Status cleared
    repo.add(
        FakeItem(
            5,
            "Removed",
            t("02T09:00:00"),
            timeline=[
                ev("AddedToProjectV2Event", "02T09:00:00", project=True),
                moved("02T09:00:00", "", "Todo"),
                ev("RemovedFromProjectV2Event", "07T09:00:00", project=True),
            ],
        )
    )
    repo.add(
        FakeItem(
            6,
            "Cleared",
            t("02T09:00:00"),
            on_board=True,
            board_added_at=t("02T09:00:00"),
            board_status=None,
            board_status_set_at=t("03T09:00:00"),
            timeline=[
                ev("AddedToProjectV2Event", "02T09:00:00", project=True),
                moved("02T09:00:00", "", "Todo"),
                moved("03T09:00:00", "Todo", ""),
            ],
        )
    )
    # 7: an event in the middle is missing (Doing -> Done is not there)
    repo.add(
        FakeItem(
            7,
            "Gap",
            t("02T09:00:00"),
            on_board=True,
            board_added_at=t("02T09:00:00"),
            board_status="Todo",
            board_status_set_at=t("08T09:00:00"),
            timeline=[
                ev("AddedToProjectV2Event", "02T09:00:00", project=True),
                moved("02T09:00:00", "", "Doing"),
                moved("08T09:00:00", "Done", "Todo"),
            ],
        )
    )
    settings = settings_for(fake, status_from="project", project=3)

    result = sync(fake, settings)

    assert result.history(1) == [
        (t("02T09:00:00"), "status", "Todo"),
        (t("03T10:00:00"), "status", "Doing"),
        (t("05T10:00:00"), "status", "Done"),
    ]
    assert result.history(2)[-1] == (t("06T16:00:00"), "status", "Done")
    assert result.history(3) == [(t("04T08:00:00"), "status", "Doing")]
    assert "github:acme/web#4" not in set(result.items["item_id"])
    assert result.history(5)[-1] == (t("07T09:00:00"), "status", "Removed from project")
    assert result.history(6)[-1] == (t("03T09:00:00"), "status", "No Status")
    assert [h[2] for h in result.history(7)] == ["Doing", "Todo"]
    assert result.quality["status_snapshot_fallback"] == 2  # items 2 and 3
    assert result.quality["incomplete_timeline"] == 1  # item 7

    # the fallback is stable: a re-sync reports the same instant, not the sync time
    again = sync(fake, settings)
    assert again.history(2) == result.history(2)


def test_labels_mode_history(fake):
    repo = fake.add_repo(FakeRepo(owner="acme", name="web"))
    repo.add(
        FakeItem(
            1,
            "Swaps both ways",
            t("02T09:00:00"),
            labels=["status: Review", "bug"],
            timeline=[
                label("LabeledEvent", "02T09:00:00", "status: Ready"),
                # remove first, then add
                label("UnlabeledEvent", "03T09:00:00", "status: Ready"),
                label("LabeledEvent", "03T09:00:05", "status: Doing"),
                # add first, then remove
                label("LabeledEvent", "04T09:00:00", "status: Review"),
                label("UnlabeledEvent", "04T09:00:01", "status: Doing"),
                label("LabeledEvent", "04T10:00:00", "Blocked"),
                label("LabeledEvent", "04T11:00:00", "needs-info"),
                label("UnlabeledEvent", "05T10:00:00", "Blocked"),
                label("UnlabeledEvent", "05T11:00:00", "needs-info"),
                ev("ClosedEvent", "06T09:00:00"),
                ev("ReopenedEvent", "07T09:00:00"),
            ],
        )
    )
    settings = settings_for(
        fake,
        status_from="labels",
        blocked_labels=["blocked", "needs-info"],
        type_labels={"bug": "Bug"},
    )

    result = sync(fake, settings)

    assert result.history(1) == [
        (t("02T09:00:00"), "status", "Open"),
        (t("02T09:00:00"), "status", "Ready"),
        (t("03T09:00:05"), "status", "Doing"),
        (t("04T09:00:00"), "status", "Review"),
        (t("04T10:00:00"), "blocked", ""),
        (t("05T11:00:00"), "unblocked", ""),
        (t("06T09:00:00"), "status", "Closed"),
        (t("07T09:00:00"), "status", "Review"),
    ]
    row = result.items.iloc[0]
    assert row["type"] == "Bug"
    assert row["labels"] == "status: Review;bug"
    assert row["url"] == "https://github.com/acme/web/issues/1"


def test_a_blocked_label_with_a_reason_blocks_and_names_the_reason(fake):
    repo = fake.add_repo(FakeRepo(owner="acme", name="web"))
    repo.add(
        FakeItem(
            1,
            "Waits on a vendor",
            t("02T09:00:00"),
            labels=["status: Doing"],
            timeline=[
                label("LabeledEvent", "02T09:00:00", "status: Doing"),
                label("LabeledEvent", "03T09:00:00", "Blocked: Vendor API"),
                label("LabeledEvent", "03T10:00:00", "blocked"),  # a second blocker: same spell
                label("UnlabeledEvent", "04T09:00:00", "Blocked: Vendor API"),
                label("UnlabeledEvent", "04T10:00:00", "blocked"),
                label("LabeledEvent", "05T09:00:00", "blockedish"),  # not a blocked label
                label("LabeledEvent", "06T09:00:00", "blocked"),
            ],
        )
    )
    settings = settings_for(fake, status_from="labels", blocked_labels=["blocked"])

    result = sync(fake, settings)

    assert result.history(1) == [
        (t("02T09:00:00"), "status", "Open"),
        (t("02T09:00:00"), "status", "Doing"),
        (t("03T09:00:00"), "blocked", "Vendor API"),
        (t("04T10:00:00"), "unblocked", ""),
        (t("06T09:00:00"), "blocked", ""),
    ]


def test_state_mode_issues_and_pull_requests(fake):
    repo = fake.add_repo(FakeRepo(owner="acme", name="web"))
    repo.add(
        FakeItem(
            1,
            "Assigned, closed, reopened",
            t("02T09:00:00"),
            closed_at=t("08T09:00:00"),
            timeline=[
                ev("AssignedEvent", "03T09:00:00"),
                ev("AssignedEvent", "03T10:00:00"),
                ev("ClosedEvent", "05T09:00:00"),
                ev("ReopenedEvent", "06T09:00:00"),
                ev("ClosedEvent", "08T09:00:00"),
            ],
        )
    )
    repo.add(
        FakeItem(
            2,
            "Started by a linked pull request",
            t("02T09:00:00"),
            timeline=[
                ev(
                    "CrossReferencedEvent",
                    "03T09:00:00",
                    willCloseTarget=False,
                    source={"__typename": "Issue"},
                ),
                ev(
                    "CrossReferencedEvent",
                    "04T09:00:00",
                    willCloseTarget=True,
                    source={"__typename": "PullRequest"},
                ),
            ],
        )
    )
    repo.add(
        FakeItem(
            3,
            "A pull request",
            t("02T12:00:00"),
            is_pull=True,
            merged_at=t("05T12:00:00"),
            closed_at=t("05T12:00:00"),
            additions=120,
            deletions=30,
            changed_files=4,
            timeline=[
                ev(
                    "PullRequestReview",
                    "03T12:00:00",
                    state="COMMENTED",
                    submittedAt=t("03T12:00:00"),
                ),
                ev(
                    "PullRequestReview",
                    "04T12:00:00",
                    state="APPROVED",
                    submittedAt=t("04T12:00:00"),
                ),
                ev("ClosedEvent", "05T12:00:00"),
            ],
        )
    )
    repo.add(
        FakeItem(
            4,
            "Closed without merging",
            t("02T12:00:00"),
            is_pull=True,
            closed_at=t("03T12:00:00"),
            additions=5,
            deletions=0,
            timeline=[ev("ClosedEvent", "03T12:00:00")],
        )
    )
    settings = settings_for(fake, status_from="state", items="both")

    result = sync(fake, settings)

    assert [(h[0], h[2]) for h in result.history(1)] == [
        (t("02T09:00:00"), "Open"),
        (t("03T09:00:00"), "In progress"),
        (t("05T09:00:00"), "Closed"),
        (t("06T09:00:00"), "In progress"),
        (t("08T09:00:00"), "Closed"),
    ]
    assert [(h[0], h[2]) for h in result.history(2)] == [
        (t("02T09:00:00"), "Open"),
        (t("04T09:00:00"), "In progress"),
    ]
    assert [(h[0], h[2]) for h in result.history(3)] == [
        (t("02T12:00:00"), "Open"),
        (t("03T12:00:00"), "In review"),
        (t("05T12:00:00"), "Merged"),
    ]
    assert [h[2] for h in result.history(4)] == ["Open", "Closed"]
    items = result.items.set_index("item_id")
    assert items.loc["github:acme/web#3", "type"] == "Pull request"
    assert items.loc["github:acme/web#3", "lines_changed"] == 150
    assert items.loc["github:acme/web#3", "url"] == "https://github.com/acme/web/pull/3"
    assert items.loc["github:acme/web#1", "type"] == "Issue"
    assert items["lines_changed"].isna()["github:acme/web#1"]


def test_pulls_are_read_oldest_first_then_newest_first_down_to_the_cursor(fake):
    repo = fake.add_repo(FakeRepo(owner="acme", name="web"))
    for n in range(1, 8):
        repo.add(FakeItem(n, f"PR {n}", t(f"0{n}T09:00:00"), is_pull=True))
    repo.add(FakeItem(20, "An issue", t("05T09:00:00")))
    settings = settings_for(fake, status_from="state", items="pulls", page_size=2)

    first = sync(fake, settings)
    assert sorted(first.items["item_id"]) == [f"github:acme/web#{n}" for n in range(1, 8)]
    # a first sync reads oldest first, so every page moves the cursor (a stop part way resumes)
    assert [c.cursor for c in first.chunks] == [t(f"0{n}T09:00:00") for n in (2, 4, 6, 7)]

    later = sync(fake, settings, since=t("06T09:00:00"))
    assert sorted(later.items["item_id"]) == ["github:acme/web#6", "github:acme/web#7"]
    assert later.requests == 2  # a page of two, then a page that reaches the cursor
    # newest first: until every pull request is read the cursor stays where it was
    assert [c.cursor for c in later.chunks] == [t("06T09:00:00"), t("07T09:00:00")]
