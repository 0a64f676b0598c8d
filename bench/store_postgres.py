"""Benchmark of the store on PostgreSQL: about 1,000,000 events (161,000 items of the seeded
event log of `bench.generate`), written into the store and read back into the frames.

    uv run python -m bench.store_postgres

Target (issue 15): the read takes under 3 seconds, as on SQLite (`python -m bench` measures
SQLite's). Also measured, without a target: the write (one source, one transaction, COPY).

The database: `FLOWDECK_BENCH_PG` (a postgresql:// URL of an empty database), else a throw-away
cluster started like the tests' (tests/postgres.py, needs PostgreSQL installed); without either
the benchmark says so and measures nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import generated_event_log
from connectors.base import Chunk
from connectors.csv_files import read_event_log
from connectors.store import open_store

#: Items of the generated log: about 6.2 events each, so about 1,000,000 events.
ITEMS = 161_000


def _frames():
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-pg-") as tmp:
        path = Path(tmp) / "events.csv"
        generated_event_log(ITEMS).to_csv(path, index=False)
        return read_event_log(path, "UTC")


def _database() -> tuple[str, object | None]:
    url = os.environ.get("FLOWDECK_BENCH_PG", "").strip()
    if url:
        return url, None
    from tests.postgres import PostgresCluster

    cluster = PostgresCluster.start()
    return cluster.new_database("bench"), cluster


def run() -> list[dict]:
    try:
        url, cluster = _database()
    except Exception as exc:  # no server and no binaries: nothing to measure here
        print(f"store_postgres: skipped ({exc})", file=sys.stderr)
        return []
    results: list[dict] = []
    try:
        data = _frames()
        events = len(data.events)
        chunk = Chunk(items=data.items.assign(source="bench"), events=data.events)
        del data
        with open_store(url) as store:
            began = time.perf_counter()
            writer = store.writer("bench", "csv")
            writer.add(chunk)
            writer.commit(replace=("items", "events"))
            results.append(
                {
                    "name": f"store (PostgreSQL): write {events:,} events",
                    "value": round(time.perf_counter() - began, 2),
                    "unit": "s",
                    "target": None,
                }
            )
        del chunk
        with open_store(url, create=False) as store:
            began = time.perf_counter()
            data = store.read_flow_data()
            elapsed = time.perf_counter() - began
        if len(data.events) != events or len(data.items) != ITEMS:
            raise RuntimeError(
                f"store benchmark read {len(data.events)} events, {len(data.items)} items"
            )
        results.append(
            {
                "name": f"store (PostgreSQL): read_flow_data, {events:,} events",
                "value": round(elapsed, 2),
                "unit": "s",
                "target": 3.0,
            }
        )
    finally:
        if cluster is not None:
            cluster.stop()
    return results


if __name__ == "__main__":
    for row in run():
        print(row)
