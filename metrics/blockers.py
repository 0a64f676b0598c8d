"""What blocks the team: blocked days by item, stage, reason and week (spec section 3).

Blocked days count the local days on which an item was blocked at some moment while in progress
(`metrics.blocked`). Here the same days are split by the stage the item was in and by the reason
the source gave: a `blocked` event's `status` holds its reason when the source knows one (a
GitHub label such as `blocked:vendor`, the comment on a Jira flag), and is empty otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.blocked import blocked_spells, merge_day_ranges, spell_day_ranges
from metrics.days import local_day, local_days, naive_utc
from metrics.workflow import Workflow

#: The reason shown when the source gave none.
NO_REASON = "(no reason given)"
BLOCKED_DAY_COLUMNS = ["item_id", "stage", "reason", "day"]
BLOCKED_NOW_COLUMNS = ["item_id", "title", "stage", "since", "blocked_for_days", "reason"]


def spell_reasons(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """`blocked_spells` with the reason of each spell: the `status` text of the `blocked` event
    that opened it (stripped), or `NO_REASON`. Columns: `item_id`, `start`, `end`, `open`,
    `reason`. Empty input -> empty frame with these columns."""
    spells = blocked_spells(events, as_of)
    opened = events[events["event"].eq("blocked") & events["changed_at"].le(as_of)]
    opened = opened.sort_values(["item_id", "changed_at", "seq"], kind="stable")
    opened = opened.drop_duplicates(["item_id", "changed_at"], keep="first")
    text = opened.set_index(["item_id", "changed_at"])["status"].astype(str).str.strip()
    keys = pd.MultiIndex.from_arrays([spells["item_id"], spells["start"]])
    reason = text.reindex(keys).fillna("").to_numpy()
    return spells.assign(reason=np.where(reason == "", NO_REASON, reason))


def blocked_item_days(
    events: pd.DataFrame, intervals: pd.DataFrame, workflow: Workflow, as_of: pd.Timestamp
) -> pd.DataFrame:
    """One row per item, in-progress stage, reason and local day on which the item was blocked
    at some moment while in that stage (the days that make up `blocked_days`, split by stage).

    `intervals` from `metrics.intervals.stage_intervals`. Columns: `BLOCKED_DAY_COLUMNS`
    (`stage` the stage name, `day` a naive local midnight). A day on which an item was blocked
    in two stages, or for two reasons, appears once for each. Empty input -> empty frame.
    """
    spells = spell_reasons(events, as_of)
    pos = intervals["position"].to_numpy()
    progress = intervals[(pos >= workflow.start) & (pos < workflow.done)]
    both = spells.merge(progress[["item_id", "position", "entered", "left"]], on="item_id")
    start = np.maximum(naive_utc(both["start"]), naive_utc(both["entered"]))
    end = np.minimum(naive_utc(both["end"]), naive_utc(both["left"]))
    overlap = pd.DataFrame(
        {
            # One key per (item, stage, reason) so merging day ranges keeps them apart.
            "item_id": both["item_id"].astype(str)
            + "\x1f"
            + both["position"].astype(str)
            + "\x1f"
            + both["reason"].astype(str),
            "start": pd.DatetimeIndex(start).tz_localize("UTC"),
            "end": pd.DatetimeIndex(end).tz_localize("UTC"),
        }
    )
    ranges = merge_day_ranges(spell_day_ranges(overlap, workflow.timezone))
    if ranges.empty:
        return pd.DataFrame(
            {
                "item_id": pd.Series(dtype=object),
                "stage": pd.Series(dtype=object),
                "reason": pd.Series(dtype=object),
                "day": pd.Series(dtype="datetime64[ns]"),
            }
        )
    lengths = ((ranges["last"] - ranges["first"]).dt.days + 1).to_numpy()
    first = np.repeat(ranges["first"].to_numpy(dtype="datetime64[ns]"), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    key = ranges["item_id"].str.split("\x1f", n=2, expand=True)
    names = np.array(workflow.stage_names, dtype=object)
    return pd.DataFrame(
        {
            "item_id": np.repeat(key[0].to_numpy(), lengths),
            "stage": names[np.repeat(key[1].astype(int).to_numpy(), lengths)],
            "reason": np.repeat(key[2].to_numpy(), lengths),
            "day": first + offset.astype("timedelta64[D]"),
        }
    )


def blocked_share(facts: pd.DataFrame) -> pd.DataFrame:
    """For each delivered item: `blocked_days`, `cycle_time_days` and `blocked_share` (blocked
    days / cycle-time days: the part of its cycle time the item spent blocked, 0..1).

    `facts` from `metrics.items.item_facts` (index item_id). Index item_id; empty input -> an
    empty frame with these columns."""
    done = facts[facts["done_at"].notna()]
    days = done["cycle_time_days"].astype("float64")
    blocked = done["blocked_days"].astype("float64")
    return pd.DataFrame(
        {
            "blocked_days": blocked,
            "cycle_time_days": days,
            "blocked_share": (blocked / days).where(days > 0).round(4),
        }
    )


def blocked_now(
    spells: pd.DataFrame, facts: pd.DataFrame, as_of: pd.Timestamp, timezone: str
) -> pd.DataFrame:
    """Items in progress that are blocked at `as_of`, longest blocked first.

    `spells` from `spell_reasons`, `facts` from `item_facts`. `since` is when the open spell
    began (UTC); `blocked_for_days` counts its local days as age does (a spell that began today
    is 1 day). Columns: `BLOCKED_NOW_COLUMNS`; empty when nothing is blocked."""
    open_spells = spells[spells["open"]].drop_duplicates("item_id", keep="last")
    wip = facts[facts["in_progress"]]
    rows = open_spells[open_spells["item_id"].isin(wip.index)]
    started = local_days(rows["start"], timezone)
    days = (local_day(as_of, timezone) - started).dt.days + 1
    out = pd.DataFrame(
        {
            "item_id": rows["item_id"].to_numpy(),
            "title": wip["title"].reindex(rows["item_id"]).to_numpy(),
            "stage": wip["stage"].reindex(rows["item_id"]).to_numpy(),
            "since": rows["start"].to_numpy(),
            "blocked_for_days": days.astype("int64").to_numpy(),
            "reason": rows["reason"].to_numpy(),
        }
    )
    out["since"] = pd.to_datetime(out["since"], utc=True)
    return out.sort_values(
        ["blocked_for_days", "item_id"], ascending=[False, True], ignore_index=True
    )[BLOCKED_NOW_COLUMNS]


def blocked_days_by(days: pd.DataFrame, column: str) -> pd.DataFrame:
    """Blocked item-days summed by `column` (`stage` or `reason`) from `blocked_item_days`:
    columns `column`, `blocked_days`, `items` (distinct items), most days first. Empty input
    -> empty frame with these columns."""
    grouped = days.groupby(column, sort=False).agg(
        blocked_days=("day", "size"), items=("item_id", "nunique")
    )
    out = grouped.reset_index().sort_values(
        ["blocked_days", column], ascending=[False, True], ignore_index=True
    )
    return out.astype({"blocked_days": "int64", "items": "int64"})


def blocked_days_per_week(
    days: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp
) -> pd.DataFrame:
    """Blocked item-days per week (weeks start on Monday) over the local days [first, last]:
    index `week` (the Monday), columns `blocked_days` and `items_blocked` (distinct items). A
    day on which an item was blocked in two stages or for two reasons counts once. Weeks with
    nothing blocked are 0; empty input -> the weeks with zeros."""
    unique = days.drop_duplicates(["item_id", "day"])
    unique = unique[(unique["day"] >= first) & (unique["day"] <= last)]
    week = unique["day"] - pd.to_timedelta(unique["day"].dt.day_of_week, unit="D")
    counts = (
        unique.assign(week=week)
        .groupby("week")
        .agg(blocked_days=("day", "size"), items_blocked=("item_id", "nunique"))
    )
    monday = first - pd.Timedelta(days=first.day_of_week)
    weeks = pd.date_range(monday, last, freq="7D", name="week")
    return counts.reindex(weeks, fill_value=0).astype("int64")
