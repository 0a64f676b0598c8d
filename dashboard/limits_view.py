"""The WIP limits page's numbers as plain frames (no Streamlit): per limit, what is in force,
how well it was kept over the report's days, and what the data suggests."""

from __future__ import annotations

import pandas as pd

from metrics.days import local_days
from metrics.limits import (
    TOTAL,
    adherence,
    configured_limits,
    limit_changes_on_days,
    limits_in_force,
    suggested_limits,
    suggestion_sentence,
)
from metrics.report import FlowReport
from metrics.workflow import Workflow

OVERVIEW_COLUMNS = ["limit", "in_force", "wip_now", "average", "share_over", "suggested",
                    "reasoning"]  # fmt: skip


def delivered_in_report(report: FlowReport, workflow: Workflow) -> pd.DataFrame:
    """The items delivered on the report's days (its facts' rows)."""
    facts = report.items
    done = facts[facts["done_at"].notna()]
    day = local_days(done["done_at"], workflow.timezone)
    return done[(day >= report.first_day) & (day <= report.last_day)]


def report_limits(
    report: FlowReport, workflow: Workflow, changes: pd.DataFrame | None
) -> pd.DataFrame:
    """`metrics.limits.limits_in_force` over the report's days."""
    return limits_in_force(
        report.daily.index, configured_limits(workflow), changes, workflow.timezone
    )


def change_marks(
    report: FlowReport, workflow: Workflow, changes: pd.DataFrame | None
) -> dict[str, pd.DataFrame]:
    """Per limit key, its changes on the report's days (for the charts' markers)."""
    return {
        key: limit_changes_on_days(changes, key, workflow.timezone, report.daily.index)
        for key in configured_limits(workflow)
    }


def limits_overview(
    report: FlowReport,
    workflow: Workflow,
    changes: pd.DataFrame | None,
    target_days: float,
) -> pd.DataFrame:
    """One row per in-progress stage, per other stage with a limit, and for the total:
    `limit` (its name; `total` for all work in progress), `in_force` (the last day's limit),
    `wip_now`, `average`, `share_over` (NaN when never limited), `suggested`, and `reasoning`
    (one sentence)."""
    in_force = report_limits(report, workflow, changes)
    kept = adherence(report.daily, in_force)
    delivered = delivered_in_report(report, workflow)
    stages = workflow.in_progress_names
    hours = report.stage_times.reindex(delivered.index)[stages]
    days = len(report.daily)
    suggestion = suggested_limits(len(delivered), days, target_days, hours)
    total = suggestion.loc[TOTAL, "suggested"]
    rows = []
    for key in in_force.columns:
        count = report.daily["wip" if key == TOTAL else key]
        suggested = suggestion["suggested"].get(key, pd.NA)
        if key == TOTAL:
            reasoning = suggestion_sentence(len(delivered), days, target_days, total)
        elif key in suggestion.index and not pd.isna(suggested):
            share = float(suggestion.loc[key, "share_of_time"])
            reasoning = (
                f"Delivered items spent {share:.0%} of their time in progress here: "
                f"{share:.0%} of {total}, rounded up, at least 1."
            )
        elif key in suggestion.index:
            reasoning = "No suggestion without deliveries in this range."
        else:
            reasoning = "Not an in-progress stage: no suggestion from Little's Law."
        limited = key in kept.index
        rows.append(
            {
                "limit": key,
                "in_force": in_force[key].iloc[-1] if len(in_force) else float("nan"),
                "wip_now": float(count.iloc[-1]) if len(count) else float("nan"),
                "average": float(count.mean()) if len(count) else float("nan"),
                "share_over": float(kept.loc[key, "share_over"]) if limited else float("nan"),
                "suggested": suggested,
                "reasoning": reasoning,
            }
        )
    frame = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    return frame.astype({"in_force": "Int64", "suggested": "Int64"})
