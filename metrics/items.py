"""Per-item facts: position, started/done times, cycle time, age, blocked days, efficiency."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.blocked import blocked_days, blocked_spells
from metrics.days import NAT_NS, local_day, local_days
from metrics.intervals import epoch_ns, known_status_events, runs
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


def interval_rows(ids: pd.Index, intervals: pd.DataFrame) -> np.ndarray:
    """The row in `ids` of each interval's item (-1 when absent). Intervals come grouped by
    item, so each item's id is looked up once, not once per interval."""
    item = intervals["item_id"].to_numpy()
    if not len(item):
        return np.zeros(0, dtype="int64")
    first = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    lengths = np.diff(np.r_[first, len(item)])
    return np.repeat(ids.get_indexer(item[first]), lengths).astype("int64")


def _latest_run_starts(rows: np.ndarray, member: np.ndarray, entered: np.ndarray, n: int):
    """Per item row: the start (int64 ns) of its latest run of consecutive member intervals;
    `NAT_NS` for items without one. As `runs`, on the items' row numbers instead of their ids."""
    out = np.full(n, NAT_NS, dtype="int64")
    picked = np.flatnonzero(member & (rows >= 0))
    if not len(picked):
        return out
    item = rows[picked]
    breaks = np.r_[True, (item[1:] != item[:-1]) | (np.diff(picked) != 1)]
    first = picked[breaks]
    run_item = rows[first]
    latest = np.r_[run_item[1:] != run_item[:-1], True]
    out[run_item[latest]] = entered[first[latest]]
    return out


def current_run_rows(item: np.ndarray, position: np.ndarray, current: np.ndarray, done: int):
    """(last interval row, start row of its run at a position >= done) of each item whose
    current position is >= done; `item` is any per-interval key that changes between items.
    (With `done` = the workflow's `start`: where the items in progress or delivered started.)"""
    member = position >= done
    new_item = np.r_[True, item[1:] != item[:-1]] if len(item) else np.zeros(0, dtype=bool)
    run_begins = member & (new_item | ~np.r_[False, member[:-1]])
    begin_row = np.maximum.accumulate(np.where(run_begins, np.arange(len(item)), 0))
    last = np.flatnonzero(current & member)
    return last, begin_row[last]


def done_times(intervals: pd.DataFrame, workflow: Workflow) -> pd.Series:
    """`done_at` of each item whose current position is >= done: the start of its latest run
    there. Index `item_id`; values UTC timestamps. Empty intervals -> an empty Series."""
    # Plain array arithmetic, not `runs` (a groupby): the backtest calls this 27 times.
    item = intervals["item_id"].to_numpy()
    last, begin = current_run_rows(
        item,
        intervals["position"].to_numpy(),
        intervals["current"].to_numpy(dtype=bool),
        workflow.done,
    )
    entered = epoch_ns(intervals["entered"]) if len(item) else np.zeros(0, dtype="int64")
    moments = pd.DatetimeIndex(entered[begin].view("datetime64[ns]")).tz_localize("UTC")
    index = pd.Index(item[last], name="item_id")
    return pd.Series(moments, index=index, name="done_at")


def _utc(ns: np.ndarray, ids: pd.Index) -> pd.Series:
    return pd.Series(pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC"), index=ids)


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
    # The events' ids are hashed once: their distinct values give both the union of ids (in
    # the order items, then events, first appearance) and each event's row.
    event_codes, event_ids = pd.factorize(events["item_id"], use_na_sentinel=False)
    ids = pd.Index(pd.unique(pd.concat([items["item_id"], event_ids.to_series()])), name="item_id")
    n = len(ids)
    facts = pd.DataFrame(index=ids)
    # One reindex of the whole attribute frame, not one hash lookup of the ids per column.
    attrs = items.drop_duplicates("item_id", keep="last").set_index("item_id").reindex(ids)
    for col in ("title", "type", "labels", "url", "source"):
        facts[col] = attrs[col].fillna("").astype(str) if col in attrs else ""
    facts["lines_changed"] = attrs.get("lines_changed", pd.NA)
    facts["lines_changed"] = facts["lines_changed"].astype("Int64")

    # From here on, items are their row numbers in `ids`: every per-item value is an array
    # filled by row, not a Series looked up by id strings (a hash of 100,000 ids per lookup).
    times, known = known_status_events(events, as_of)
    event_rows = ids.get_indexer(event_ids)[event_codes]
    created = np.full(n, np.iinfo("int64").max, dtype="int64")
    np.minimum.at(created, event_rows[known], times[known])
    created[created == np.iinfo("int64").max] = NAT_NS
    facts["created_at"] = _utc(created, ids)

    rows = interval_rows(ids, intervals)
    pos = intervals["position"].to_numpy()
    current = intervals["current"].to_numpy(dtype=bool)
    entered = epoch_ns(intervals["entered"]) if len(rows) else np.zeros(0, dtype="int64")
    pos_values = np.full(n, -2, dtype="int64")
    pos_values[rows[current]] = pos[current]
    position = pd.Series(
        pd.arrays.IntegerArray(pos_values, pos_values == -2), index=ids, name="position"
    )
    facts["position"] = position
    # Index -1 (discarded) picks "discarded"; -2 (no mapped status yet) picks "".
    names = np.array([*workflow.stage_names, "", "discarded"], dtype=object)
    facts["stage"] = names[pos_values]

    facts["started_at"] = _utc(_latest_run_starts(rows, pos >= workflow.start, entered, n), ids)
    done = np.full(n, NAT_NS, dtype="int64")
    last, begin = current_run_rows(rows, pos, current, workflow.done)
    done[rows[last]] = entered[begin]
    facts["done_at"] = _utc(done, ids)

    start_day = local_days(facts["started_at"], tz)
    done_day = local_days(facts["done_at"], tz)
    facts["cycle_time_days"] = ((done_day - start_day).dt.days + 1).astype("Int64")
    hours = (facts["done_at"] - facts["started_at"]).dt.total_seconds() / 3600.0
    facts["cycle_time_hours"] = hours.round(4)

    in_progress = (pos_values >= workflow.start) & (pos_values < workflow.done)
    facts["in_progress"] = in_progress
    facts["discarded"] = pos_values == DISCARDED
    as_of_day = local_day(as_of, tz)
    age = ((as_of_day - start_day).dt.days + 1).astype("Int64")
    facts["age_days"] = age.where(in_progress)

    progress_runs = in_progress_runs(intervals, workflow)
    spells = blocked_spells(events, as_of)
    # The few blocked items are placed by their rows (a reindex would hash every id again).
    blocked = blocked_days(spells, progress_runs, tz)
    days = np.zeros(n, dtype="int64")
    at = ids.get_indexer(blocked.index)
    days[at[at >= 0]] = blocked.to_numpy()[at >= 0]
    facts["blocked_days"] = days
    open_spells = spells[spells["open"]].drop_duplicates("item_id", keep="last")
    since = np.full(n, NAT_NS, dtype="int64")
    at = ids.get_indexer(open_spells["item_id"])
    since[at[at >= 0]] = epoch_ns(open_spells["start"])[at >= 0]
    blocked_now = (since != NAT_NS) & in_progress
    facts["blocked_now"] = blocked_now
    facts["blocked_since"] = _utc(np.where(blocked_now, since, NAT_NS), ids)
    share, has = _efficiency(intervals, facts, workflow, rows)
    facts["flow_efficiency"] = np.where(has, share, np.nan).round(4)
    return facts[FACT_COLUMNS]


def flow_efficiency(
    intervals: pd.DataFrame,
    facts: pd.DataFrame,
    workflow: Workflow,
    rows: np.ndarray | None = None,
) -> pd.Series:
    """For delivered items: the share of their in-progress time between `started_at` and
    `done_at` spent in stages not marked `waiting`. Indexed by item_id; missing when that time
    is zero or the item is not delivered. `rows`: each interval's row in `facts` when the
    caller has them (`interval_rows`)."""
    share, has = _efficiency(intervals, facts, workflow, rows)
    return pd.Series(share[has], index=facts.index[has], name="flow_efficiency").round(4)


def _efficiency(
    intervals: pd.DataFrame, facts: pd.DataFrame, workflow: Workflow, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(share, has) per row of `facts`: `flow_efficiency`'s value, and whether it has one."""
    n = len(facts)
    none = (np.full(n, np.nan), np.zeros(n, dtype=bool))
    delivered = facts["done_at"].notna().to_numpy()
    if not delivered.any() or intervals.empty:
        return none
    pos = intervals["position"].to_numpy()
    in_progress = (pos >= workflow.start) & (pos < workflow.done)
    # By the facts' row of each interval, not a join on item strings; on int64 nanoseconds,
    # since numpy's maximum/minimum on tz-aware Series build one Timestamp object per row.
    if rows is None:
        rows = interval_rows(facts.index, intervals)
    row = rows[in_progress]
    keep = (row >= 0) & np.append(delivered, False)[row]
    if not keep.any():
        return none
    row = row[keep]
    picked = np.flatnonzero(in_progress)[keep]
    entered = epoch_ns(intervals["entered"])[picked]
    left = epoch_ns(intervals["left"])[picked]
    begin = np.maximum(entered, epoch_ns(facts["started_at"])[row])
    end = np.minimum(left, epoch_ns(facts["done_at"])[row])
    seconds = np.clip(end - begin, 0, None) / 1e9
    waiting = np.array([s.waiting for s in workflow.stages])[pos[picked]]
    total = np.bincount(row, weights=seconds, minlength=n)
    active = np.bincount(row, weights=np.where(waiting, 0.0, seconds), minlength=n)
    has = np.bincount(row, minlength=n) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, active / total, np.nan)
    return share, has
