"""The data-quality report: what in the history deserves a second look before trusting numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.report import FlowReport
from metrics.workflow import Workflow

QUALITY_COLUMNS = ["check", "count", "detail"]
#: This many items or more moving within one minute is a board clean-up, not flow.
MASS_MOVE_ITEMS = 10


def mass_moves(intervals: pd.DataFrame, min_items: int = MASS_MOVE_ITEMS) -> pd.DataFrame:
    """Minutes in which `min_items` or more items moved (changed stage, creation excluded): board
    clean-ups and bulk edits, whose moves are bookkeeping rather than flow and make throughput
    and the CFD jump. `intervals` from `metrics.intervals.stage_intervals`. Columns `minute`
    (UTC, the minute's start) and `items`, in time order; empty when there is none."""
    item = intervals["item_id"].to_numpy()
    moved = np.r_[False, item[1:] == item[:-1]] if len(intervals) else np.array([], dtype=bool)
    moves = intervals.loc[moved, ["item_id", "entered"]]
    minute = moves["entered"].dt.floor("min")
    counts = moves.assign(minute=minute).groupby("minute")["item_id"].nunique()
    out = counts[counts >= min_items].rename("items").reset_index()
    return out.astype({"items": "int64"})


def data_quality(report: FlowReport, workflow: Workflow) -> pd.DataFrame:
    """Rows `check`, `count`, `detail` (one per check, in a fixed order; counts are ints):

    - `unmapped_status`: one row per unmapped status (detail: the status), events into it;
    - `backward_moves`: moves to an earlier stage (reopens and rework);
    - `skipped_stages`: forward moves that jumped over at least one stage;
    - `straight_to_done`: delivered items that went from before `start` straight to done
      (their cycle time is one day with zero hours: check the mapping of `start`);
    - `discarded_then_delivered`: delivered items that were discarded before;
    - `mass_moves`: minutes in which `MASS_MOVE_ITEMS` or more items moved (the first three
      named in the detail).
    Empty report -> those rows with count 0 (no unmapped-status rows).
    """
    iv = report.intervals
    item = iv["item_id"].to_numpy()
    pos = iv["position"].to_numpy()
    same = np.r_[False, item[1:] == item[:-1]] if len(iv) else np.array([], dtype=bool)
    prev = np.r_[0, pos[:-1]] if len(iv) else pos
    staged = same & (pos >= 0) & (prev >= 0)
    backward = int((staged & (pos < prev)).sum())
    skipped = int((staged & (pos > prev + 1)).sum())
    facts = report.items
    delivered = facts[facts["done_at"].notna()]
    straight = int((delivered["cycle_time_hours"] == 0).sum())
    was_discarded = set(iv.loc[iv["position"] < 0, "item_id"])
    resurrected = int(delivered.index.isin(list(was_discarded)).sum())
    bulk = mass_moves(iv)
    rows = [
        ("unmapped_status", int(r["count"]), str(r["status"]))
        for _, r in report.unmapped.iterrows()
    ]
    rows += [
        ("backward_moves", backward, "moves to an earlier stage (rework, reopened items)"),
        ("skipped_stages", skipped, "forward moves that jumped over one or more stages"),
        ("straight_to_done", straight, "delivered items that never passed through the start"),
        ("discarded_then_delivered", resurrected, "delivered after having been discarded"),
        ("mass_moves", len(bulk), _mass_move_words(bulk)),
    ]
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS).astype({"count": "int64"})


def _mass_move_words(bulk: pd.DataFrame) -> str:
    what = f"minutes in which {MASS_MOVE_ITEMS} or more items moved at once (board clean-ups)"
    named = [f"{m:%Y-%m-%d %H:%M} UTC ({n} items)" for m, n in
             zip(bulk["minute"].head(3), bulk["items"].head(3), strict=True)]  # fmt: skip
    more = f" and {len(bulk) - 3} more" if len(bulk) > 3 else ""
    return what + (": " + ", ".join(named) + more if named else "")
