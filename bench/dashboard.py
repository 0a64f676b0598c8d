"""The dashboard's speed targets (issue 6): with 10,000 items in the store, the first render of
the board under 3 s and a rerun after changing a filter under 1 s (server side, AppTest)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from connectors.base import Chunk
from connectors.demo import DEMO_WORKFLOW_TOML, demo_flow_data
from connectors.store import open_store

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def _store(folder: Path, items: int = 10_000) -> tuple[Path, Path]:
    config = folder / "flowdeck.toml"
    config.write_text(DEMO_WORKFLOW_TOML, encoding="utf-8")
    db = folder / "store.db"
    total, seed = 0, 1
    with open_store(db) as store:
        while total < items:
            data = demo_flow_data(seed)
            name, prefix = f"s{seed}", f"csv:s{seed}:"
            writer = store.writer(name, "csv")
            writer.add(
                Chunk(
                    items=data.items.assign(item_id=prefix + data.items["item_id"], source=name),
                    events=data.events.assign(item_id=prefix + data.events["item_id"]),
                    deployments=data.deployments.assign(
                        deploy_id=prefix + data.deployments["deploy_id"], source=name
                    ),
                )
            )
            writer.commit(replace=("items", "events", "deployments", "shipped"))
            total += len(data.items)
            seed += 1
    return config, db


def run() -> list[dict]:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        config, db = _store(Path(tmp))
        os.environ["FLOWDECK_CONFIG"], os.environ["FLOWDECK_DB"] = str(config), str(db)
        try:
            began = time.perf_counter()
            at = AppTest.from_file(str(APP), default_timeout=120)
            at.run()
            first = time.perf_counter() - began
            began = time.perf_counter()
            at.multiselect(key="filter_types").set_value(["Bug"]).run()
            rerun = time.perf_counter() - began
        finally:
            os.environ.pop("FLOWDECK_CONFIG", None)
            os.environ.pop("FLOWDECK_DB", None)
    return [
        {"name": "dashboard: first render of the board, 10k items", "value": first,
         "unit": "s", "target": 3.0},
        {"name": "dashboard: rerun after a filter change, 10k items", "value": rerun,
         "unit": "s", "target": 1.0},
    ]  # fmt: skip
