"""Kaizen review (spec section 7): did flow get better after a change made on a given day?

Two windows of local days around the change, the same metrics on each side, a two-sided
Mann-Whitney U test on the cycle times of the items delivered on each side, and a verdict in plain
words. Item facts are those of the report (as of `as_of`): an item counts once, on its final
delivery, like throughput does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.cycle_time import SLE_PERCENTILE, cycle_time_percentiles, delivered_in
from metrics.daily import daily_wip
from metrics.days import local_day, local_days
from metrics.errors import InputError
from metrics.items import in_progress_runs
from metrics.report import FlowReport
from metrics.workflow import Workflow

DEFAULT_KAIZEN_DAYS = 42
#: Fewer delivered items than this on a side: the test cannot tell a change from noise.
MIN_ITEMS = 10
SIGNIFICANCE = 0.05
KAIZEN_METRICS = [
    "delivered", "throughput_per_week", "cycle_time_p50", "cycle_time_p85",
    "flow_efficiency_avg", "blocked_days_avg", "over_before_sle", "wip_avg",
]  # fmt: skip
KAIZEN_COLUMNS = ["metric", "before", "after", "change"]
#: Which way each metric moves when flow gets better (True: higher is better).
HIGHER_IS_BETTER = {
    "delivered": True, "throughput_per_week": True, "cycle_time_p50": False,
    "cycle_time_p85": False, "flow_efficiency_avg": True, "blocked_days_avg": False,
    "over_before_sle": False, "wip_avg": False,
}  # fmt: skip

TOO_FEW = "too few items to tell"
CHANGED = "cycle times changed"
NO_CLEAR_CHANGE = "no clear change"


@dataclass(frozen=True)
class Window:
    """Local days `first`..`last` (naive midnights), both included."""

    first: pd.Timestamp
    last: pd.Timestamp

    @property
    def days(self) -> int:
        return max((self.last - self.first).days + 1, 0)

    def label(self) -> str:
        return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d} ({self.days} days)"


def kaizen_windows(
    change: pd.Timestamp, as_of: pd.Timestamp, timezone: str, days: int = DEFAULT_KAIZEN_DAYS
) -> tuple[Window, Window]:
    """Before: the `days` local days ending the day before `change`; after: the `days` days
    starting on the change day, cut at `as_of`'s local day. Raises `InputError` when `days` < 1
    or the change day is after `as_of`'s day."""
    if days < 1:
        raise InputError(f"--days {days}: the window length must be at least 1 day")
    change = pd.Timestamp(change).normalize()
    as_of_day = local_day(as_of, timezone)
    if change > as_of_day:
        raise InputError(
            f"--change {change:%Y-%m-%d} is after the as-of day {as_of_day:%Y-%m-%d}: "
            "there is no 'after' to compare yet"
        )
    span = pd.Timedelta(days=days)
    before = Window(change - span, change - pd.Timedelta(days=1))
    after = Window(change, min(change + span - pd.Timedelta(days=1), as_of_day))
    return before, after


def side_metrics(
    delivered: pd.DataFrame, wip: pd.Series, window: Window, before_sle: float
) -> pd.Series:
    """The metrics of one side. `delivered`: item facts of the items delivered in the window;
    `wip`: daily WIP over the window's days; `before_sle`: the before side's p85.

    Index `KAIZEN_METRICS`, float values; NaN where a metric has no items (delivered is 0,
    throughput 0, the rest NaN)."""
    cycle = delivered["cycle_time_days"].astype("float64")
    bands = cycle_time_percentiles(cycle, (50, SLE_PERCENTILE))
    n = len(delivered)
    over = float((cycle > before_sle).mean()) if n and not np.isnan(before_sle) else np.nan
    values = {
        "delivered": float(n),
        "throughput_per_week": n / window.days * 7 if window.days else np.nan,
        "cycle_time_p50": bands[50],
        "cycle_time_p85": bands[SLE_PERCENTILE],
        "flow_efficiency_avg": delivered["flow_efficiency"].astype("float64").mean(),
        "blocked_days_avg": delivered["blocked_days"].astype("float64").mean(),
        "over_before_sle": over,
        "wip_avg": float(wip.mean()) if len(wip) else np.nan,
    }
    return pd.Series(values, dtype="float64").reindex(KAIZEN_METRICS)


def mann_whitney_p(before: pd.Series, after: pd.Series) -> float:
    """Two-sided Mann-Whitney U test of two samples of cycle times: its p-value, NaN when a
    side is empty."""
    a = pd.Series(before, dtype="float64").dropna().to_numpy()
    b = pd.Series(after, dtype="float64").dropna().to_numpy()
    if a.size == 0 or b.size == 0:
        return np.nan
    # Imported here: scipy.stats takes 1-5 s to import, and every CLI command (export too)
    # imports this module when the `kaizen` command registers its options.
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


@dataclass(frozen=True)
class Verdict:
    label: str
    """One of `TOO_FEW`, `CHANGED`, `NO_CLEAR_CHANGE`."""
    text: str
    """The label as a sentence with the numbers behind it."""


def _days(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:g} days"


def kaizen_verdict(before: pd.Series, after: pd.Series, p: float) -> Verdict:
    """The verdict on the cycle times of the two sides (`before`, `after`) and the test's `p`:
    fewer than `MIN_ITEMS` on a side, too few to tell; p < 0.05, changed (with the medians);
    else no clear change."""
    a = pd.Series(before, dtype="float64").dropna()
    b = pd.Series(after, dtype="float64").dropna()
    counts = f"{len(a)} items delivered before, {len(b)} after"
    if len(a) < MIN_ITEMS or len(b) < MIN_ITEMS:
        return Verdict(
            TOO_FEW,
            f"{TOO_FEW.capitalize()}: {counts}; the comparison needs at least {MIN_ITEMS} on "
            "each side (try a longer window).",
        )
    m_before, m_after = float(a.median()), float(b.median())
    medians = f"median cycle time {_days(m_before)} before, {_days(m_after)} after"
    if p < SIGNIFICANCE:
        way = "shorter" if m_after < m_before else "longer" if m_after > m_before else "shifted"
        return Verdict(
            CHANGED,
            f"{CHANGED.capitalize()} ({way}): {medians} (Mann-Whitney p = {p:.3g}; {counts}).",
        )
    return Verdict(
        NO_CLEAR_CHANGE,
        f"{NO_CLEAR_CHANGE.capitalize()} in cycle times: {medians}, a difference that chance "
        f"alone could explain (Mann-Whitney p = {p:.3g}; {counts}).",
    )


def kaizen_table(before: pd.Series, after: pd.Series, p: float) -> pd.DataFrame:
    """The `kaizen.csv` frame: columns `metric, before, after, change` (change = after -
    before), one row per `KAIZEN_METRICS`, then `mann_whitney_p` with the p-value in `change`
    (before and after empty: it describes the pair). Metrics rounded to 4 decimals, the
    p-value to 4 significant digits (a tiny p must not read as 0)."""
    frame = pd.DataFrame(
        {"metric": KAIZEN_METRICS, "before": before.to_numpy(), "after": after.to_numpy()}
    )
    frame["change"] = frame["after"] - frame["before"]
    test = pd.DataFrame({"metric": ["mann_whitney_p"], "before": [np.nan], "after": [np.nan],
                         "change": [p]})  # fmt: skip
    for col in ("before", "after", "change"):
        frame[col] = frame[col].astype("float64").round(4)
    test["change"] = [float(f"{p:.4g}")]
    out = pd.concat([frame, test], ignore_index=True)
    return out[KAIZEN_COLUMNS]


def flow_direction(table: pd.DataFrame) -> pd.Series:
    """For each row of a `kaizen_table`: `better`, `worse` or `same` for flow, by the sign of
    its change and `HIGHER_IS_BETTER`; "" where there is no change to judge (or no direction,
    as for `mann_whitney_p`). Same index as `table`."""
    higher = table["metric"].map(HIGHER_IS_BETTER)
    change = table["change"].astype("float64")
    sign = np.sign(change.fillna(0).to_numpy())
    # `eq(False)`, not `fillna(True)`: pandas 2.2 warns about downcasting the object column.
    lower_is_better = higher.eq(False).to_numpy(dtype=bool)
    good = np.where(lower_is_better, -sign, sign)
    words = np.select([good > 0, good < 0], ["better", "worse"], default="same")
    known = higher.notna() & change.notna()
    return pd.Series(np.where(known, words, ""), index=table.index, name="direction")


@dataclass(frozen=True)
class KaizenReview:
    change: pd.Timestamp
    before: Window
    after: Window
    before_items: pd.DataFrame
    """Item facts of the items delivered in the before window (with `done_day`)."""
    after_items: pd.DataFrame
    table: pd.DataFrame
    """`kaizen_table` output."""
    p: float
    verdict: Verdict
    before_sle: float

    @property
    def over_old_sle(self) -> pd.DataFrame:
        """The after side's items whose cycle time is above the before side's p85."""
        cycle = self.after_items["cycle_time_days"].astype("float64")
        if np.isnan(self.before_sle):
            return self.after_items.iloc[:0]
        return self.after_items[cycle > self.before_sle]


def kaizen_review(
    report: FlowReport, workflow: Workflow, change: pd.Timestamp, days: int = DEFAULT_KAIZEN_DAYS
) -> KaizenReview:
    """The whole comparison around `change` (a local day) from a flow report's item facts and
    intervals. Raises `InputError` for a change day after the report's as-of day or `days` < 1.
    No delivered items -> zero counts, NaN metrics and the "too few items to tell" verdict."""
    tz = workflow.timezone
    before, after = kaizen_windows(change, report.as_of, tz, days)
    facts = report.items
    runs = in_progress_runs(report.intervals, workflow)

    def side(window: Window) -> tuple[pd.DataFrame, pd.Series]:
        done = delivered_in(facts, tz, report.as_of, window.first, window.last)
        done = done.assign(done_day=local_days(done["done_at"], tz))
        return done, daily_wip(runs, tz, window.first, window.last)

    before_items, before_wip = side(before)
    after_items, after_wip = side(after)
    sle = cycle_time_percentiles(before_items["cycle_time_days"], (SLE_PERCENTILE,))
    before_sle = float(sle[SLE_PERCENTILE])
    b = side_metrics(before_items, before_wip, before, before_sle)
    a = side_metrics(after_items, after_wip, after, before_sle)
    p = mann_whitney_p(before_items["cycle_time_days"], after_items["cycle_time_days"])
    verdict = kaizen_verdict(before_items["cycle_time_days"], after_items["cycle_time_days"], p)
    return KaizenReview(
        change=pd.Timestamp(change).normalize(), before=before, after=after,
        before_items=before_items, after_items=after_items, table=kaizen_table(b, a, p),
        p=p, verdict=verdict, before_sle=before_sle,
    )  # fmt: skip


def side_weeks(delivered: pd.DataFrame, window: Window, before: bool) -> pd.DataFrame:
    """Items delivered per 7-day block of a window, the blocks anchored at the change day so
    that no week straddles it: the before side's blocks end the day before the change, the
    after side's start on it (its last block may be short, cut at as-of).

    `delivered`: the side's items with their local `done_day`. Columns `week_start`, `days`,
    `delivered`, oldest first; an empty window -> no rows."""
    n = window.days
    if n == 0:
        return pd.DataFrame({"week_start": pd.Series(dtype="datetime64[ns]"),
                             "days": pd.Series(dtype="int64"),
                             "delivered": pd.Series(dtype="int64")})  # fmt: skip
    offset = (-np.arange(n)[::-1] - 1) // 7 if before else np.arange(n) // 7
    block = offset - offset.min()
    days = pd.date_range(window.first, window.last, freq="D")
    per_day = delivered["done_day"].value_counts().reindex(days, fill_value=0).to_numpy()
    frame = pd.DataFrame({"block": block, "day": days, "delivered": per_day})
    weeks = frame.groupby("block").agg(
        week_start=("day", "first"), days=("day", "size"), delivered=("delivered", "sum")
    )
    return weeks.reset_index(drop=True).astype({"days": "int64", "delivered": "int64"})


def weekly_median(weeks: pd.DataFrame) -> float:
    """Median items per week over a side's whole weeks (all of them when none is whole)."""
    whole = weeks[weeks["days"] == 7]
    use = whole if len(whole) else weeks
    return float(use["delivered"].median()) if len(use) else np.nan
