"""Seeded synthetic event logs of a realistic shape, at any size, for the benchmark.

A portfolio of boards over four years: seven stages (Backlog, Ready, In Progress, Review,
Testing, Ready to Ship, Done, with Review and Ready to Ship marked as queues), about six events
per item (forward walks, rework back to In Progress, blocked spells while in progress, one item
in fifty discarded) and a few hundred items still in progress at the as-of day, whatever the size
(a portfolio delivers old work: only the recently started items are open). Rows are in time
order, as a tracker exports them; the title and type are on each item's first row only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF_DAY = "2025-06-30"
TIMEZONE = "Europe/Berlin"
YEARS = 4
OPEN_ITEMS = 400
"""Items created in the last `RECENT_DAYS` days: the only ones that can still be in progress."""
RECENT_DAYS = 30

WORKFLOW_TOML = f"""
[workflow]
timezone = "{TIMEZONE}"
start = "In Progress"
done = "Done"
discarded = ["Won't Do"]

[[workflow.stages]]
name = "Backlog"
statuses = ["Backlog", "Open"]

[[workflow.stages]]
name = "Ready"

[[workflow.stages]]
name = "In Progress"
wip_limit = 120

[[workflow.stages]]
name = "Review"
waiting = true
wip_limit = 40

[[workflow.stages]]
name = "Testing"
wip_limit = 60

[[workflow.stages]]
name = "Ready to Ship"
waiting = true

[[workflow.stages]]
name = "Done"
"""

# Each item follows one of these walks (weights in the second element); "#" marks where a
# blocked spell may sit (an item blocked while in progress).
WALKS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("Open", "Ready", "In Progress", "#", "Review", "Testing", "Done"), 0.30),
    (("Backlog", "In Progress", "Review", "Testing", "Ready to Ship", "Done"), 0.20),
    (("Backlog", "Ready", "In Progress", "Review", "In Progress", "#", "Review", "Done"), 0.15),
    (("Open", "In Progress", "Testing", "In Progress", "Testing", "Done"), 0.10),
    (
        (
            "Backlog",
            "Ready",
            "In Progress",
            "#",
            "Review",
            "Testing",
            "In Progress",
            "Testing",
            "Ready to Ship",
            "Done",
        ),
        0.08,
    ),  # fmt: skip
    (("Backlog", "Ready", "In Progress", "Done"), 0.15),
    (("Backlog", "Won't Do"), 0.02),
)
# Mean hours spent after entering each status (exponential), so queues and work differ.
MEAN_HOURS = {
    "Open": 200.0, "Backlog": 200.0, "Ready": 60.0, "In Progress": 40.0, "Review": 16.0,
    "Testing": 24.0, "Ready to Ship": 30.0, "Done": 1.0, "Won't Do": 1.0,
}  # fmt: skip
BLOCKED_SHARE = 0.35
PROJECTS = tuple(f"P{k:02d}" for k in range(24))
TYPES = np.array(["Story", "Story", "Story", "Bug", "Bug", "Task", "Spike"], dtype=object)


def _walk_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walks padded into a matrix: statuses, lengths and the blocked-slot index per walk."""
    width = max(len(w) for w, _ in WALKS)
    statuses = np.full((len(WALKS), width), "", dtype=object)
    lengths = np.zeros(len(WALKS), dtype=np.int64)
    slot = np.full(len(WALKS), -1, dtype=np.int64)
    for k, (walk, _) in enumerate(WALKS):
        steps = [s for s in walk if s != "#"]
        statuses[k, : len(steps)] = steps
        lengths[k] = len(steps)
        if "#" in walk:
            slot[k] = walk.index("#") - 1  # the blocked spell happens during this step
    return statuses, lengths, slot


def generated_event_log(n_items: int, seed: int = 7) -> pd.DataFrame:
    """`n_items` items as an event-log frame (spec 1.1, all text): `item_id`, `changed_at`
    (ISO 8601 UTC), `event`, `status`, `title`, `type`; rows in time order, none after the
    as-of day. Deterministic for a given size and seed."""
    rng = np.random.default_rng(seed)
    statuses, lengths, slot = _walk_tables()
    weights = np.array([w for _, w in WALKS])
    walk = rng.choice(len(WALKS), size=n_items, p=weights / weights.sum())
    n_steps = lengths[walk].copy()

    end_ns = pd.Timestamp(AS_OF_DAY, tz=TIMEZONE).tz_convert("UTC").value
    day_ns = 86_400 * 10**9
    begin_ns = end_ns - YEARS * 365 * day_ns
    recent = min(OPEN_ITEMS, n_items // 10)
    created = np.empty(n_items, dtype=np.int64)
    old = n_items - recent
    created[:old] = rng.integers(begin_ns, end_ns - 3 * RECENT_DAYS * day_ns, old)
    created[old:] = rng.integers(end_ns - RECENT_DAYS * day_ns, end_ns, recent)
    # The recent items stop somewhere in progress: after In Progress, before Done.
    started_at = np.argmax(statuses == "In Progress", axis=1)
    walks = walk[old:]
    can = started_at[walks] > 0
    low, high = started_at[walks] + 1, lengths[walks] - 1
    cut = low + (rng.random(recent) * (high - low + 1)).astype(np.int64)
    n_steps[old:] = np.where(can & (high >= low), cut, n_steps[old:])

    # Status rows: item i has n_steps[i] rows; step k of its walk.
    item = np.repeat(np.arange(n_items), n_steps)
    first_row = np.cumsum(n_steps) - n_steps
    step = np.arange(len(item)) - first_row[item]
    status = statuses[walk[item], step]
    mean = np.vectorize(MEAN_HOURS.__getitem__, otypes=[float])(status)
    stay_ns = (rng.exponential(1.0, len(item)) * mean * 3600e9).astype(np.int64) + 60 * 10**9
    # A move happens after the previous status's stay: the running sum restarted per item.
    running = np.cumsum(stay_ns)
    before = running - stay_ns
    when = created[item] + before - before[first_row[item]]

    # Blocked spells: inside the stay of the walk's blocked slot, for a share of the items.
    # (Only where the walk reaches its blocked slot: a recent item's walk may stop before.)
    host = (slot[walk] >= 0) & (slot[walk] < n_steps)
    blocked_item = np.flatnonzero(host & (rng.random(n_items) < BLOCKED_SHARE))
    host_row = first_row[blocked_item] + slot[walk[blocked_item]]
    host_start, host_stay = when[host_row], stay_ns[host_row]
    b_start = host_start + (host_stay * rng.uniform(0.1, 0.4, len(blocked_item))).astype(np.int64)
    b_end = host_start + (host_stay * rng.uniform(0.5, 0.9, len(blocked_item))).astype(np.int64)

    all_item = np.concatenate([item, blocked_item, blocked_item])
    all_when = np.concatenate([when, b_start, b_end])
    all_event = np.concatenate(
        [
            np.full(len(item), "status", dtype=object),
            np.full(len(blocked_item), "blocked", dtype=object),
            np.full(len(blocked_item), "unblocked", dtype=object),
        ]
    )
    all_status = np.concatenate([status, np.full(2 * len(blocked_item), "", dtype=object)])
    first = np.zeros(len(all_item), dtype=bool)
    first[first_row] = True

    keep = all_when <= end_ns
    order = np.argsort(all_when[keep], kind="stable")
    rows_item = all_item[keep][order]
    ids = np.char.add(
        np.array(PROJECTS, dtype=str)[np.arange(n_items) % len(PROJECTS)],
        np.char.add("-", (np.arange(n_items) // len(PROJECTS) + 1).astype(str)),
    ).astype(object)
    is_first = first[keep][order]
    titles = np.char.add("Work item ", np.arange(n_items).astype(str)).astype(object)
    kinds = TYPES[rng.integers(0, len(TYPES), n_items)]
    return pd.DataFrame(
        {
            "item_id": ids[rows_item],
            "changed_at": pd.DatetimeIndex(all_when[keep][order].astype("datetime64[ns]"))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_numpy(dtype=object),
            "event": all_event[keep][order],
            "status": all_status[keep][order],
            "title": np.where(is_first, titles[rows_item], ""),
            "type": np.where(is_first, kinds[rows_item], ""),
        }
    )
