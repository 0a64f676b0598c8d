"""WIP limits over time, how well a team keeps them, and the limits its data suggests (spec 6).

The limit history is a frame with (at least) `changed_at` (UTC), `stage`, `old_limit`,
`new_limit`: a stage's name, or `TOTAL` for the workflow's limit on all work in progress.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from metrics.days import local_days
from metrics.workflow import Workflow

#: The history's key (and the CLI's word) for the workflow's own limit, `[workflow] wip_limit`.
TOTAL = "total"

ADHERENCE_COLUMNS = ["limit_now", "count_now", "average", "days_with_limit", "days_over",
                     "share_over"]  # fmt: skip
SUGGESTION_COLUMNS = ["share_of_time", "suggested"]


def configured_limits(workflow: Workflow) -> dict[str, int | None]:
    """The limits the workflow holds: every in-progress stage (start up to, not including,
    done), then `TOTAL`; None where there is no limit. Stages outside progress are included
    only when they carry a limit (the board shows the stage just before start too)."""
    limits: dict[str, int | None] = {}
    for index, stage in enumerate(workflow.stages):
        if workflow.start <= index < workflow.done or stage.wip_limit is not None:
            limits[stage.name] = stage.wip_limit
    limits[TOTAL] = workflow.wip_limit
    return limits


def limit_at(
    key: str, configured: int | None, changes: pd.DataFrame | None, when: pd.Timestamp
) -> int | None:
    """The limit `key` had at the moment `when`: the `new_limit` of its latest change at or
    before it; before its first change, that change's `old_limit`; with no history, the
    configured one. None = no limit."""
    if changes is None or changes.empty:
        return configured
    own = changes[changes["stage"] == key].sort_values("changed_at", kind="stable")
    if own.empty:
        return configured
    before = own[own["changed_at"] <= when]
    value = before["new_limit"].iloc[-1] if len(before) else own["old_limit"].iloc[0]
    return None if pd.isna(value) else int(value)


def limits_in_force(
    days: pd.DatetimeIndex,
    configured: dict[str, int | None],
    changes: pd.DataFrame | None,
    timezone: str,
) -> pd.DataFrame:
    """The limit in force on each local day: the `new_limit` of the latest change on or before
    the end of that day; before the first change, the first change's `old_limit`; a key with
    no history keeps its configured limit.

    Index: `days` (naive local midnights, as the daily tables); one float column per key of
    `configured`, in its order; NaN = no limit that day. No days -> no rows."""
    # Columns gathered first and framed once: inserting them one by one fragments the frame
    # (pandas warns from about a hundred stages on).
    columns: dict[str, np.ndarray] = {}
    day_values = days.to_numpy(dtype="datetime64[ns]")
    for key, limit in configured.items():
        own = _own_changes(changes, key)
        if own.empty:
            columns[key] = np.full(len(days), np.nan if limit is None else float(limit))
            continue
        first_old = own["old_limit"].iloc[0]
        values = np.full(len(days), np.nan if pd.isna(first_old) else float(first_old))
        change_days = local_days(own["changed_at"], timezone).to_numpy(dtype="datetime64[ns]")
        for day, new in zip(change_days, own["new_limit"], strict=True):
            values[day_values >= day] = np.nan if pd.isna(new) else float(new)
        columns[key] = values
    return pd.DataFrame(columns, index=days, columns=list(configured), dtype="float64")


def limit_changes_on_days(
    changes: pd.DataFrame | None, key: str, timezone: str, days: pd.DatetimeIndex
) -> pd.DataFrame:
    """The changes of `key` whose local day is within `days`, oldest first, with a `day`
    column (naive local midnight) for marking them on a daily chart. Columns: `day`,
    `old_limit`, `new_limit`, `who`, `why` (as present in `changes`)."""
    own = _own_changes(changes, key)
    if own.empty or len(days) == 0:
        return pd.DataFrame(columns=["day", "old_limit", "new_limit", "who", "why"])
    day = local_days(own["changed_at"], timezone)
    own = own.assign(day=day)
    return own[(day >= days[0]) & (day <= days[-1])].reset_index(drop=True)


def _own_changes(changes: pd.DataFrame | None, key: str) -> pd.DataFrame:
    if changes is None or changes.empty:
        return pd.DataFrame(columns=["changed_at", "stage", "old_limit", "new_limit"])
    return changes[changes["stage"] == key].sort_values("changed_at", kind="stable")


def adherence(daily: pd.DataFrame, in_force: pd.DataFrame) -> pd.DataFrame:
    """How well each limit was kept over the days of `daily` (spec 6).

    `daily`: the daily table (`wip` and one count column per stage); `in_force`: from
    `limits_in_force` over the same days. For each key with a limit on at least one day (the
    stage's count; for `TOTAL`, WIP): `limit_now` (the last day's limit, NaN for none),
    `count_now` (the last day's count), `average` (mean count over all the days),
    `days_with_limit`, `days_over` (count above that day's limit), `share_over`
    (days_over / days_with_limit). Index: the keys, in `in_force`'s order. Nothing limited or no
    days -> an empty frame with `ADHERENCE_COLUMNS`."""
    rows = {}
    for key in in_force.columns:
        limits = in_force[key].reindex(daily.index)
        if not limits.notna().any():
            continue
        counts = daily["wip" if key == TOTAL else key].astype("float64")
        limited = limits.notna()
        over = int((counts[limited] > limits[limited]).sum())
        rows[key] = {
            "limit_now": float(limits.iloc[-1]),
            "count_now": float(counts.iloc[-1]),
            "average": float(counts.mean()),
            "days_with_limit": int(limited.sum()),
            "days_over": over,
            "share_over": over / int(limited.sum()),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=ADHERENCE_COLUMNS)
    return frame.astype({"days_with_limit": "int64", "days_over": "int64"})


def _ceil(value: float) -> int:
    # 0.1 * 30 is 3.0000000000000004 in floating point: a suggestion of 4 would be absurd.
    return math.ceil(round(value, 9))


def suggested_limits(
    delivered: int, days: int, target_days: float, stage_hours: pd.DataFrame
) -> pd.DataFrame:
    """Limits from Little's Law (spec 6): total = ceil(throughput per day x target cycle time),
    throughput per day = `delivered` / `days`; split over the in-progress stages in proportion
    to the mean hours the window's delivered items spent in each, each part rounded up, at
    least 1.

    `stage_hours`: one row per delivered item of the window, one column per in-progress stage
    (hours; missing = 0). Index: the stages, then `TOTAL`; columns `share_of_time` (the stage's
    share of the mean hours, 1 for the total) and `suggested` (Int64). No delivery, no days or
    no positive target -> `suggested` missing everywhere. All stages with zero hours share
    equally."""
    stages = list(stage_hours.columns)
    index = pd.Index([*stages, TOTAL])
    frame = pd.DataFrame(index=index, columns=SUGGESTION_COLUMNS, dtype="float64")
    mean_hours = stage_hours.astype("float64").fillna(0.0).mean() if len(stage_hours) else None
    if mean_hours is not None and mean_hours.sum() > 0:
        shares = mean_hours / mean_hours.sum()
    else:
        shares = pd.Series(1.0 / max(len(stages), 1), index=stages)
    frame.loc[stages, "share_of_time"] = shares.to_numpy(dtype="float64")
    frame.loc[TOTAL, "share_of_time"] = 1.0
    if delivered <= 0 or days <= 0 or not target_days > 0:
        frame["suggested"] = pd.array([pd.NA] * len(index), dtype="Int64")
        return frame
    total = max(_ceil(delivered / days * target_days), 1)
    parts = [max(_ceil(total * float(share)), 1) for share in shares]
    frame["suggested"] = pd.array([*parts, total], dtype="Int64")
    return frame


def suggestion_sentence(delivered: int, days: int, target_days: float, total: object) -> str:
    """The total suggestion's reasoning in one sentence (Little's Law, in the team's numbers)."""
    if delivered <= 0 or days <= 0:
        return (
            f"No item was delivered in these {days} days, so there is no throughput to size a "
            "limit from: widen the date range."
        )
    if not target_days > 0:
        return "Give a target cycle time above 0 days to get a suggestion."
    rate = delivered / days
    return (
        f"You deliver {rate:.2f} items a day ({delivered} in {days} days); to finish items in "
        f"{target_days:g} days, Little's Law allows about {rate:.2f} x {target_days:g} = "
        f"{rate * target_days:.1f}, so {total} items in progress at once."
    )
