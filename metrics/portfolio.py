"""A team's numbers for the Portfolio page, computed from only what its row shows.

The page has one row per team of a portfolio (fifty teams of thousands of items must render in
a few seconds), so a row is not taken from the full flow report: only the stage intervals, each
item's current run, its latest blocked/unblocked event and the deployments are computed, on
arrays where the flow report builds frames. Every number is the
one the team's export gives for the same days (`summary.csv` of `flowdeck export --team NAME
--from FIRST --to LAST`, rounded the same way); `tests/test_portfolio.py` checks it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.cycle_time import SLE_PERCENTILE
from metrics.days import epoch_day, local_day_numbers
from metrics.delivery import is_production
from metrics.frames import FlowData
from metrics.intervals import epoch_ns, item_time_order, stage_intervals
from metrics.items import current_run_rows
from metrics.workflow import Workflow

#: The summary's rounding (`metrics.report`): the page shows the export's numbers.
_DIGITS = 4

TEAM_NUMBERS = [
    "wip", "throughput_per_week", "throughput_trend", "cycle_time_p85", "cycle_time_p85_before",
    "over_sle", "blocked", "deploys_per_week",
]  # fmt: skip


def combine(parts: list[FlowData]) -> FlowData:
    """The frames of several sources as one (a team reading more than one source): each
    frame's rows concatenated in the order of `parts`. No parts -> empty frames."""
    if not parts:
        return FlowData()
    if len(parts) == 1:
        return parts[0]
    return FlowData(**{
        name: pd.concat([getattr(p, name) for p in parts], ignore_index=True)
        for name in ("items", "events", "deployments", "shipped", "pull_requests")
    })  # fmt: skip


def team_numbers(
    data: FlowData,
    workflow: Workflow,
    as_of: pd.Timestamp,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> pd.Series:
    """One team's Portfolio row over the local days `first`..`last` (a whole number of weeks),
    as of `as_of` (UTC). Index `TEAM_NUMBERS`:

    - `wip`: items in progress at `as_of` (the summary's `items_in_progress`);
    - `throughput_per_week`: the summary's; `throughput_trend`: items delivered in each 7-day
      period from `first` (a list of ints, the last one ending with `last`);
    - `cycle_time_p85`: of the items delivered in the days (the summary's, with `--from/--to`);
      `cycle_time_p85_before`: the same over the same number of days just before `first`;
    - `over_sle`: items in progress older than that p85 (unrounded, as the summary compares);
    - `blocked`: items in progress in a blocked spell at `as_of`;
    - `deploys_per_week`: successful production deployments in the days, per week.

    Missing numbers are NaN (no delivery: no p85). Empty data -> zeros and NaN p85s.
    """
    tz = workflow.timezone
    events = data.events[data.events["changed_at"].le(as_of)]
    intervals = stage_intervals(events, workflow, as_of)
    # On arrays, as `metrics.items.item_facts` computes the same facts: an item in progress
    # or delivered is in its latest run at or after `start` (its `started_at`), a delivered
    # one in its latest run at or after `done` (its `done_at`).
    item = intervals["item_id"].to_numpy()
    position = intervals["position"].to_numpy()
    current = intervals["current"].to_numpy(dtype=bool)
    entered = epoch_ns(intervals["entered"]) if len(item) else np.zeros(0, dtype="int64")
    rows, start_rows = current_run_rows(item, position, current, workflow.start)
    done_rows, done_begin = current_run_rows(item, position, current, workflow.done)
    start_day = local_day_numbers(entered[start_rows], tz)
    in_progress = position[rows] < workflow.done
    delivered = ~in_progress  # current rows at or after `start` and not before `done`
    done_day = local_day_numbers(entered[done_begin], tz)

    ages = (local_day_numbers(np.array([as_of.value]), tz)[0] - start_day[in_progress] + 1).astype(
        "float64"
    )
    cycle = (done_day - start_day[delivered] + 1).astype("float64")
    low, high = epoch_day(first), epoch_day(last)
    span = high - low + 1
    p85 = _p85(cycle[(done_day >= low) & (done_day <= high)])
    before = _p85(cycle[(done_day >= low - span) & (done_day < low)])
    in_days = done_day[(done_day >= low) & (done_day <= high)] - low
    daily = np.bincount(in_days, minlength=span)
    weekly = np.bincount(np.arange(span) // 7, weights=daily).astype("int64")

    # Blocked now (`metrics.blocked.blocked_spells` has an open spell): the item's latest
    # blocked or unblocked event is a `blocked` one.
    flags = events[events["event"].ne("status")]
    order = item_time_order(flags)
    flagged = flags["item_id"].to_numpy()[order]
    latest = np.r_[flagged[1:] != flagged[:-1], True] if len(flagged) else np.zeros(0, bool)
    blocked = flagged[latest & (flags["event"].to_numpy()[order] == "blocked")]

    deployments = data.deployments[data.deployments["deployed_at"].le(as_of)]
    deploy_day = local_day_numbers(epoch_ns(deployments["deployed_at"]), tz)
    ok = (
        is_production(deployments).to_numpy(dtype=bool)
        & deployments["status"].eq("success").to_numpy(dtype=bool)
        & (deploy_day >= low)
        & (deploy_day <= high)
    )
    return pd.Series(
        {
            "wip": int(in_progress.sum()),
            "throughput_per_week": _round(daily.mean() * 7),
            "throughput_trend": weekly.tolist(),
            "cycle_time_p85": _round(p85),
            "cycle_time_p85_before": _round(before),
            "over_sle": int((ages > p85).sum()) if p85 == p85 else 0,
            "blocked": int(pd.Index(item[rows][in_progress]).isin(blocked).sum()),
            "deploys_per_week": _round(int(ok.sum()) / (span / 7)),
        },
        index=TEAM_NUMBERS,
        dtype=object,
    )  # fmt: skip


def _p85(cycle_times: np.ndarray) -> float:
    # What `metrics.cycle_time.cycle_time_percentiles` gives (pandas' linear quantile is
    # numpy's), without a Series per call: two calls for each of fifty teams.
    values = cycle_times[~np.isnan(cycle_times)]
    return float(np.percentile(values, SLE_PERCENTILE)) if len(values) else np.nan


def _round(value: float) -> float:
    # `np.round`, as the summary rounds (Python's `round` differs on some halves).
    return float(np.round(float(value), _DIGITS))
