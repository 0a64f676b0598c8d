"""Daily series by interval arithmetic: entries and exits counted per day, then summed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.blocked import merge_day_ranges, spell_day_ranges
from metrics.days import day_index, day_numbers, epoch_day, local_day_numbers, local_days
from metrics.intervals import epoch_ns
from metrics.workflow import Workflow

DAILY_FIXED = ["wip", "arrivals", "throughput"]


def _range_counts(first: np.ndarray, last: np.ndarray, n: int) -> np.ndarray:
    """How many inclusive day ranges [first, last] (day numbers) cover each of days 0..n-1."""
    diff = np.zeros(n + 1, dtype="int64")
    lo = np.clip(first, 0, n)
    hi = np.clip(last + 1, 0, n)
    keep = hi > lo
    np.add.at(diff, lo[keep], 1)
    np.add.at(diff, hi[keep], -1)
    return np.cumsum(diff[:-1])


def _day_counts(days: pd.Series, first: pd.Timestamp, n: int) -> np.ndarray:
    valid = days.dropna()
    numbers = day_numbers(valid, first)
    numbers = numbers[(numbers >= 0) & (numbers < n)]
    return np.bincount(numbers, minlength=n).astype("int64")


def daily_throughput(
    done_at: pd.Series, timezone: str, first: pd.Timestamp, last: pd.Timestamp
) -> pd.Series:
    """Throughput on day d: items whose `done_at` falls on local day d. Index: local days
    `first`..`last` (`date`); values int (zero on days without delivery). Empty in -> zeros."""
    index = day_index(first, last)
    counts = _day_counts(local_days(done_at, timezone), first, len(index))
    return pd.Series(counts, index=index, name="throughput")


def daily_wip(
    progress_runs: pd.DataFrame, timezone: str, first: pd.Timestamp, last: pd.Timestamp
) -> pd.Series:
    """WIP on day d: items in progress at any moment of d. Index: local days `first`..`last`
    (named `date`); values int. An item counts once a day however often it moved."""
    index = day_index(first, last)
    ranges = merge_day_ranges(spell_day_ranges(progress_runs, timezone))
    counts = _range_counts(
        day_numbers(ranges["first"], first), day_numbers(ranges["last"], first), len(index)
    )
    return pd.Series(counts, index=index, name="wip")


def daily_stage_counts(
    intervals: pd.DataFrame, workflow: Workflow, first: pd.Timestamp, last: pd.Timestamp
) -> pd.DataFrame:
    """Stage count on day d: items whose position at the end of d is that stage.

    Index: local days `first`..`last` (`date`); one int column per stage, in flow order.
    Discarded items count nowhere. Empty intervals -> zeros.
    """
    index = day_index(first, last)
    n = len(index)
    staged = intervals["position"].to_numpy() >= 0
    tz = workflow.timezone
    enter = local_day_numbers(epoch_ns(intervals["entered"])[staged], tz) - epoch_day(first)
    leave = local_day_numbers(epoch_ns(intervals["left"])[staged], tz) - epoch_day(first)
    # The item's current interval is still open: it counts through the last day.
    leave = np.where(intervals["current"].to_numpy(dtype=bool)[staged], n, leave)
    lo = np.clip(enter, 0, n)
    hi = np.clip(leave, 0, n)
    keep = hi > lo
    positions = intervals["position"].to_numpy()[staged]
    diff = np.zeros((len(workflow.stages), n + 1), dtype="int64")
    np.add.at(diff, (positions[keep], lo[keep]), 1)
    np.add.at(diff, (positions[keep], hi[keep]), -1)
    counts = np.cumsum(diff[:, :-1], axis=1)
    return pd.DataFrame(counts.T, index=index, columns=workflow.stage_names)


def cumulative_flow(stage_counts: pd.DataFrame) -> pd.DataFrame:
    """CFD on day d, stage s: the stage counts of s and every later stage, summed.

    Same index and columns as `stage_counts` (flow order); empty in, empty out."""
    reversed_cols = stage_counts.columns[::-1]
    return stage_counts[reversed_cols].cumsum(axis=1)[stage_counts.columns]


def daily_flow(
    facts: pd.DataFrame,
    intervals: pd.DataFrame,
    progress_runs: pd.DataFrame,
    workflow: Workflow,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> pd.DataFrame:
    """The `daily.csv` table: index local days `first`..`last` (`date`); columns `wip`,
    `arrivals` (items whose `started_at` falls that day), `throughput` (items whose `done_at`
    falls that day), then one stage-count column per stage."""
    tz = workflow.timezone
    index = day_index(first, last)
    n = len(index)
    frame = pd.DataFrame(index=index)
    frame["wip"] = daily_wip(progress_runs, tz, first, last)
    frame["arrivals"] = _day_counts(local_days(facts["started_at"], tz), first, n)
    frame["throughput"] = daily_throughput(facts["done_at"], tz, first, last)
    counts = daily_stage_counts(intervals, workflow, first, last)
    return pd.concat([frame, counts], axis=1)
