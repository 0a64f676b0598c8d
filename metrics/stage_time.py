"""Time in stage: total hours each item spent at each position, over its whole history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.intervals import epoch_ns, sorted_codes
from metrics.workflow import Workflow


def time_in_stage(intervals: pd.DataFrame, workflow: Workflow) -> pd.DataFrame:
    """Index `item_id`; one float column per stage (hours, 0.0 when never there), flow order.

    Time after an item's last move runs to `as_of` (the intervals' last `left`). Time spent
    discarded counts in no stage. Empty intervals -> empty frame with the stage columns.
    """
    position = intervals["position"].to_numpy()
    staged = position >= 0
    # Sums by integer codes (items in sorted order, as a pivot table gives them): a pivot
    # table's group-by on the item strings took most of this function's time. Arrays, not a
    # filtered copy of the frame.
    codes, ids = sorted_codes(intervals["item_id"].to_numpy()[staged])
    seconds = (epoch_ns(intervals["left"])[staged] - epoch_ns(intervals["entered"])[staged]) / 1e9
    n = len(workflow.stages)
    cell = codes * n + position[staged]
    sums = np.bincount(cell, weights=seconds / 3600.0, minlength=len(ids) * n)
    table = pd.DataFrame(
        sums.reshape(len(ids), n),
        index=pd.Index(ids, name="item_id"),
        columns=workflow.stage_names,
    )
    return table.round(4)
