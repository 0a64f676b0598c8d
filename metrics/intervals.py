"""Stage intervals: the one derived table every metric works from.

An item's position at time t is the stage of its latest mapped status event at or before t
(spec section 3). Unmapped statuses leave the item where it was; a repeated position is no move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.days import utc_ns
from metrics.workflow import Workflow, normalize_status

INTERVAL_COLUMNS = ["item_id", "position", "entered", "left", "current"]


def empty_intervals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series(dtype=object),
            "position": pd.Series(dtype="int64"),
            "entered": pd.Series(dtype="datetime64[ns, UTC]"),
            "left": pd.Series(dtype="datetime64[ns, UTC]"),
            "current": pd.Series(dtype=bool),
        }
    )


def item_time_order(events: pd.DataFrame) -> np.ndarray:
    """Row positions that put `events` in (item, time, file order), as a stable sort by
    `item_id`, `changed_at`, `seq` would: integer sorts instead of sorting strings."""
    item_rank = pd.factorize(events["item_id"], sort=True)[0]
    return rank_time_order(item_rank, epoch_ns(events["changed_at"]), events["seq"].to_numpy())


def rank_time_order(rank: np.ndarray, times: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """`np.lexsort((seq, times, rank))`, cheaper for the orders logs come in: a log already in
    (time, file) order (a CSV written as things happened) needs one stable sort of the ranks,
    and one already grouped by item in time order needs none."""
    if len(rank) < 2:
        return np.arange(len(rank))
    later = (times[1:] > times[:-1]) | ((times[1:] == times[:-1]) & (seq[1:] >= seq[:-1]))
    if later.all():
        return np.argsort(rank, kind="stable")
    if ((rank[1:] > rank[:-1]) | ((rank[1:] == rank[:-1]) & later)).all():
        return np.arange(len(rank))
    return np.lexsort((seq, times, rank))


def map_positions(statuses: pd.Series, workflow: Workflow) -> pd.Series:
    """Raw statuses -> stage index (float, NaN when unmapped; `DISCARDED` for discarded)."""
    # A board has a few dozen distinct statuses: normalize and look up each once.
    codes, uniques = pd.factorize(statuses)
    lookup = workflow.status_positions()
    found = [lookup.get(normalize_status(u)) for u in uniques]
    per_unique = np.array([np.nan if f is None else f for f in found] + [np.nan], dtype="float64")
    return pd.Series(per_unique[codes], index=statuses.index, dtype="float64", copy=False)


def unmapped_statuses(events: pd.DataFrame, workflow: Workflow) -> pd.DataFrame:
    """Statuses no stage or discarded list claims: columns `status`, `count` (most first)."""
    status = events.loc[events["event"].eq("status"), "status"]
    codes, uniques = pd.factorize(status)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    per_unique = pd.Series(uniques, dtype=object)
    unmapped = map_positions(per_unique, workflow).isna().to_numpy()
    frame = (
        pd.DataFrame({"status": per_unique[unmapped].str.strip(), "count": counts[unmapped]})
        .groupby("status")["count"]
        .sum()
        .reset_index()
    )
    return frame.sort_values(["count", "status"], ascending=[False, True], ignore_index=True)


def known_status_events(events: pd.DataFrame, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Every event's time (int64 ns, UTC) and whether it is a status event at or before
    `as_of`: the events the intervals and the items' created times are built from."""
    times = epoch_ns(events["changed_at"]) if len(events) else np.zeros(0, dtype="int64")
    return times, events["event"].eq("status").to_numpy(dtype=bool) & (times <= as_of_ns(as_of))


def stage_intervals(events: pd.DataFrame, workflow: Workflow, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per item, each stretch of time at one position.

    Columns: `item_id`, `position` (stage index, or -1 for discarded), `entered`, `left` (UTC;
    `left` of the item's last interval is `as_of`), `current` (the item's last interval).
    Rows are ordered by item, then time. Same-instant moves give zero-length intervals.
    Empty events -> an empty frame with these columns.
    """
    # On arrays, not frames: the status events are ordered and filtered as integer codes, and
    # only the intervals' own rows are taken from the ids and times.
    times, known = known_status_events(events, as_of)
    keep = np.flatnonzero(known)
    if not len(keep):
        return empty_intervals()
    # Ranks and positions of every row, then the kept rows: taking a text column first would
    # copy it, and nearly every row is kept.
    item_rank, item_names = pd.factorize(events["item_id"], sort=True)
    item_rank = item_rank[keep]
    times = times[keep]
    order = rank_time_order(item_rank, times, events["seq"].to_numpy()[keep])
    position = map_positions(events["status"], workflow).to_numpy()[keep][order]
    item = item_rank[order]
    times = times[order]
    mapped = ~np.isnan(position)
    item, position, times = item[mapped], position[mapped], times[mapped]
    if not len(item):
        return empty_intervals()
    new_item = np.r_[True, item[1:] != item[:-1]]
    moved = new_item | np.r_[True, position[1:] != position[:-1]]
    item, position, entered = item[moved], position[moved], times[moved]
    last_of_item = np.r_[item[1:] != item[:-1], True]
    left = np.where(last_of_item, as_of_ns(as_of), np.r_[entered[1:], entered[-1:]])
    names = np.asarray(item_names, dtype=object)
    return pd.DataFrame(
        {
            "item_id": pd.Series(names[item], dtype=object),
            "position": position.astype("int64"),
            "entered": pd.DatetimeIndex(entered.view("datetime64[ns]")).tz_localize("UTC"),
            "left": pd.DatetimeIndex(left.view("datetime64[ns]")).tz_localize("UTC"),
            "current": last_of_item,
        }
    )


def as_of_ns(moment: pd.Timestamp) -> np.int64:
    """A timestamp as int64 nanoseconds since the epoch (UTC)."""
    return utc_ns(moment).view("int64")


def epoch_ns(times: pd.Series) -> np.ndarray:
    """UTC timestamps (no NaT) as int64 nanoseconds since the epoch: hot paths compare and
    subtract these, since numpy ufuncs on tz-aware Series build one Timestamp object per row."""
    return times.to_numpy(dtype="datetime64[ns]").view("int64")


def runs(intervals: pd.DataFrame, member: np.ndarray) -> pd.DataFrame:
    """Merge consecutive intervals of one item for which `member` is true into runs.

    Columns: `item_id`, `start`, `end`, `current` (the run reaches the item's last interval).
    """
    rows = np.flatnonzero(member)
    if not len(rows):
        return pd.DataFrame(
            {
                "item_id": pd.Series(dtype=object),
                "start": pd.Series(dtype="datetime64[ns, UTC]"),
                "end": pd.Series(dtype="datetime64[ns, UTC]"),
                "current": pd.Series(dtype=bool),
            }
        )
    item = intervals["item_id"].to_numpy()[rows]
    # A run breaks where the item changes or a non-member interval sat between two members.
    breaks = np.r_[True, (item[1:] != item[:-1]) | (np.diff(rows) != 1)]
    # Rows are in (item, time) order: a run is a slice, from its first row to the row
    # before the next run's first (positions, not a group-by on run numbers).
    first = np.flatnonzero(breaks)
    last = np.r_[first[1:] - 1, len(rows) - 1]
    entered = epoch_ns(intervals["entered"])[rows[first]]
    left = epoch_ns(intervals["left"])[rows[last]]
    return pd.DataFrame(
        {
            "item_id": item[first],
            "start": pd.DatetimeIndex(entered.view("datetime64[ns]")).tz_localize("UTC"),
            "end": pd.DatetimeIndex(left.view("datetime64[ns]")).tz_localize("UTC"),
            "current": intervals["current"].to_numpy(dtype=bool)[rows[last]],
        }
    )


def sorted_codes(item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(item, sort=True)` for ids (no missing values): codes and sorted uniques.

    Intervals come grouped by item in sorted order, so the codes are the count of item changes
    so far; ids in any other order are factorized.
    """
    if not len(item):
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype=object)
    change = np.r_[True, item[1:] != item[:-1]]
    ids = item[change]
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
        codes, uniques = pd.factorize(item, sort=True)
        return codes, np.asarray(uniques, dtype=object)
    return np.cumsum(change) - 1, ids
