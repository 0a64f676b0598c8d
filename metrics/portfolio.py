"""A team's numbers for the Portfolio page, computed from only what its row shows.

The page has one row per team of a portfolio (fifty teams of thousands of items must render in
a few seconds), so a row is not taken from the full flow report: only the stage intervals, the
in-progress runs, the open blocked spells and the deployments are computed. Every number is the
one the team's export gives for the same days (`summary.csv` of `flowdeck export --team NAME
--from FIRST --to LAST`, rounded the same way); `tests/test_portfolio.py` checks it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.cycle_time import SLE_PERCENTILE
from metrics.daily import daily_throughput
from metrics.days import local_day, local_days
from metrics.delivery import is_production
from metrics.frames import FlowData
from metrics.intervals import item_time_order, runs, stage_intervals
from metrics.items import done_times
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
    position = intervals["position"].to_numpy()
    # `started_at` is the start of an item's latest run at or after `start` (see
    # `metrics.items.item_facts`); the items counted here (in progress, or delivered) are in
    # such a run now, so it is their current run.
    started = runs(intervals, position >= workflow.start)
    started = started[started["current"].to_numpy()].set_index("item_id")["start"]
    done_at = done_times(intervals, workflow)
    current = intervals[intervals["current"].to_numpy()].set_index("item_id")["position"]
    progressing = current.index[((current >= workflow.start) & (current < workflow.done))]

    start_day = local_days(started, tz)
    ages = ((local_day(as_of, tz) - start_day.reindex(progressing)).dt.days + 1).to_numpy(
        dtype="float64"
    )
    done_day = local_days(done_at, tz)
    cycle = ((done_day - start_day.reindex(done_at.index)).dt.days + 1).to_numpy(dtype="float64")
    days = done_day.to_numpy()
    span = np.timedelta64((last - first).days + 1, "D")
    low, high = np.datetime64(first, "ns"), np.datetime64(last, "ns")
    p85 = _p85(cycle[(days >= low) & (days <= high)])
    before = _p85(cycle[(days >= low - span) & (days < low)])

    daily = daily_throughput(done_at, tz, first, last)
    weekly = daily.groupby(np.arange(len(daily)) // 7).sum()

    # Blocked now (`metrics.blocked.blocked_spells` has an open spell): the item's latest
    # blocked or unblocked event is a `blocked` one.
    flags = events[events["event"].ne("status")]
    order = item_time_order(flags)
    flagged = flags["item_id"].to_numpy()[order]
    latest = np.r_[flagged[1:] != flagged[:-1], True] if len(flagged) else np.zeros(0, bool)
    blocked = flagged[latest & (flags["event"].to_numpy()[order] == "blocked")]

    deployments = data.deployments[data.deployments["deployed_at"].le(as_of)]
    deploy_day = local_days(deployments["deployed_at"], tz)
    ok = (
        is_production(deployments)
        & deployments["status"].eq("success")
        & (deploy_day >= first)
        & (deploy_day <= last)
    )
    weeks = span.astype(int) / 7
    return pd.Series(
        {
            "wip": len(progressing),
            "throughput_per_week": _round(daily.mean() * 7) if len(daily)
            else np.nan,
            "throughput_trend": [int(v) for v in weekly.to_numpy()],
            "cycle_time_p85": _round(p85),
            "cycle_time_p85_before": _round(before),
            "over_sle": int((ages > p85).sum()) if p85 == p85 else 0,
            "blocked": int(progressing.isin(blocked).sum()),
            "deploys_per_week": _round(int(ok.sum()) / weeks),
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
