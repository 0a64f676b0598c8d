"""Time in stage: total hours each item spent at each position, over its whole history."""

from __future__ import annotations

import pandas as pd

from metrics.workflow import Workflow


def time_in_stage(intervals: pd.DataFrame, workflow: Workflow) -> pd.DataFrame:
    """Index `item_id`; one float column per stage (hours, 0.0 when never there), flow order.

    Time after an item's last move runs to `as_of` (the intervals' last `left`). Time spent
    discarded counts in no stage. Empty intervals -> empty frame with the stage columns.
    """
    staged = intervals[intervals["position"] >= 0]
    hours = (staged["left"] - staged["entered"]).dt.total_seconds() / 3600.0
    table = (
        pd.DataFrame({"item_id": staged["item_id"], "position": staged["position"], "h": hours})
        .pivot_table(index="item_id", columns="position", values="h", aggfunc="sum")
        .reindex(columns=range(len(workflow.stages)))
        .fillna(0.0)
        .round(4)
    )
    table.columns = workflow.stage_names
    table.index.name = "item_id"
    return table
