"""Benchmark of the store on PostgreSQL: the same 1,000,000 events as `bench.store`.

Target (issue 15): reading them into the canonical frames takes under 3 seconds, as on SQLite.
Also measured, without a target: the write (one source, one transaction, rows loaded with COPY).

The database: `FLOWDECK_BENCH_PG` (a postgresql:// URL of an empty database), else a throw-away
cluster started like the tests' (tests/postgres.py, needs PostgreSQL installed); without either
the benchmark says so and measures nothing.
"""

from __future__ import annotations

import os
import sys
import time

from bench.store import EVENTS, ITEMS, synthetic_chunk
from connectors.store import open_store


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
        chunk = synthetic_chunk()
        with open_store(url) as store:
            began = time.perf_counter()
            writer = store.writer("bench", "csv")
            writer.add(chunk)
            writer.commit(replace=("items", "events"))
            results.append(
                {
                    "name": "store (PostgreSQL): write 1,000,000 events",
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
        if len(data.events) != EVENTS or len(data.items) != ITEMS:
            raise RuntimeError(
                f"store benchmark read {len(data.events)} events, {len(data.items)} items"
            )
        results.append(
            {
                "name": "store (PostgreSQL): read_flow_data, 1,000,000 events",
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
