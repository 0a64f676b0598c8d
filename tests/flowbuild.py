"""Tiny builders for hand-made event logs in tests."""

from __future__ import annotations

import pandas as pd

from metrics.frames import FlowData, conform_events, conform_items
from metrics.workflow import workflow_from_table

#: Backlog -> Dev -> Review (waiting) -> Done; start Dev, done Done; "Dropped" discards.
SIMPLE = {
    "timezone": "UTC",
    "start": "Dev",
    "done": "Done",
    "discarded": ["Dropped"],
    "wip_limit": 3,
    "stages": [
        {"name": "Backlog", "statuses": ["Backlog", "To Do"]},
        {"name": "Dev", "statuses": ["Dev", "In Progress"], "wip_limit": 2},
        {"name": "Review", "waiting": True},
        {"name": "Done", "statuses": ["Done", "Closed"]},
    ],
}


def workflow(**overrides):
    return workflow_from_table({**SIMPLE, **overrides})


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def flow(*rows: tuple, items: list[dict] | None = None) -> FlowData:
    """Rows of (item_id, "YYYY-MM-DD HH:MM" UTC, status[, event]) in file order."""
    frame = pd.DataFrame(
        [
            {
                "item_id": r[0],
                "changed_at": ts(r[1]),
                "status": r[2],
                "event": r[3] if len(r) > 3 else "status",
            }
            for r in rows
        ]
    )
    item_frame = pd.DataFrame(items or {"item_id": frame["item_id"].unique()})
    return FlowData(items=conform_items(item_frame), events=conform_events(frame))
