"""The export files of spec sections 4 and 8 as frames (pure; writing them is the caller's job).

Timestamps become ISO 8601 UTC texts (`2024-03-01T09:00:00Z`), days `YYYY-MM-DD` local dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.days import NAT_NS, local_day_numbers
from metrics.intervals import epoch_ns
from metrics.items import interval_rows
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
    """UTC timestamps -> `2024-03-01T09:00:00Z` texts ("" for NaT), same index."""
    # numpy formats a whole array in C; strftime formats each timestamp with a Python call.
    ns = times.to_numpy(dtype="datetime64[ns]").view("int64")
    out = np.full(len(ns), "", dtype=object)
    valid = ns != NAT_NS
    if valid.any():
        seconds = ns[valid].view("datetime64[ns]").astype("datetime64[s]")
        out[valid] = np.datetime_as_string(seconds, unit="s", timezone="UTC").astype(object)
    return pd.Series(out, index=times.index, name=times.name)


def day_texts(days: pd.Series) -> pd.Series:
    """Naive days (midnight) -> `YYYY-MM-DD` texts ("" for NaT), each distinct day formatted
    once. Same index."""
    codes, uniques = pd.factorize(days)
    texts = np.append(np.asarray(uniques.strftime("%Y-%m-%d"), dtype=object), "")
    return pd.Series(texts[codes], index=days.index, name=days.name)


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
        likely_done_by_85=day_texts(facts["likely_done_by_85"]),
    )
    return out[ITEMS_COLUMNS]


def actionable_agile_table(report: FlowReport, workflow: Workflow) -> pd.DataFrame:
    """The stage-date layout (spec 1.2): per stage, the local date the item last entered it;
    empty for stages it never reached and for stages beyond where it is now (moved back)."""
    facts = report.items
    intervals = report.intervals
    staged = intervals["position"].to_numpy() >= 0
    n_stages = len(workflow.stages)
    # The latest entry per (item, stage) on a grid of int64 nanoseconds, items by position.
    row = interval_rows(facts.index, intervals)[staged]
    position = intervals["position"].to_numpy()[staged]
    # One more slot: an interval of an item without facts (row -1) is never kept.
    current = np.append(facts["position"].astype("float64").fillna(np.inf).to_numpy(), np.inf)
    keep = (row >= 0) & (position <= current[row])
    empty = NAT_NS
    grid = np.full((len(facts), n_stages), empty, dtype="int64")
    np.maximum.at(grid, (row[keep], position[keep]), epoch_ns(intervals["entered"])[staged][keep])
    filled = grid != empty
    texts = np.full(grid.shape, "", dtype=object)
    texts[filled] = _local_day_texts(grid[filled], workflow.timezone)
    dates = pd.DataFrame(texts, index=facts.index)
    dates.columns = workflow.stage_names
    out = pd.DataFrame({"ID": facts.index, "Link": facts["url"], "Name": facts["title"]})
    out = pd.concat([out.reset_index(drop=True), dates.reset_index(drop=True)], axis=1)
    out["Type"] = facts["type"].to_numpy()
    out["Blocked Days"] = facts["blocked_days"].to_numpy()
    return out


def _local_day_texts(ns: np.ndarray, timezone: str) -> np.ndarray:
    """UTC int64 nanoseconds -> the local `YYYY-MM-DD` of each (each day formatted once)."""
    days = local_day_numbers(ns, timezone)
    first = days.min(initial=0)
    span = np.arange(first, days.max(initial=0) + 1).astype("datetime64[D]")
    return np.datetime_as_string(span).astype(object)[days - first]


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
