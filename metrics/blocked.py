"""Blocked spells and blocked days (spec: days on which an item was blocked while in progress)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.days import DAY_NS, ONE_NS, local_days, utc_ns
from metrics.intervals import epoch_ns, item_time_order


def blocked_spells(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each stretch between a `blocked` event and the next `unblocked` one.

    Columns: `item_id`, `start`, `end` (UTC; a spell with no `unblocked` runs to `as_of`),
    `open` (still blocked at `as_of`). A repeated `blocked` inside a spell changes nothing; an
    `unblocked` without a spell is ignored. Empty input -> empty frame with these columns.
    """
    mask = events["event"].isin(["blocked", "unblocked"]) & events["changed_at"].le(as_of)
    ev = events[mask]
    ev = ev.take(item_time_order(ev)).astype({"changed_at": "datetime64[ns, UTC]"})
    item = ev["item_id"].to_numpy()
    state = ev["event"].eq("blocked").to_numpy()
    new_item = np.r_[True, item[1:] != item[:-1]] if len(ev) else np.array([], dtype=bool)
    prev_state = np.r_[False, state[:-1]] if len(ev) else state
    changes = np.where(new_item, state, state != prev_state)
    ev = ev[changes]
    item = ev["item_id"].to_numpy()
    starts = ev["event"].eq("blocked").to_numpy()
    times = ev["changed_at"].to_numpy(dtype="datetime64[ns]")
    same_item_next = np.r_[item[1:] == item[:-1], False] if len(ev) else starts
    end = np.where(same_item_next, np.r_[times[1:], times[:1]][: len(times)], utc_ns(as_of))
    return pd.DataFrame(
        {
            "item_id": item[starts],
            "start": pd.DatetimeIndex(times[starts]).tz_localize("UTC"),
            "end": pd.DatetimeIndex(end[starts]).tz_localize("UTC"),
            "open": ~same_item_next[starts],
        }
    )


def merge_day_ranges(ranges: pd.DataFrame) -> pd.DataFrame:
    """Union of day ranges per item. Input and output columns: `item_id`, `first`, `last`
    (local days, inclusive). Overlapping or touching-on-the-same-day ranges merge. Output rows
    are ordered by item, then `first`."""
    if ranges.empty:
        return ranges[["item_id", "first", "last"]]
    # On integer item ranks and day numbers, not a sort of the id strings and a group-by.
    rank = pd.factorize(ranges["item_id"], sort=True)[0]
    first = ranges["first"].to_numpy(dtype="datetime64[ns]")
    last = ranges["last"].to_numpy(dtype="datetime64[ns]")
    order = np.lexsort((first, rank))
    rank, first, last = rank[order], first[order], last[order]
    item = ranges["item_id"].to_numpy()[order]
    first_day = first.view("int64") // DAY_NS
    last_day = last.view("int64") // DAY_NS
    new_item = np.r_[True, rank[1:] != rank[:-1]]
    # Running maximum of `last` within each item, to merge ranges nested in an earlier one:
    # one running maximum over (rank, day) keys, each item's keys above every earlier item's.
    low = last_day.min()
    span = last_day.max() - low + 1
    reach = np.maximum.accumulate(rank * span + (last_day - low)) - rank * span + low
    starts = np.flatnonzero(new_item | np.r_[True, first_day[1:] > reach[:-1]])
    return pd.DataFrame(
        {
            "item_id": item[starts],
            "first": first[starts],
            "last": np.maximum.reduceat(last, starts),
        }
    )


def spell_day_ranges(spells: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Spells (`item_id`, `start`, `end`) -> the local days they touch (`item_id`, `first`,
    `last`). A spell ending exactly at midnight does not touch the new day; zero-length spells
    are dropped."""
    spells = spells[spells["end"] > spells["start"]]
    return pd.DataFrame(
        {
            "item_id": spells["item_id"].to_numpy(),
            "first": local_days(spells["start"], timezone).to_numpy(),
            "last": local_days(spells["end"] - ONE_NS, timezone).to_numpy(),
        }
    )


def blocked_days(spells: pd.DataFrame, in_progress: pd.DataFrame, timezone: str) -> pd.Series:
    """Days on which each item was blocked at some moment while in progress.

    `spells` from `blocked_spells`; `in_progress` runs (`item_id`, `start`, `end`). Returns an
    int Series indexed by item_id (items never blocked in progress are absent).
    """
    if spells.empty or in_progress.empty:
        return pd.Series(dtype="int64", name="blocked_days")
    both = spells[["item_id", "start", "end"]].merge(
        in_progress[["item_id", "start", "end"]], on="item_id", suffixes=("_b", "_p")
    )
    if both.empty:
        return pd.Series(dtype="int64", name="blocked_days")
    start = np.maximum(epoch_ns(both["start_b"]), epoch_ns(both["start_p"]))
    end = np.minimum(epoch_ns(both["end_b"]), epoch_ns(both["end_p"]))
    overlap = pd.DataFrame(
        {
            "item_id": both["item_id"].to_numpy(),
            "start": pd.to_datetime(start, utc=True),
            "end": pd.to_datetime(end, utc=True),
        }
    )
    ranges = merge_day_ranges(spell_day_ranges(overlap, timezone))
    days = (ranges["last"] - ranges["first"]).dt.days + 1
    return days.groupby(ranges["item_id"]).sum().astype("int64").rename("blocked_days")
