"""The store against real SQLite files in a temporary directory and real PostgreSQL databases
(tests using the `db` fixture run on both engines): round trips, keys, replacement, migrations
and every bad-store case of issue 3."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import connectors.store as store_module
from connectors.base import Chunk
from connectors.config import config_from_table
from connectors.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLES,
    open_store,
    resolve_db_path,
)
from metrics.errors import FlowdeckError, InputError
from metrics.frames import conform_items
from tests.flowbuild import SIMPLE


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def chunk(
    events: list[tuple],
    items: list[dict] | None = None,
    deployments: list[dict] | None = None,
    shipped: list[tuple] | None = None,
    cursor: str | None = None,
    quality: dict | None = None,
) -> Chunk:
    """events: (item_id, time, status[, event[, seq]]) rows."""
    rows = []
    for i, row in enumerate(events):
        event = row[3] if len(row) > 3 else "status"
        seq = row[4] if len(row) > 4 else i
        rows.append(
            {"item_id": row[0], "changed_at": ts(row[1]), "event": event, "status": row[2],
             "seq": seq}
        )  # fmt: skip
    parts = {"events": pd.DataFrame(rows)} if rows else {}
    if items is not None:
        parts["items"] = pd.DataFrame(items)
    if deployments is not None:
        parts["deployments"] = pd.DataFrame(deployments)
    if shipped is not None:
        parts["shipped"] = pd.DataFrame(shipped, columns=["deploy_id", "item_id"])
    return Chunk(**parts, cursor=cursor, quality=quality or {})


def write(store, name, *chunks, replace=(), kind="csv"):
    writer = store.writer(name, kind)
    for c in chunks:
        writer.add(c)
    return writer.commit(replace=replace)


FULL = chunk(
    [
        ("t:1", "2024-03-01 09:00", "Backlog"),
        ("t:1", "2024-03-02 10:00", "Dev"),
        ("t:1", "2024-03-03 11:00", "", "blocked"),
        ("t:1", "2024-03-04 12:00", "", "unblocked"),
        ("t:1", "2024-03-05 13:00", "Done"),
        # A -> B -> A at one instant: three events, applied in seq order
        ("t:2", "2024-03-02 08:00", "Dev", "status", 10),
        ("t:2", "2024-03-02 08:00", "Review", "status", 11),
        ("t:2", "2024-03-02 08:00", "Dev", "status", 12),
    ],
    items=[
        {
            "item_id": "t:1",
            "title": "=cmd|' /C calc'!A0",
            "type": "Bug",
            "labels": "a;b",
            "url": "https://example.test/1",
            "source": "t",
            "lines_changed": 42,
        },
        {"item_id": "t:2", "title": "Ünïcode ✓", "type": "Story", "source": "t"},
    ],  # fmt: skip
    deployments=[
        {
            "deploy_id": "t:d1",
            "deployed_at": ts("2024-03-06 07:00"),
            "environment": "production",
            "status": "success",
            "version": "1.0",
        },
        {
            "deploy_id": "t:d2",
            "deployed_at": ts("2024-03-07 07:00"),
            "environment": "staging",
            "status": "failure",
            "version": "",
        },
    ],  # fmt: skip
    shipped=[("t:d1", "t:1"), ("t:d1", "jira:X-1")],
    cursor="2024-03-07T07:00:00Z",
    quality={"incomplete_history": 2, "unknown_user": 1},
)


def test_round_trip_of_every_table(db):
    path = db
    with open_store(path) as store:
        counts = write(store, "t", FULL)
        store.record_wip_limit_change("Dev", 3, 4, ts("2024-03-08 10:00"), "ana", "swarm more")
        store.record_wip_limit_change(
            "Review", None, 2, "2024-03-09T10:00:00+01:00", "bo", "reviews pile up"
        )
    assert (counts.items.added, counts.events.added, counts.deployments.added) == (2, 8, 2)
    assert counts.shipped.added == 2

    with open_store(path, create=False) as store:
        data = store.read_flow_data()
        status = store.sources_status()
        quality = store.quality()
        changes = store.wip_limit_changes()

    items = data.items.set_index("item_id")
    assert list(data.items.columns) == ["item_id", "title", "type", "labels", "url", "source",
                                        "lines_changed"]  # fmt: skip
    assert items.loc["t:1", "title"] == "=cmd|' /C calc'!A0"
    assert items.loc["t:1", "labels"] == "a;b"
    assert items.loc["t:1", "url"] == "https://example.test/1"
    assert items.loc["t:1", "lines_changed"] == 42
    assert pd.isna(items.loc["t:2", "lines_changed"])
    assert items.loc["t:2", "title"] == "Ünïcode ✓"
    assert set(items["source"]) == {"t"}

    events = data.events
    assert str(events["changed_at"].dtype) == "datetime64[ns, UTC]"
    got = list(events[["item_id", "changed_at", "event", "status"]].itertuples(index=False))
    expected = FULL.events.sort_values(["item_id", "changed_at", "seq"], kind="stable")
    want = list(expected[["item_id", "changed_at", "event", "status"]].itertuples(index=False))
    assert got == want
    same_instant = events[events["item_id"] == "t:2"]
    assert list(same_instant["status"]) == ["Dev", "Review", "Dev"]
    assert list(same_instant["seq"]) == [10, 11, 12]

    deployments = data.deployments.set_index("deploy_id")
    assert deployments.loc["t:d1", "deployed_at"] == ts("2024-03-06 07:00")
    assert deployments.loc["t:d2", "status"] == "failure"
    assert deployments.loc["t:d2", "environment"] == "staging"
    assert deployments.loc["t:d1", "version"] == "1.0"
    assert set(deployments["source"]) == {"t"}
    assert sorted(map(tuple, data.shipped.to_numpy())) == [("t:d1", "jira:X-1"), ("t:d1", "t:1")]

    row = status.iloc[0]
    assert (row["name"], row["kind"], row["last_result"]) == ("t", "csv", "ok")
    assert row["cursor"] == "2024-03-07T07:00:00Z"
    assert (row["items"], row["events"], row["deployments"]) == (2, 8, 2)
    assert pd.isna(row["last_error"])
    assert row["last_sync_at"] <= pd.Timestamp.now(tz="UTC")

    assert list(quality.itertuples(index=False, name=None)) == [
        ("t", "incomplete_history", 2), ("t", "unknown_user", 1),
    ]  # fmt: skip
    assert list(changes["stage"]) == ["Dev", "Review"]
    assert changes["old_limit"].iloc[0] == 3 and pd.isna(changes["old_limit"].iloc[1])
    assert list(changes["new_limit"]) == [4, 2]
    assert changes["changed_at"].iloc[1] == ts("2024-03-09 09:00")
    assert list(changes["who"]) == ["ana", "bo"] and changes["why"].iloc[0] == "swarm more"


def test_an_empty_store_reads_as_empty_canonical_frames(db):
    with open_store(db) as store:
        data = store.read_flow_data()
        assert store.sources_status().empty and store.quality().empty
        assert store.wip_limit_changes().empty
    assert data.items.empty and data.events.empty and data.deployments.empty
    assert str(data.events["changed_at"].dtype) == "datetime64[ns, UTC]"
    assert list(data.events.columns) == ["item_id", "changed_at", "event", "status", "seq"]


def test_writing_the_same_data_twice_changes_nothing(db):
    with open_store(db) as store:
        write(store, "t", FULL)
        before = store.read_flow_data()
        version = store.data_version()
        again = write(store, "t", FULL)
        after = store.read_flow_data()
        assert store.data_version() > version  # every commit is a new cache key
    for table in TABLES:
        c = getattr(again, table)
        assert (c.added, c.updated, c.removed) == (0, 0, 0), table
    for frame in ("items", "events", "deployments", "shipped"):
        pd.testing.assert_frame_equal(getattr(before, frame), getattr(after, frame))


def test_a_refetched_boundary_in_another_chunk_is_not_duplicated(db):
    # The connector fetches from the cursor inclusive: the boundary item's history comes again,
    # in a chunk of its own and with different seq numbers.
    first = chunk([("t:1", "2024-03-01 09:00", "Dev"), ("t:1", "2024-03-02 09:00", "Done"),
                   ("t:1", "2024-03-02 09:00", "Done")])  # fmt: skip
    again = chunk([("t:9", "2024-03-03 09:00", "Dev", "status", 0),
                   ("t:1", "2024-03-01 09:00", "Dev", "status", 7),
                   ("t:1", "2024-03-02 09:00", "Done", "status", 8),
                   ("t:1", "2024-03-02 09:00", "Done", "status", 9)])  # fmt: skip
    with open_store(db) as store:
        write(store, "t", first)
        counts = write(store, "t", chunk([]), again)
        events = store.read_flow_data().events
    assert counts.events.added == 1  # only t:9's event is new
    assert len(events) == 4
    assert list(events.loc[events["item_id"] == "t:1", "seq"]) == [7, 8, 9]


def test_an_upsert_updates_changed_rows_and_keeps_the_rest(db):
    with open_store(db) as store:
        write(store, "t", FULL)
        change = chunk(
            [("t:1", "2024-03-06 09:00", "Dev")],
            items=[
                {
                    "item_id": "t:1",
                    "title": "renamed",
                    "type": "Bug",
                    "labels": "a;b",
                    "url": "https://example.test/1",
                    "lines_changed": 42,
                }
            ],  # fmt: skip
            deployments=[
                {
                    "deploy_id": "t:d2",
                    "deployed_at": ts("2024-03-07 07:00"),
                    "environment": "staging",
                    "status": "success",
                }
            ],  # fmt: skip
            cursor="c2",
        )
        counts = write(store, "t", change)
        data = store.read_flow_data()
        assert store.source_cursor("t") == "c2"
    assert (counts.items.added, counts.items.updated) == (0, 1)
    assert (counts.events.added, counts.events.updated) == (1, 0)
    assert (counts.deployments.added, counts.deployments.updated) == (0, 1)
    assert len(data.items) == 2 and len(data.events) == 9 and len(data.deployments) == 2
    assert data.items.set_index("item_id").loc["t:1", "title"] == "renamed"


def test_a_replacing_write_removes_what_the_source_no_longer_has(db):
    smaller = chunk(
        [("t:2", "2024-03-02 08:00", "Dev")],
        items=[{"item_id": "t:2", "title": "kept"}],
        deployments=[{"deploy_id": "t:d2", "deployed_at": ts("2024-03-07 07:00")}],
    )
    with open_store(db) as store:
        write(store, "t", FULL)
        write(store, "other", chunk([("o:1", "2024-03-01 09:00", "Dev")]))
        counts = write(store, "t", smaller, replace=TABLES)
        data = store.read_flow_data()
    assert counts.items.removed == 1 and counts.events.removed == 7
    assert counts.deployments.removed == 1 and counts.shipped.removed == 2
    assert sorted(data.items["item_id"]) == ["o:1", "t:2"]
    assert len(data.events) == 2 and list(data.deployments["deploy_id"]) == ["t:d2"]
    assert data.shipped.empty


def test_reading_some_sources(db):
    with open_store(db) as store:
        write(store, "t", FULL)
        write(store, "o", chunk([("o:1", "2024-03-01 09:00", "Dev")]))
        only = store.read_flow_data(["o"])
        with pytest.raises(FlowdeckError, match="no source 'nope' in the store"):
            store.read_flow_data(["nope"])
    assert list(only.items["item_id"]) == ["o:1"] and list(only.events["item_id"]) == ["o:1"]
    assert only.deployments.empty and only.shipped.empty


def test_an_id_of_another_source_is_refused_and_nothing_is_written(db):
    with open_store(db) as store:
        write(store, "a", chunk([("x:1", "2024-03-01 09:00", "Dev")]))
        version = store.data_version()
        with pytest.raises(FlowdeckError, match="'x:1' from source 'b' already belongs to"):
            write(store, "b", chunk([("x:1", "2024-03-02 09:00", "Done")]))
        assert store.data_version() == version
        assert store.source_names() == ["a"]
        assert len(store.read_flow_data().events) == 1


def test_bad_rows_are_refused_before_anything_is_staged(db):
    with open_store(db) as store:
        writer = store.writer("t", "csv")
        with pytest.raises(InputError, match="event kind 'paused' is unknown"):
            writer.add(chunk([("t:1", "2024-03-01 09:00", "Dev", "paused")]))
        with pytest.raises(InputError, match="a time is missing"):
            writer.add(Chunk(events=pd.DataFrame(
                {"item_id": ["t:1"], "changed_at": [pd.NaT], "status": ["Dev"]})))  # fmt: skip
        writer.discard()
        with pytest.raises(InputError, match="limit 0 must be >= 1"):
            store.record_wip_limit_change("Dev", 3, 0)


def test_one_writer_at_a_time_per_open_store(db):
    with open_store(db) as store:
        first = store.writer("t", "csv")
        with pytest.raises(RuntimeError, match="already has an open writer"):
            store.writer("u", "csv")
        first.add(chunk([("t:1", "2024-03-01 09:00", "Dev")]))
        first.commit()
        second = store.writer("u", "csv")  # free again after the commit
        second.discard()
        store.writer("u", "csv").discard()


def test_the_data_version_changes_with_every_write(db):
    with open_store(db) as store:
        seen = [store.data_version()]
        write(store, "t", FULL)
        seen.append(store.data_version())
        store.record_wip_limit_change("Dev", None, 2, who="lead", why="try it")
        seen.append(store.data_version())
        store.record_failure("t", "csv", "boom")
        seen.append(store.data_version())
        store.read_flow_data()
        seen.append(store.data_version())
    assert seen[0] < seen[1] < seen[2] < seen[3] == seen[4]


def test_a_store_of_the_previous_version_is_migrated_with_its_data(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for migration in MIGRATIONS[:-1]:
        migration(conn)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    # Data as the previous version wrote it.
    conn.execute("INSERT INTO sources (name, kind, cursor) VALUES ('t', 'csv', 'c1')")
    conn.execute("INSERT INTO items (item_id, source, title, synced) VALUES ('t:1', 't', 'x', 1)")
    conn.execute("INSERT INTO statuses (name) VALUES ('Dev')")
    conn.execute("INSERT INTO events VALUES (1, ?, 0, 1, 0, 0, 1)", (ts("2024-03-01 09:00").value,))
    conn.close()

    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        data = store.read_flow_data()
        store.record_wip_limit_change("Dev", 2, 3, who="lead", why="more hands")
        assert len(store.wip_limit_changes()) == 1
        assert store.source_cursor("t") == "c1"
    assert list(data.events["status"]) == ["Dev"]
    assert data.events["changed_at"].iloc[0] == ts("2024-03-01 09:00")
    # Opening again applies nothing twice.
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_a_store_from_a_newer_flowdeck_is_refused(tmp_path):
    path = tmp_path / "new.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(FlowdeckError) as err:
        open_store(path)
    message = str(err.value)
    assert str(path) in message and "newer Flowdeck" in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


@pytest.mark.parametrize(
    "content", [b"this is not a database at all\n" * 200, b"SQLite format 3\x00" + b"\xff" * 4000]
)
def test_a_corrupt_file_is_refused_naming_it(tmp_path, content):
    path = tmp_path / "flowdeck.db"
    path.write_bytes(content)
    with pytest.raises(FlowdeckError) as err:
        open_store(path)
    message = str(err.value)
    assert str(path) in message and "--db" in message and "fresh" in message
    assert path.read_bytes() == content  # untouched


def test_another_sqlite_database_is_not_taken_for_a_store(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with pytest.raises(FlowdeckError, match="not a Flowdeck store"):
        open_store(path)


def test_a_missing_directory_is_an_error_but_the_default_folder_is_created(tmp_path):
    with pytest.raises(FlowdeckError, match="does not exist") as err:
        open_store(tmp_path / "nowhere" / "deeper" / "flowdeck.db")
    assert "nowhere" in str(err.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FlowdeckError, match="is not a directory"):
        open_store(tmp_path / "file" / "flowdeck.db")
    with pytest.raises(FlowdeckError, match="is a directory"):
        open_store(tmp_path)
    with pytest.raises(FlowdeckError, match="no Flowdeck store at"):
        open_store(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()
    with open_store(tmp_path / ".flowdeck" / "flowdeck.db") as store:
        assert store.schema_version() == SCHEMA_VERSION
    assert (tmp_path / ".flowdeck" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_an_unwritable_directory_is_an_error(tmp_path):
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    else:
        # Permission bits do not stop root; sysfs refuses new files even to root.
        folder = Path("/sys")
        probe = folder / "flowdeck-probe"
        try:
            probe.open("xb").close()
        except OSError:
            pass
        else:  # pragma: no cover - an unusual machine
            probe.unlink()
            pytest.skip("no directory that refuses writes here")
    with pytest.raises(FlowdeckError, match="not writable") as err:
        open_store(folder / "flowdeck.db")
    assert str(folder) in str(err.value)


def test_a_locked_store_is_a_clear_error_not_a_hang(tmp_path):
    path = tmp_path / "s.db"
    with open_store(path) as store:
        write(store, "t", FULL)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with open_store(path, timeout=0.2) as store:
            assert len(store.read_flow_data().events) == 8  # readers are not blocked (WAL)
            with pytest.raises(FlowdeckError, match="locked by another process") as err:
                write(store, "t", FULL)
            assert str(path) in str(err.value)
            with pytest.raises(FlowdeckError, match="locked"):
                store.record_wip_limit_change("Dev", 1, 2, who="lead", why="try")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with open_store(path) as store:  # and nothing was half-written
        assert len(store.read_flow_data().events) == 8
        assert store.wip_limit_changes().empty


def test_where_the_store_lives(tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWDECK_DB", raising=False)
    config = config_from_table({"workflow": SIMPLE}, tmp_path / "team" / "flowdeck.toml")
    assert resolve_db_path(config, None) == tmp_path / "team" / ".flowdeck" / "flowdeck.db"
    monkeypatch.chdir(tmp_path)
    assert resolve_db_path(None, None) == tmp_path / ".flowdeck" / "flowdeck.db"
    monkeypatch.setenv("FLOWDECK_DB", str(tmp_path / "env.db"))
    assert resolve_db_path(config, None) == tmp_path / "env.db"
    assert resolve_db_path(config, str(tmp_path / "flag.db")) == tmp_path / "flag.db"


def test_bulk_reads_keep_every_event_in_item_time_and_seq_order(db, monkeypatch):
    # Not a timing test (that is bench/store.py): a few thousand events, with ties at one
    # instant, through the same bulk path in many small batches, with and without a filter.
    monkeypatch.setattr(store_module, "_READ_BATCH_ITEMS", 7)
    rng = np.random.default_rng(1)
    n = 5000
    item = rng.integers(0, 300, n)
    when = ts("2024-01-01").value + rng.integers(0, 50, n) * 3_600_000_000_000
    events = pd.DataFrame({
        "item_id": [f"t:{i}" for i in item],
        "changed_at": pd.to_datetime(when, utc=True),
        "event": "status",
        "status": rng.choice(["A", "B", "C"], n),
        "seq": rng.permutation(n),
    })  # fmt: skip
    with open_store(db) as store:
        write(store, "o", chunk([(f"o:{i}", "2024-01-01 09:00", "A") for i in range(20)]))
        write(store, "t", Chunk(events=events))
        write(store, "u", chunk([(f"u:{i}", "2024-01-01 09:00", "A") for i in range(20)]))
        everything = store.read_flow_data().events
        got = store.read_flow_data(["t"]).events
    assert len(everything) == n + 40 and len(got) == n
    assert everything["item_id"].str.startswith("t:").sum() == n
    want = events.sort_values(["item_id", "changed_at", "seq"])
    assert sorted(got["item_id"].unique()) == sorted(want["item_id"].unique())
    for item_id, group in got.groupby("item_id", sort=False):
        expected = want[want["item_id"] == item_id]
        assert list(group["status"]) == list(expected["status"])
        assert list(group["seq"]) == list(expected["seq"])
        assert group["changed_at"].is_monotonic_increasing


# ---- PostgreSQL only ---------------------------------------------------------------------


def test_a_postgresql_store_of_the_previous_version_is_migrated_with_its_data(pg_url):
    import psycopg

    from connectors.store_engine import PostgresConnection

    raw = psycopg.connect(pg_url, autocommit=True)
    conn = PostgresConnection(raw)
    conn.execute("CREATE TABLE flowdeck_schema (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO flowdeck_schema VALUES (?)", (SCHEMA_VERSION - 1,))
    for migration in MIGRATIONS[:-1]:
        migration(conn)
    conn.execute("INSERT INTO sources (name, kind, cursor) VALUES ('t', 'csv', 'c1')")
    conn.execute("INSERT INTO items (item_id, source, title, synced) VALUES ('t:1', 't', 'x', 1)")
    conn.execute("INSERT INTO statuses (name) VALUES ('Dev')")
    conn.execute("INSERT INTO events VALUES (1, ?, 0, 1, 0, 0, 1)", (ts("2024-03-01 09:00").value,))
    raw.close()

    with pytest.raises(FlowdeckError, match="flowdeck db upgrade"):
        open_store(pg_url, migrate=False)
    with open_store(pg_url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        data = store.read_flow_data()
        store.record_wip_limit_change("Dev", 2, 3, who="lead", why="more hands")
        assert store.source_cursor("t") == "c1"
    assert list(data.events["status"]) == ["Dev"]
    assert data.events["changed_at"].iloc[0] == ts("2024-03-01 09:00")
    with open_store(pg_url, migrate=False) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_a_postgresql_store_from_a_newer_flowdeck_or_another_database_is_refused(
    postgres_cluster, pg_url
):
    import psycopg

    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE flowdeck_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(FlowdeckError) as err:
        open_store(pg_url)
    message = str(err.value)
    assert "newer Flowdeck" in message and f"schema version {SCHEMA_VERSION + 1}" in message
    assert postgres_cluster.password not in message and "127.0.0.1" in message

    other = postgres_cluster.new_database("someone_elses")
    with psycopg.connect(other, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(FlowdeckError, match="other tables but no Flowdeck store"):
        open_store(other)
    empty = postgres_cluster.new_database("empty_for_reader")
    with pytest.raises(FlowdeckError, match="no Flowdeck store in"):
        open_store(empty, create=False)


def test_a_failed_connection_names_host_and_database_never_the_password(postgres_cluster):
    wrong = postgres_cluster.url("postgres").replace(postgres_cluster.password, "Wr0ng-s3cret")
    with pytest.raises(FlowdeckError) as err:
        open_store(wrong)
    message = str(err.value)
    assert "127.0.0.1" in message and "'postgres'" in message
    assert "Wr0ng-s3cret" not in message and "password authentication failed" in message
    missing = postgres_cluster.url("no_such_db")
    with pytest.raises(FlowdeckError) as err:
        open_store(missing)
    assert "'no_such_db'" in str(err.value) and postgres_cluster.password not in str(err.value)


def test_a_database_url_is_never_shown_with_its_password(monkeypatch):
    url = "postgresql://flow:S3cret-pw@db.example:6543/flowdeck?sslmode=require"
    monkeypatch.setenv("FLOWDECK_DB", url)
    location = resolve_db_path(None, None)
    assert str(location) == "postgresql://flow@db.example:6543/flowdeck?sslmode=require"
    assert "S3cret" not in repr(location) and "S3cret" not in f"{location}"
    assert (location.host, location.port, location.database) == ("db.example", 6543, "flowdeck")
    assert location.connect_args()["sslmode"] == "require"
    assert resolve_db_path(None, "postgres://a@b/c").database == "c"
    with pytest.raises(FlowdeckError, match="names no database"):
        resolve_db_path(None, "postgresql://a:S3cret-pw@b")


def test_a_database_url_is_decoded_and_a_bad_one_is_one_clear_line():
    url = resolve_db_path(None, "postgresql+psycopg://fl%40w:p%40ss@[::1]:5433/flow%20deck")
    assert url.connect_args() == {
        "dbname": "flow deck", "host": "::1", "port": 5433, "user": "fl@w", "password": "p@ss",
    }  # fmt: skip
    assert str(url) == "postgresql://fl%40w@[::1]:5433/flow%20deck"
    socket = resolve_db_path(None, "postgresql:///flow?host=/run/postgresql")
    assert socket.connect_args() == {"dbname": "flow", "host": "/run/postgresql"}
    with pytest.raises(FlowdeckError, match=r"^the database URL is not valid"):
        resolve_db_path(None, "postgresql://flow:S3cret-pw@db:port/flow")


def test_bulk_reads_keep_every_item_text_intact(db, engine, monkeypatch):
    # Items come back as one concatenated text per column and batch: any character a title may
    # hold (the unit separator that joins them on SQLite, commas, new lines, quotes, non-ASCII)
    # must come back as written, row for row, and the frame must be what `conform_items` gives.
    monkeypatch.setattr(store_module, "_READ_BATCH_ITEMS", 3)
    titles = ["", "a, b", 'say "hi"', "two\nlines", "émoji 🚀 ñ", ",", "'", "x" * 5000, "\x1f"]
    if engine == "sqlite":
        titles.append("nul\x00inside")  # PostgreSQL's text cannot hold it
    n = len(titles)
    items = pd.DataFrame({
        "item_id": [f"t:{i}" for i in range(n)],
        "title": titles,
        "type": (["Bug", "", "Story"] * n)[:n],
        "labels": (["a;b", "", "ü"] * n)[:n],
        "url": [f"https://x/{i}" if i % 2 else "" for i in range(n)],
        "lines_changed": pd.array([5, None, 0, 123456789012, None, 7, None, 1, 2, 3][:n],
                                  dtype="Int64"),
    })  # fmt: skip
    with open_store(db) as store:
        write(store, "o", chunk([("o:1", "2024-01-01 09:00", "A")]))
        write(store, "t", Chunk(items=items))
        write(store, "u", chunk([("u:1", "2024-01-01 09:00", "A")]))
        everything = store.read_flow_data().items
        got = store.read_flow_data(["t"]).items
    want = conform_items(items.assign(source="t"))
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(everything["item_id"]) == ["o:1", *want["item_id"], "u:1"]
    assert list(everything["source"]) == ["o", *["t"] * n, "u"]
    assert everything["lines_changed"].isna().tolist() == [True, *want["lines_changed"].isna(),
                                                          True]  # fmt: skip


def _packs_agree_with_events(path) -> int:
    """Every pack of an SQLite store holds exactly its part's events as the table has them;
    returns how many packs there are."""
    from connectors.store_engine import SqliteEngine, _unpack_events

    conn = sqlite3.connect(path)
    try:
        packs = conn.execute("SELECT part, data FROM event_packs ORDER BY part").fetchall()
        for part, data in packs:
            got = _unpack_events(part, data)
            want = SqliteEngine._scan_events(conn, part)
            assert got is not None
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
    finally:
        conn.close()
    return len(packs)


def test_event_packs_follow_every_write_and_reads_equal_a_scan(tmp_path):
    # SQLite keeps each part's events (4096 item ids) as a columnar pack beside the table; the
    # triggers drop a pack when its events change and the writer packs again before commit.
    # After every kind of write the packs must equal the table, and a read through the packs
    # must equal a read that scans the table.
    path = tmp_path / "s.db"
    rng = np.random.default_rng(3)
    n = 9000  # three parts
    items = [f"t:{i:05d}" for i in range(n)]
    events = pd.DataFrame({
        "item_id": np.repeat(items, 2),
        "changed_at": pd.to_datetime(ts("2024-01-01").value
                                     + rng.integers(0, 10**6, 2 * n) * 10**9, utc=True),
        "event": rng.choice(["status", "blocked", "unblocked"], 2 * n, p=[0.8, 0.1, 0.1]),
        "status": rng.choice(["A", "B", 'waiting for, "x"'], 2 * n),
        "seq": rng.permutation(2 * n),
    })  # fmt: skip

    def read_both():
        with open_store(path) as store:
            packed = store.read_flow_data()
            one = store.read_flow_data(["t"])
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE saved AS SELECT * FROM event_packs")
        conn.execute("DELETE FROM event_packs")
        conn.commit()
        with open_store(path) as store:
            scanned = store.read_flow_data()
        conn.execute("INSERT INTO event_packs SELECT * FROM saved")
        conn.execute("DROP TABLE saved")
        conn.commit()
        conn.close()
        pd.testing.assert_frame_equal(packed.events, scanned.events, check_exact=True)
        pd.testing.assert_frame_equal(packed.items, scanned.items, check_exact=True)
        return packed, one

    with open_store(path) as store:
        write(store, "t", Chunk(events=events))
        write(store, "o", chunk([("o:1", "2024-01-01 09:00", "A")]))
    assert _packs_agree_with_events(path) == 3
    packed, one = read_both()
    assert len(packed.events) == 2 * n + 1 and len(one.events) == 2 * n
    assert set(one.events["item_id"]) == set(items)

    # An incremental write into the middle part: a new event and a changed order (seq).
    with open_store(path) as store:
        write(store, "t", chunk([("t:05000", "2025-01-01 10:00", "Done", "status", 10**7)]))
        first = events.iloc[[0]].assign(seq=-5)
        write(store, "t", Chunk(events=first))
    assert _packs_agree_with_events(path) == 3
    packed, _ = read_both()
    assert "Done" in set(packed.events["status"])
    assert -5 in set(packed.events["seq"])

    # A replacing write that drops the last part's items (their events go by cascade).
    with open_store(path) as store:
        write(store, "t", Chunk(events=events[events["item_id"] < "t:08000"]),
              replace=("items", "events"))  # fmt: skip
    assert _packs_agree_with_events(path) >= 2
    packed, one = read_both()
    assert one.events["item_id"].max() < "t:08000"
    assert len(one.events) == int((events["item_id"] < "t:08000").sum())
