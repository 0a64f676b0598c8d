"""Benchmark of the store: load 1,000,000 events (about 50,000 items) into the canonical frames.

Target (issue 3): `Store.read_flow_data` reads 1,000,000 events in under 3 seconds. Also measured,
without a target: the time to write them (one source, one transaction) and the peak memory the
read adds (tracemalloc; numpy and pandas report their buffers to it).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.base import Chunk
from connectors.store import open_store

EVENTS = 1_000_000
ITEMS = 50_000
STATUSES = ("Backlog", "Ready", "In Progress", "Review", "Testing", "Ready to Ship", "Done")


def synthetic_chunk(events: int = EVENTS, items: int = ITEMS, seed: int = 3) -> Chunk:
    """`events` events spread over `items` items: each item walks the statuses back and forth,
    with an occasional blocked/unblocked pair, over two years."""
    rng = np.random.default_rng(seed)
    per_item = np.full(items, events // items)
    per_item[: events - per_item.sum()] += 1
    item_of = np.repeat(np.arange(items), per_item)
    first = np.repeat(np.cumsum(per_item) - per_item, per_item)
    step = np.arange(events) - first
    start = pd.Timestamp("2024-01-01", tz="UTC").value
    born = start + rng.integers(0, 730 * 86_400, items) * 1_000_000_000
    gaps = rng.integers(60, 3 * 86_400, events) * 1_000_000_000
    # Times increase within an item: a running sum of gaps, restarted at each item's first event.
    running = np.cumsum(gaps)
    changed = born[item_of] + running - running[first]
    kind = np.where(
        rng.random(events) < 0.05, np.where(step % 2 == 0, "blocked", "unblocked"), "status"
    )
    kind[step == 0] = "status"
    walk = np.minimum(step, len(STATUSES) - 1) - (rng.random(events) < 0.1)
    status = np.array(STATUSES, dtype=object)[np.clip(walk, 0, len(STATUSES) - 1)]
    status[kind != "status"] = ""
    ids = np.array([f"bench:ITEM-{i}" for i in range(items)], dtype=object)
    event_frame = pd.DataFrame(
        {
            "item_id": ids[item_of],
            "changed_at": pd.to_datetime(changed, utc=True),
            "event": kind,
            "status": status,
            "seq": np.arange(events, dtype=np.int64),
        }
    )
    item_frame = pd.DataFrame(
        {
            "item_id": ids,
            "title": [f"Work item {i}" for i in range(items)],
            "type": np.where(np.arange(items) % 5 == 0, "Bug", "Story"),
            "source": "bench",
        }
    )
    return Chunk(items=item_frame, events=event_frame, cursor="bench")


def run() -> list[dict]:
    chunk = synthetic_chunk()
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-") as tmp:
        path = Path(tmp) / "flowdeck.db"
        with open_store(path) as store:
            began = time.perf_counter()
            writer = store.writer("bench", "csv")
            writer.add(chunk)
            writer.commit(replace=("items", "events"))
            results.append(
                {
                    "name": "store: write 1,000,000 events (one transaction)",
                    "value": round(time.perf_counter() - began, 2),
                    "unit": "s",
                    "target": None,
                }
            )
        del chunk
        with open_store(path, create=False) as store:
            began = time.perf_counter()
            data = store.read_flow_data()
            elapsed = time.perf_counter() - began
            if len(data.events) != EVENTS or len(data.items) != ITEMS:
                raise RuntimeError(
                    f"store benchmark read {len(data.events)} events, {len(data.items)} items"
                )
            results.append(
                {
                    "name": "store: read_flow_data, 1,000,000 events",
                    "value": round(elapsed, 2),
                    "unit": "s",
                    "target": 3.0,
                }
            )
            del data
            tracemalloc.start()
            store.read_flow_data()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            results.append(
                {
                    "name": "store: read_flow_data peak memory, 1,000,000 events",
                    "value": round(peak / 2**20),
                    "unit": "MiB",
                    "target": None,
                }
            )
        results.append(
            {
                "name": "store: file size, 1,000,000 events",
                "value": round(path.stat().st_size / 2**20),
                "unit": "MiB",
                "target": None,
            }
        )
    return results


if __name__ == "__main__":
    for row in run():
        print(row)
