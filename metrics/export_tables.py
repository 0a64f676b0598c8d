"""The export files of spec sections 4 and 8 as frames (pure; writing them is the caller's job).

Timestamps become ISO 8601 UTC texts (`2024-03-01T09:00:00Z`), days `YYYY-MM-DD` local dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.days import local_days
from metrics.report import FlowReport
from metrics.workflow import Workflow

ITEMS_COLUMNS = [
    "item_id", "title", "type", "stage", "started_at", "done_at", "cycle_time_days",
    "cycle_time_hours", "age_days", "blocked_days", "flow_efficiency",
    "pace", "blocked_now", "labels", "url", "likely_done_by_85",
]  # fmt: skip
DEPLOYMENTS_COLUMNS = [
    "deploy_id", "deployed_at", "environment", "status", "batch_size",
    "version", "explicit_items", "restore_hours",
]  # fmt: skip
EXPORT_FILES = (
    "items.csv", "daily.csv", "cfd.csv", "stage_times.csv", "deployments.csv",
    "summary.csv", "actionable_agile.csv", "pull_requests.csv",
)  # fmt: skip


def utc_text(times: pd.Series) -> pd.Series:
    return times.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    return out


def items_table(report: FlowReport) -> pd.DataFrame:
    facts = report.items.reset_index()
    out = facts.assign(
        started_at=utc_text(facts["started_at"]),
        done_at=utc_text(facts["done_at"]),
        blocked_now=facts["blocked_now"].map({True: "yes", False: "no"}),
        likely_done_by_85=facts["likely_done_by_85"].dt.strftime("%Y-%m-%d").fillna(""),
    )
    return out[ITEMS_COLUMNS]


def actionable_agile_table(report: FlowReport, workflow: Workflow) -> pd.DataFrame:
    """The stage-date layout (spec 1.2): per stage, the local date the item last entered it;
    empty for stages it never reached and for stages beyond where it is now (moved back)."""
    facts = report.items
    iv = report.intervals[report.intervals["position"] >= 0]
    current = facts["position"].astype("float64")
    iv = iv[iv["position"].to_numpy() <= current.reindex(iv["item_id"]).fillna(np.inf).to_numpy()]
    last_entry = iv.groupby(["item_id", "position"])["entered"].max().reset_index()
    last_entry["day"] = local_days(last_entry["entered"], workflow.timezone).dt.strftime("%Y-%m-%d")
    dates = (
        last_entry.pivot(index="item_id", columns="position", values="day")
        .reindex(index=facts.index, columns=range(len(workflow.stages)))
        .fillna("")
    )
    dates.columns = workflow.stage_names
    out = pd.DataFrame({"ID": facts.index, "Link": facts["url"], "Name": facts["title"]})
    out = pd.concat([out.reset_index(drop=True), dates.reset_index(drop=True)], axis=1)
    out["Type"] = facts["type"].to_numpy()
    out["Blocked Days"] = facts["blocked_days"].to_numpy()
    return out


def export_tables(report: FlowReport, workflow: Workflow) -> dict[str, pd.DataFrame]:
    """File name -> frame, for every file of `EXPORT_FILES`."""
    deployments = report.deployments.assign(deployed_at=utc_text(report.deployments["deployed_at"]))
    return {
        "items.csv": items_table(report),
        "daily.csv": _dated(report.daily),
        "cfd.csv": _dated(report.cfd),
        "stage_times.csv": report.stage_times.reset_index(),
        "deployments.csv": deployments[DEPLOYMENTS_COLUMNS],
        "summary.csv": report.summary,
        "actionable_agile.csv": actionable_agile_table(report, workflow),
        "pull_requests.csv": pull_requests_table(report),
    }


def pull_requests_table(report: FlowReport) -> pd.DataFrame:
    """`pull_requests.csv` (spec section 8): times as UTC texts, hours as numbers."""
    flow = report.pull_requests
    times = ("opened_at", "first_review_at", "merged_at", "deployed_at")
    return flow.assign(**{c: utc_text(flow[c]) for c in times})
