"""Is the system stable? The Little's Law check and process behaviour (XmR) charts (spec 6).

Averages such as "cycle time p85" describe a system only while it is stable; these functions say
when it is not, in sentences a team can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from metrics.days import local_day, local_days
from metrics.intervals import runs
from metrics.workflow import Workflow

if TYPE_CHECKING:
    from metrics.report import FlowReport

#: `littles_law_ratio` within these bounds counts as "Little's Law holds".
RATIO_LOW, RATIO_HIGH = 0.8, 1.25
#: Arrivals vs departures, WIP drift and age drift tolerated before a flag (shares).
TOLERANCE = 0.2
#: The XmR scaling constant for natural process limits from the mean moving range.
XMR_SCALE = 2.66
#: Consecutive points on one side of the mean that make a signal.
RUN_LENGTH = 8


@dataclass(frozen=True)
class LittlesLaw:
    """The check over one window; floats are NaN where undefined (see `littles_law`)."""

    days: int
    wip_avg: float
    """L: mean daily WIP."""
    throughput_per_day: float
    """lambda: items delivered in the window / days."""
    cycle_time_avg: float
    """W: mean cycle_time_days of the items delivered in the window."""
    ratio: float
    """L / (lambda x W)."""
    arrivals: int
    departures: int
    arrivals_per_departure: float
    wip_first: float
    wip_last: float
    age_first: float
    """Mean age (days) of the items in progress at the end of the first day."""
    age_last: float
    flags: tuple[str, ...] = field(default_factory=tuple)
    """One actionable sentence per broken assumption; empty when the law holds."""

    @property
    def holds(self) -> bool:
        return not self.flags and not np.isnan(self.ratio)


def mean_age_in_progress(intervals: pd.DataFrame, workflow: Workflow, day: pd.Timestamp) -> float:
    """The mean work item age (spec 3) of the items in progress at the end of local `day`:
    `day - date(started_at) + 1` days, `started_at` being the start of the item's run at a
    position >= start that holds that moment. NaN when nothing is in progress then."""
    return mean_ages_in_progress(intervals, workflow, [day])[0]


def mean_ages_in_progress(
    intervals: pd.DataFrame, workflow: Workflow, days: list[pd.Timestamp]
) -> list[float]:
    """`mean_age_in_progress` for each of `days` (the committed runs are found once)."""
    if intervals.empty:
        return [float("nan")] * len(days)
    tz = workflow.timezone
    pos = intervals["position"].to_numpy()
    committed = runs(intervals, pos >= workflow.start)
    progress = intervals[(pos >= workflow.start) & (pos < workflow.done)]
    out = []
    for day in days:
        moment = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(
            tz, nonexistent="shift_forward"
        ).tz_convert("UTC") - pd.Timedelta(1, "ns")  # fmt: skip
        holding = (committed["start"] <= moment) & (
            (committed["end"] > moment) | committed["current"]
        )
        covering = progress[
            (progress["entered"] <= moment) & ((progress["left"] > moment) | progress["current"])
        ]
        starts = committed.loc[holding & committed["item_id"].isin(covering["item_id"]), "start"]
        if starts.empty:
            out.append(float("nan"))
            continue
        ages = (local_day(moment, tz) - local_days(starts, tz)).dt.days + 1
        out.append(float(ages.mean()))
    return out


def littles_law(
    daily: pd.DataFrame,
    delivered_cycle_days: pd.Series,
    age_first: float = float("nan"),
    age_last: float = float("nan"),
) -> LittlesLaw:
    """The Little's Law check over the n days of `daily` (its `wip`, `arrivals` columns).

    `delivered_cycle_days`: the cycle_time_days of the items delivered in those days (one per
    item); `age_first`/`age_last`: `mean_age_in_progress` on the first and last day.
    L = mean daily WIP, lambda = delivered / n, W = mean cycle time; ratio = L / (lambda x W).
    Flags (each one sentence): the ratio outside [0.8, 1.25]; arrivals and departures differing
    by more than 20% of departures; last-day WIP differing from first-day WIP by more than 20%
    of L; the mean age rising by more than 20%. No days -> NaN everywhere and no flags."""
    n = len(daily)
    cycle = pd.Series(delivered_cycle_days, dtype="float64").dropna()
    departures = int(len(cycle))
    arrivals = int(daily["arrivals"].sum()) if n else 0
    nan = float("nan")
    wip_avg = float(daily["wip"].mean()) if n else nan
    rate = departures / n if n else nan
    w = float(cycle.mean()) if departures else nan
    ratio = wip_avg / (rate * w) if departures and n else nan
    per_departure = arrivals / departures if departures else nan
    wip_first = float(daily["wip"].iloc[0]) if n else nan
    wip_last = float(daily["wip"].iloc[-1]) if n else nan
    flags: list[str] = []
    if n:
        flags += _flags(ratio, arrivals, departures, wip_avg, wip_first, wip_last)
        flags += _age_flag(age_first, age_last)
    return LittlesLaw(
        days=n, wip_avg=wip_avg, throughput_per_day=rate, cycle_time_avg=w, ratio=ratio,
        arrivals=arrivals, departures=departures, arrivals_per_departure=per_departure,
        wip_first=wip_first, wip_last=wip_last, age_first=age_first, age_last=age_last,
        flags=tuple(flags),
    )  # fmt: skip


def _flags(
    ratio: float, arrivals: int, departures: int, wip_avg: float, first: float, last: float
) -> list[str]:
    flags = []
    if departures == 0:
        started = f" ({arrivals} items were started meanwhile)" if arrivals else ""
        flags.append(
            "Nothing was delivered in this window, so Little's Law cannot be checked: widen the "
            f"date range{started}."
        )
    elif ratio > RATIO_HIGH:
        flags.append(
            f"Average WIP is {ratio:.2f} times what throughput x cycle time predicts: items sit "
            "in progress without moving to done; look for forgotten or abandoned items and "
            "finish or discard them."
        )
    elif ratio < RATIO_LOW:
        flags.append(
            f"Average WIP is only {ratio:.2f} times what throughput x cycle time predicts: the "
            "items delivered here were started long before, while the system held more work "
            "(or items wait outside the tracked stages); their cycle times overstate today's."
        )
    if departures and abs(arrivals - departures) > TOLERANCE * departures:
        share = abs(arrivals - departures) / departures
        if arrivals > departures:
            flags.append(
                f"You start more than you finish: arrivals exceed departures by {share:.0%} "
                f"({arrivals} started, {departures} delivered); stop starting, start finishing."
            )
        else:
            flags.append(
                f"You finish more than you start: departures exceed arrivals by {share:.0%} "
                f"({departures} delivered, {arrivals} started); WIP is draining, so make sure "
                "ready work is waiting to be pulled."
            )
    if wip_avg > 0 and abs(last - first) > TOLERANCE * wip_avg:
        direction = "grew" if last > first else "fell"
        flags.append(
            f"WIP {direction} from {first:g} to {last:g} items over the window (average "
            f"{wip_avg:.1f}): the system is not in a steady state, so its averages will not "
            "hold for the next weeks; "
            + ("limit what is started." if last > first else "check what stopped arriving.")
        )
    return flags


def _age_flag(first: float, last: float) -> list[str]:
    if np.isnan(first) or np.isnan(last) or first <= 0:
        return []
    if last > first * (1 + TOLERANCE):
        return [
            f"Items in progress are getting older: their average age rose from {first:.1f} to "
            f"{last:.1f} days; swarm on the oldest items before starting new ones."
        ]
    return []


def report_littles_law(report: FlowReport, workflow: Workflow) -> LittlesLaw:
    """The check over a flow report's days (`first_day`..`last_day`): the items delivered on
    those days, and the mean ages at the end of the first and the last day."""
    facts = report.items
    delivered = facts[facts["done_at"].notna()]
    done_day = local_days(delivered["done_at"], workflow.timezone)
    in_range = delivered[(done_day >= report.first_day) & (done_day <= report.last_day)]
    first_age, last_age = mean_ages_in_progress(
        report.intervals, workflow, [report.first_day, report.last_day]
    )
    return littles_law(report.daily, in_range["cycle_time_days"], first_age, last_age)


XMR_COLUMNS = ["value", "moving_range", "mean", "upper", "lower", "outside", "run"]


def xmr(values: pd.Series) -> pd.DataFrame:
    """A process behaviour (XmR) chart's table over `values` in their order (spec 6).

    Index: `values`' index. Columns: `value`; `moving_range` (|difference from the previous
    point|, NaN for the first); `mean` (X, the mean of the values); `upper`, `lower` (the
    natural process limits X +/- 2.66 mR, mR the mean moving range; the lower one not below 0);
    `outside` (the point is above `upper` or below `lower`); `run` (the point belongs to 8 or
    more consecutive points on one side of the mean; a point on the mean ends a run). Missing
    values are dropped. Empty in -> empty frame with `XMR_COLUMNS`; one point -> limits NaN."""
    x = pd.Series(values, dtype="float64").dropna()
    moving = x.diff().abs()
    mean = float(x.mean()) if len(x) else np.nan
    mr = float(moving.mean()) if len(x) > 1 else np.nan
    upper = mean + XMR_SCALE * mr
    lower = max(mean - XMR_SCALE * mr, 0.0) if not np.isnan(mr) else np.nan
    outside = ((x > upper) | (x < lower)) if not np.isnan(mr) else pd.Series(False, index=x.index)
    side = np.sign(x.to_numpy() - mean) if len(x) else np.array([])
    in_run = np.zeros(len(x), dtype=bool)
    start = 0
    for i in range(1, len(x) + 1):
        if i == len(x) or side[i] != side[start] or side[i] == 0:
            if side[start] != 0 and i - start >= RUN_LENGTH:
                in_run[start:i] = True
            start = i
    return pd.DataFrame(
        {
            "value": x,
            "moving_range": moving,
            "mean": mean,
            "upper": upper,
            "lower": lower,
            "outside": outside.astype(bool),
            "run": in_run,
        },
        index=x.index,
        columns=XMR_COLUMNS,
    )


def xmr_signals(chart: pd.DataFrame, label: str, unit: str) -> list[str]:
    """The signals of an `xmr` table in words, one sentence each: every point outside the
    limits, then every run. `label(index_value) -> str` names a point (e.g. "the week of 4
    Mar"); `unit` follows the values ("items", "days")."""
    sentences = []
    for key, row in chart[chart["outside"]].iterrows():
        where = "above the upper" if row["value"] > row["upper"] else "below the lower"
        bound = row["upper"] if row["value"] > row["upper"] else row["lower"]
        sentences.append(
            f"{_name(label, key)}: {row['value']:g} {unit}, {where} natural process limit "
            f"({bound:.1f}): something special happened here; find out what."
        )
    flags = chart["run"].to_numpy()
    above = (chart["value"] > chart["mean"]).to_numpy()
    i = 0
    while i < len(chart):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(chart) and flags[j + 1] and above[j + 1] == above[i]:
            j += 1
        side = "above" if above[i] else "below"
        sentences.append(
            f"{j - i + 1} points in a row {side} the mean ({chart['mean'].iloc[0]:.1f} {unit}), "
            f"from {_name(label, chart.index[i])} to {_name(label, chart.index[j])}: the process "
            f"has shifted {'up' if above[i] else 'down'}; the old average no longer describes it."
        )
        i = j + 1
    return sentences


def _name(label, key) -> str:
    return label(key) if callable(label) else f"{label} {key}"


def weekly_throughput(daily: pd.DataFrame) -> pd.Series:
    """Items delivered per 7-day period, counted back from the last day of `daily` so that
    every period is whole (the incomplete days at the start are left out). Index: each
    period's first day (`week`); values int. Fewer than 7 days -> empty."""
    n = len(daily) // 7
    if n == 0:
        return pd.Series(dtype="int64", name="throughput", index=pd.DatetimeIndex([], name="week"))
    tail = daily["throughput"].iloc[len(daily) - 7 * n :].to_numpy(dtype="int64")
    sums = tail.reshape(n, 7).sum(axis=1)
    starts = daily.index[len(daily) - 7 * n :: 7]
    return pd.Series(sums, index=pd.DatetimeIndex(starts, name="week"), name="throughput")


def cycle_times_in_done_order(delivered: pd.DataFrame) -> pd.Series:
    """The cycle_time_days of delivered items (facts with `done_at`), ordered by `done_at`
    (ties by item id). Index: item ids; values float. Nothing delivered -> an empty series."""
    done = delivered[delivered["done_at"].notna()]
    order = done.assign(_id=done.index.astype(str)).sort_values(["done_at", "_id"], kind="stable")
    return order["cycle_time_days"].astype("float64")
