"""Pull-request flow (spec section 8): where a change waits between its first commit and production.

Connectors emit raw facts per pull request (the `pull_requests` frame of `metrics.frames`):
`created_at`, `ready_at` (when a draft became ready for review), `first_commit_at`,
`first_review_at` (the first review submitted by someone other than the author: the connector
knows the author), `merged_at`. This module derives the four waits:

- coding = opened - first commit, where opened = ready for review (else created);
- pickup = first review - opened (empty with no review);
- review = merged - first review (merged - opened with no review);
- deploy = deployed - merged, deployed = the first successful production deployment that shipped
  it: for a delivered item, the deployment `metrics.delivery.shipped_items` assigns it (none yet
  while it waits to ship), as for batch size and lead time; for a pull request whose item is not
  delivered on the board, the first one at or after its merge.

Exact hours, never negative: a first commit after opening counts 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.days import local_days
from metrics.delivery import is_production

PULL_REQUEST_COLUMNS = [
    "item_id", "opened_at", "first_review_at", "merged_at", "deployed_at",
    "coding_hours", "pickup_hours", "review_hours", "deploy_hours", "lines_changed",
]  # fmt: skip
WAITS = ("coding_hours", "pickup_hours", "review_hours", "deploy_hours")
#: The phase each wait measures, in the words of the Delivery page.
WAIT_NAMES = {
    "coding_hours": "coding",
    "pickup_hours": "waiting for review",
    "review_hours": "in review",
    "deploy_hours": "waiting to deploy",
}


def _hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return ((later - earlier).dt.total_seconds() / 3600).clip(lower=0).round(4)


def pull_request_flow(
    pull_requests: pd.DataFrame,
    deployments: pd.DataFrame,
    items_shipped: pd.DataFrame,
    facts: pd.DataFrame,
) -> pd.DataFrame:
    """One row per merged pull request with the times and waits of spec section 8.

    `pull_requests` the canonical frame; `deployments` the canonical deployments;
    `items_shipped` from `metrics.delivery.shipped_items`; `facts` from
    `metrics.items.item_facts` (index item_id: `done_at`, `lines_changed`).
    Columns: `PULL_REQUEST_COLUMNS` (times UTC, hours floats, empty where unknown), by merge
    time. Empty input -> an empty frame with these columns.
    """
    merged = pull_requests[pull_requests["merged_at"].notna()]
    if merged.empty:
        return _empty_flow()
    merged = merged.drop_duplicates("item_id", keep="last")
    opened = merged["ready_at"].fillna(merged["created_at"])
    review = merged["first_review_at"]
    out = pd.DataFrame(
        {
            "item_id": merged["item_id"].to_numpy(),
            "opened_at": opened.to_numpy(),
            "first_review_at": review.to_numpy(),
            "merged_at": merged["merged_at"].to_numpy(),
        }
    )
    for col in ("opened_at", "first_review_at", "merged_at"):
        out[col] = pd.to_datetime(out[col], utc=True)
    delivered = facts.index[facts["done_at"].notna()]
    out["deployed_at"] = _deployed_at(out, deployments, items_shipped, delivered)
    first_commit = pd.to_datetime(merged["first_commit_at"].to_numpy(), utc=True)
    out["coding_hours"] = _hours(out["opened_at"], pd.Series(first_commit))
    out["pickup_hours"] = _hours(out["first_review_at"], out["opened_at"])
    reviewed_from = out["first_review_at"].fillna(out["opened_at"])
    out["review_hours"] = _hours(out["merged_at"], reviewed_from)
    out["deploy_hours"] = _hours(out["deployed_at"], out["merged_at"])
    out["lines_changed"] = out["item_id"].map(facts["lines_changed"]).astype("Int64")
    return out.sort_values(["merged_at", "item_id"], ignore_index=True)[PULL_REQUEST_COLUMNS]


def _deployed_at(
    prs: pd.DataFrame,
    deployments: pd.DataFrame,
    items_shipped: pd.DataFrame,
    delivered: pd.Index,
) -> pd.Series:
    """The shipping deployment's time: for delivered items the one `shipped_items` gives them
    (NaT while waiting to ship), for others the first successful production deployment at or
    after the merge."""
    by_item = items_shipped.drop_duplicates("item_id").set_index("item_id")["deployed_at"]
    # reindex, not map: mapping onto an empty datetime Series tries a float cast and fails.
    known = pd.Series(by_item.reindex(prs["item_id"].to_numpy()).to_numpy(), index=prs.index)
    board = prs["item_id"].isin(delivered)
    ok = deployments[is_production(deployments) & deployments["status"].eq("success")]
    ok = ok.sort_values("deployed_at")[["deployed_at"]].rename(columns={"deployed_at": "at"})
    ok = ok.astype({"at": "datetime64[ns, UTC]"})
    if ok.empty or board.all():
        return pd.to_datetime(known, utc=True)
    order = prs["merged_at"].sort_values(kind="stable")
    matched = pd.merge_asof(
        pd.DataFrame({"merged_at": order.astype("datetime64[ns, UTC]"), "row": order.index}),
        ok,
        left_on="merged_at",
        right_on="at",
        direction="forward",
    ).set_index("row")["at"]
    by_merge = pd.to_datetime(matched.reindex(prs.index), utc=True)
    return pd.to_datetime(known, utc=True).where(board, by_merge)


def _empty_flow() -> pd.DataFrame:
    utc = "datetime64[ns, UTC]"
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in PULL_REQUEST_COLUMNS})
    out = out.astype({c: utc for c in ("opened_at", "first_review_at", "merged_at",
                                        "deployed_at")})  # fmt: skip
    return out.astype({"item_id": object, "lines_changed": "Int64"})


def weekly_waits(flow: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """The median of each wait over the pull requests merged in each week (weeks start on
    Monday, local days). Index `week`; columns `WAITS` and `pull_requests` (how many merged).
    Empty input -> an empty frame with these columns."""
    day = local_days(flow["merged_at"], timezone)
    week = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    grouped = flow.assign(week=week.to_numpy()).groupby("week")
    out = grouped[list(WAITS)].median()
    out["pull_requests"] = grouped.size()
    return out.rename_axis("week")


def slowest(flow: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The `n` pull requests with the longest first commit (or opening) to production (or
    merge), with `total_hours` and `longest_wait` (the phase they waited longest in).
    Columns: `PULL_REQUEST_COLUMNS` + `total_hours`, `longest_wait`; longest first."""
    if flow.empty:
        return flow.assign(total_hours=pd.Series(dtype="float64"), longest_wait="")
    waits = flow[list(WAITS)].astype("float64")
    total = waits.sum(axis=1, min_count=1)
    longest = waits.fillna(-1).to_numpy().argmax(axis=1)
    named = np.array([WAIT_NAMES[w] for w in WAITS], dtype=object)[longest]
    out = flow.assign(total_hours=total.round(4), longest_wait=named)
    return out.sort_values(["total_hours", "item_id"], ascending=[False, True]).head(n)
