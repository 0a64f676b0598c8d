"""How long `flowdeck export` takes: on the larger real data set and on 50,000 generated items."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ASOS = ROOT.parent / "shared" / "data" / "real" / "asos-search-board"
STATUSES = np.array(["Backlog", "Dev", "Review", "Dev", "Review", "Test", "Done"])
WORKFLOW = """
[workflow]
timezone = "Europe/Berlin"
start = "Dev"
done = "Done"
discarded = ["Dropped"]
[[workflow.stages]]
name = "Backlog"
[[workflow.stages]]
name = "Dev"
wip_limit = 400
[[workflow.stages]]
name = "Review"
waiting = true
[[workflow.stages]]
name = "Test"
[[workflow.stages]]
name = "Done"
"""


def generated_event_log(n_items: int, seed: int = 1) -> pd.DataFrame:
    """A synthetic event log (vectorized): each item walks part of the workflow, with rework."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(1, len(STATUSES) + 1, n_items)
    item = np.repeat(np.arange(n_items), steps)
    step = np.arange(len(item)) - np.repeat(np.cumsum(steps) - steps, steps)
    created = rng.uniform(0, 3 * 365, n_items)[item]
    gaps = rng.exponential(2.0, len(item))
    offset = pd.Series(gaps).groupby(item).cumsum().to_numpy() - gaps[0] * 0
    when = pd.Timestamp("2022-01-01", tz="UTC") + pd.to_timedelta(created + offset, unit="D")
    status = STATUSES[step]
    dropped = rng.random(len(item)) < 0.01
    status = np.where(dropped, "Dropped", status)
    return pd.DataFrame(
        {
            "item_id": np.char.add("G-", item.astype(str)),
            "changed_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": status,
            "type": np.where(item % 3 == 0, "Bug", "Story"),
        }
    )


def _time_export(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flowdeck.cli", *args], check=True, capture_output=True, cwd=ROOT
    )
    return time.perf_counter() - start


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        startup = _time_export(["--help"])
        rows.append({"name": "flowdeck start-up (--help)", "value": startup, "unit": "s",
                     "target": None})  # fmt: skip
        if (ASOS / "events.csv").is_file():
            seconds = _time_export(
                ["export", "--config", str(ASOS / "flowdeck.toml"), "--events",
                 str(ASOS / "events.csv"), "--out", str(tmp / "asos")]
            )  # fmt: skip
            rows.append({"name": "export, real ASOS board (1,325 items, 8,631 rows)",
                         "value": seconds, "unit": "s", "target": 5.0})  # fmt: skip
        log = generated_event_log(50_000)
        log.to_csv(tmp / "events.csv", index=False)
        (tmp / "flowdeck.toml").write_text(WORKFLOW)
        seconds = _time_export(
            ["export", "--config", str(tmp / "flowdeck.toml"), "--events", str(tmp / "events.csv"),
             "--as-of", "2025-06-30", "--out", str(tmp / "gen")]
        )  # fmt: skip
        rows.append({"name": f"export, generated 50,000 items ({len(log):,} rows)",
                     "value": seconds, "unit": "s", "target": 15.0})  # fmt: skip
    return rows
