"""Small hand-built canonical worlds for the Jira tests (the demo world covers volume)."""

from __future__ import annotations

import pandas as pd

from metrics.frames import (
    FlowData,
    conform_deployments,
    conform_events,
    conform_items,
    empty_shipped,
)


def _t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def small_flow() -> FlowData:
    """Five issues: a long history (truncated when embedded), a flag spell with a reason and
    one without, non-English statuses, an issue never moved, and two releases (one shipping two
    issues)."""
    events = []

    def status(item: str, when: str, name: str) -> None:
        events.append({"item_id": item, "changed_at": _t(when), "event": "status", "status": name})

    def flag(item: str, when: str, kind: str, reason: str = "") -> None:
        events.append({"item_id": item, "changed_at": _t(when), "event": kind, "status": reason})

    # ABC-1: 25 transitions back and forth, so its oldest ones fall outside a capped changelog.
    status("ABC-1", "2024-01-02T09:00:00", "Backlog")
    day = pd.Timestamp("2024-01-03T09:00:00", tz="UTC")
    for i in range(12):
        status("ABC-1", str(day + pd.Timedelta(hours=2 * i)), "In Progress")
        status("ABC-1", str(day + pd.Timedelta(hours=2 * i + 1)), "Code Review")
    status("ABC-1", "2024-01-05T10:00:00", "Done")
    # ABC-2: flagged while in progress, with a reason (Jira's flag comment).
    status("ABC-2", "2024-01-02T10:00:00", "To Do")
    status("ABC-2", "2024-01-03T10:00:00", "In Progress")
    flag("ABC-2", "2024-01-04T10:00:00", "blocked", "Waiting on vendor API")
    flag("ABC-2", "2024-01-06T16:30:00", "unblocked")
    status("ABC-2", "2024-01-08T10:00:00", "Done")
    # ABC-3: Chinese statuses (开发中 = in development, 已完成 = done), as in the real samples.
    status("ABC-3", "2024-01-02T11:00:00", "Open")
    status("ABC-3", "2024-01-03T11:00:00", "开发中")
    status("ABC-3", "2024-01-09T11:00:00", "已完成")
    # ABC-4: never moved.
    status("ABC-4", "2024-01-10T08:00:00", "Backlog")
    # ABC-5: in progress, still flagged.
    status("ABC-5", "2024-01-04T08:00:00", "To Do")
    status("ABC-5", "2024-01-11T08:00:00", "In Progress")
    flag("ABC-5", "2024-01-12T08:00:00", "blocked")
    items = conform_items(
        pd.DataFrame(
            {
                "item_id": [f"ABC-{i}" for i in range(1, 6)],
                "title": ["Long one", "Flagged one", "统计图", "Idle", "Still blocked"],
                "type": ["Story", "Bug", "Story", "Chore", "Story"],
                "labels": ["backend;api", "", "frontEnd", "", "blocked"],
            }
        )
    )
    deployments = conform_deployments(
        pd.DataFrame(
            {
                "deploy_id": ["d1", "d2"],
                "deployed_at": [_t("2024-01-06T15:00:00"), _t("2024-01-10T15:00:00")],
                "version": ["v1.0", "v1.1"],
            }
        )
    )
    shipped = pd.DataFrame(
        {"deploy_id": ["d1", "d2", "d2"], "item_id": ["ABC-1", "ABC-2", "ABC-3"]}
    )
    return FlowData(
        items=items,
        events=conform_events(pd.DataFrame(events)),
        deployments=deployments,
        shipped=shipped if len(shipped) else empty_shipped(),
    )


def demo_subset(n: int = 1000, seed: int = 7) -> FlowData:
    """The first `n` items of the project's demo world, with releases shipping the items
    delivered since the previous release (the demo itself names no shipped items)."""
    from connectors.demo import demo_flow_data

    flow = demo_flow_data(seed)
    keep = list(flow.items["item_id"].iloc[:n])
    items = flow.items[flow.items["item_id"].isin(keep)].reset_index(drop=True)
    events = flow.events[flow.events["item_id"].isin(keep)].reset_index(drop=True)
    deployments = flow.deployments[flow.deployments["status"] == "success"].reset_index(drop=True)
    done = events[events["status"] == "Done"].groupby("item_id")["changed_at"].max().sort_values()
    rows = []
    previous = None
    for dep in deployments.sort_values("deployed_at").itertuples(index=False):
        window = done[done <= dep.deployed_at]
        if previous is not None:
            window = window[window > previous]
        rows += [{"deploy_id": dep.deploy_id, "item_id": i} for i in window.index]
        previous = dep.deployed_at
    return FlowData(
        items=items,
        events=events,
        deployments=deployments,
        shipped=pd.DataFrame(rows, columns=["deploy_id", "item_id"]),
    )
