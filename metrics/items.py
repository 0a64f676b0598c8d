"""Per-item facts: position, started/done times, cycle time, age, blocked days, efficiency."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.blocked import blocked_days, blocked_spells
from metrics.days import local_day, local_days
from metrics.intervals import epoch_ns, runs
from metrics.workflow import DISCARDED, Workflow

FACT_COLUMNS = [
    "title", "type", "labels", "url", "source", "lines_changed",
    "position", "stage", "created_at", "started_at", "done_at",
    "cycle_time_days", "cycle_time_hours", "age_days", "in_progress", "discarded",
    "blocked_days", "blocked_now", "blocked_since", "flow_efficiency",
]  # fmt: skip


def in_progress_runs(intervals: pd.DataFrame, workflow: Workflow) -> pd.DataFrame:
    """Runs of consecutive in-progress positions (start <= position < done) per item:
    `item_id`, `start`, `end`, `current`."""
    pos = intervals["position"].to_numpy()
    return runs(intervals, (pos >= workflow.start) & (pos < workflow.done))


def _latest_run_start(intervals: pd.DataFrame, member: np.ndarray) -> pd.Series:
    r = runs(intervals, member)
    return r.groupby("item_id", sort=False)["start"].last()


def done_times(intervals: pd.DataFrame, workflow: Workflow) -> pd.Series:
    """`done_at` of each item whose current position is >= done: the start of its latest run
    there. Index `item_id`; values UTC timestamps. Empty intervals -> an empty Series."""
    # Plain array arithmetic, not `runs` (a groupby): the backtest calls this 27 times.
    item = intervals["item_id"].to_numpy()
    member = intervals["position"].to_numpy() >= workflow.done
    new_item = np.r_[True, item[1:] != item[:-1]] if len(item) else np.zeros(0, dtype=bool)
    run_begins = member & (new_item | ~np.r_[False, member[:-1]])
    begin_row = np.maximum.accumulate(np.where(run_begins, np.arange(len(item)), 0))
    last = intervals["current"].to_numpy(dtype=bool) & member
    entered = intervals["entered"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    moments = pd.DatetimeIndex(entered[begin_row[last]]).tz_localize("UTC")
    index = pd.Index(item[last], name="item_id")
    return pd.Series(moments, index=index, name="done_at")


def item_facts(
    items: pd.DataFrame,
    events: pd.DataFrame,
    intervals: pd.DataFrame,
    workflow: Workflow,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per item: index `item_id`, columns `FACT_COLUMNS`.

    - `position`: current stage index (-1 discarded; missing when no mapped status yet);
      `stage`: its name, `discarded`, or "" when no status of the item is mapped.
    - `started_at`: start of the latest uninterrupted run at a position >= start (items moved
      back before start or discarded keep the start of their last run);
      `done_at`: when the current position is >= done, the start of the latest run there.
    - `cycle_time_days` = local days from start to done, inclusive; `cycle_time_hours` exact.
    - `age_days` for items in progress at `as_of`; `blocked_days` while in progress;
      `blocked_now`: in a blocked spell at `as_of`, since `blocked_since` (UTC; else NaT);
      `flow_efficiency` for delivered items.
    Items appear if they are in `items` or have any event. Empty input -> empty frame.
    """
    tz = workflow.timezone
    ids = pd.Index(pd.unique(pd.concat([items["item_id"], events["item_id"]])), name="item_id")
    facts = pd.DataFrame(index=ids)
    # One reindex of the whole attribute frame, not one hash lookup of the ids per column.
    attrs = items.drop_duplicates("item_id", keep="last").set_index("item_id").reindex(ids)
    for col in ("title", "type", "labels", "url", "source"):
        facts[col] = attrs[col].fillna("").astype(str) if col in attrs else ""
    facts["lines_changed"] = attrs.get("lines_changed", pd.NA)
    facts["lines_changed"] = facts["lines_changed"].astype("Int64")

    known = events[events["event"].eq("status") & events["changed_at"].le(as_of)]
    facts["created_at"] = known.groupby("item_id")["changed_at"].min().reindex(ids)

    current = intervals[intervals["current"]].set_index("item_id")["position"]
    position = current.reindex(ids).astype("Int64")
    facts["position"] = position
    # Index -1 (discarded) picks "discarded"; -2 (no mapped status yet) picks "".
    names = np.array([*workflow.stage_names, "", "discarded"], dtype=object)
    pos_values = position.fillna(-2).to_numpy(dtype="int64")
    facts["stage"] = names[pos_values]

    pos = intervals["position"].to_numpy()
    started = _latest_run_start(intervals, pos >= workflow.start)
    facts["started_at"] = started.reindex(ids)
    facts["done_at"] = done_times(intervals, workflow).reindex(ids)
    facts["started_at"] = facts["started_at"].astype("datetime64[ns, UTC]")
    facts["done_at"] = facts["done_at"].astype("datetime64[ns, UTC]")
    facts["created_at"] = facts["created_at"].astype("datetime64[ns, UTC]")

    start_day = local_days(facts["started_at"], tz)
    done_day = local_days(facts["done_at"], tz)
    facts["cycle_time_days"] = ((done_day - start_day).dt.days + 1).astype("Int64")
    hours = (facts["done_at"] - facts["started_at"]).dt.total_seconds() / 3600.0
    facts["cycle_time_hours"] = hours.round(4)

    in_progress = (position.ge(workflow.start) & position.lt(workflow.done)).fillna(False)
    facts["in_progress"] = in_progress.to_numpy(dtype=bool)
    facts["discarded"] = position.eq(DISCARDED).fillna(False).to_numpy(dtype=bool)
    as_of_day = local_day(as_of, tz)
    age = ((as_of_day - start_day).dt.days + 1).astype("Int64")
    facts["age_days"] = age.where(facts["in_progress"])

    progress_runs = in_progress_runs(intervals, workflow)
    spells = blocked_spells(events, as_of)
    facts["blocked_days"] = (
        blocked_days(spells, progress_runs, tz).reindex(ids).fillna(0).astype("int64")
    )
    open_spells = spells[spells["open"]].drop_duplicates("item_id", keep="last")
    facts["blocked_now"] = ids.isin(open_spells["item_id"]) & facts["in_progress"].to_numpy()
    since = open_spells.set_index("item_id")["start"].reindex(ids)
    facts["blocked_since"] = since.where(facts["blocked_now"].to_numpy())
    facts["flow_efficiency"] = flow_efficiency(intervals, facts, workflow).reindex(ids)
    return facts[FACT_COLUMNS]


def flow_efficiency(intervals: pd.DataFrame, facts: pd.DataFrame, workflow: Workflow) -> pd.Series:
    """For delivered items: the share of their in-progress time between `started_at` and
    `done_at` spent in stages not marked `waiting`. Indexed by item_id; missing when that time
    is zero or the item is not delivered."""
    delivered = facts["done_at"].notna().to_numpy()
    empty = pd.Series(dtype="float64", name="flow_efficiency")
    if not delivered.any() or intervals.empty:
        return empty
    pos = intervals["position"].to_numpy()
    progress = intervals[(pos >= workflow.start) & (pos < workflow.done)]
    # By the facts' row of each interval, not a join on item strings; on int64 nanoseconds,
    # since numpy's maximum/minimum on tz-aware Series build one Timestamp object per row.
    row = facts.index.get_indexer(progress["item_id"])
    keep = (row >= 0) & np.append(delivered, False)[row]
    if not keep.any():
        return empty
    row = row[keep]
    begin = np.maximum(epoch_ns(progress["entered"])[keep], epoch_ns(facts["started_at"])[row])
    end = np.minimum(epoch_ns(progress["left"])[keep], epoch_ns(facts["done_at"])[row])
    seconds = np.clip(end - begin, 0, None) / 1e9
    waiting = np.array([s.waiting for s in workflow.stages])[progress["position"].to_numpy()[keep]]
    total = np.bincount(row, weights=seconds, minlength=len(facts))
    active = np.bincount(row, weights=np.where(waiting, 0.0, seconds), minlength=len(facts))
    has = np.bincount(row, minlength=len(facts)) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, active / total, np.nan)
    return pd.Series(share[has], index=facts.index[has], name="flow_efficiency").round(4)
