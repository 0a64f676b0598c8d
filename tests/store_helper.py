"""A sync in a second process for the store tests, able to pause inside its transaction.

    python tests/store_helper.py CONFIG DB PAUSE_SOURCE GO_FILE

Syncs every source of CONFIG into DB. While writing PAUSE_SOURCE, after its rows are written
into the open transaction but before the commit, prints "paused" and waits until GO_FILE exists
(the test meanwhile reads the store, tries a second sync, then kills this process with SIGKILL
or lets it finish). Prints each source's result line, then "done".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import connectors.store as store_module  # noqa: E402
from connectors.config import load_config  # noqa: E402
from connectors.sync import sync_sources  # noqa: E402


def run_sync(config_path: str, db: str, pause_source: str, go_file: str) -> None:
    real_sweep = store_module._sweep

    def sweep_then_pause(conn, name, gen, replace):
        removed = real_sweep(conn, name, gen, replace)
        if name == pause_source:
            print("paused", flush=True)
            while not Path(go_file).exists():
                time.sleep(0.02)
        return removed

    store_module._sweep = sweep_then_pause
    # A database URL or an SQLite file: open_store tells them apart.
    results = sync_sources(load_config(config_path), db, secrets={})
    for result in results:
        print(result.line(), flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    run_sync(*sys.argv[1:5])
