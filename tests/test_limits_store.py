"""The WIP-limit history in the store: the migration of the old table, required who and why, and
hand edits of the workflow file noticed once."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from connectors.store import HAND_EDIT_WHO, MIGRATIONS, SCHEMA_VERSION, WHY_MAX, open_store
from metrics.errors import InputError
from metrics.limits import TOTAL
from tests.flowbuild import ts


def test_the_old_history_table_is_migrated_with_its_rows(tmp_path):
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for migration in MIGRATIONS[:2]:
        migration(conn)
    conn.execute("PRAGMA user_version = 2")
    # As the version-2 dashboard form wrote them: who and why could be empty.
    conn.execute(
        "INSERT INTO wip_limit_changes (stage, old_limit, new_limit, changed_at, who, why) "
        "VALUES ('Dev', 4, 3, ?, 'ana', 'swarm'), ('Review', NULL, 2, ?, '', '')",
        (ts("2024-03-01 10:00").value, ts("2024-03-02 10:00").value),
    )
    conn.close()
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        history = store.wip_limit_changes()
    assert list(history.columns) == ["changed_at", "stage", "old_limit", "new_limit", "who", "why"]
    assert history["stage"].tolist() == ["Dev", "Review"]
    assert history["who"].tolist() == ["ana", "unknown"]
    assert history["why"].tolist() == ["swarm", "(no reason recorded)"]
    assert pd.isna(history["old_limit"].iloc[1]) and history["new_limit"].tolist() == [3, 2]
    assert history["changed_at"].iloc[0] == ts("2024-03-01 10:00")


def test_who_and_why_are_required_and_capped(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        with pytest.raises(InputError, match="say why"):
            store.record_wip_limit_change("Dev", 3, 2, who="lead", why="  ")
        with pytest.raises(InputError, match="who is empty"):
            store.record_wip_limit_change("Dev", 3, 2, why="try")
        with pytest.raises(InputError, match=f"why is 1001 characters; at most {WHY_MAX}"):
            store.record_wip_limit_change("Dev", 3, 2, who="lead", why="x" * 1001)
        with pytest.raises(InputError, match="who is 101 characters; at most 100"):
            store.record_wip_limit_change("Dev", 3, 2, who="x" * 101, why="try")
        assert store.wip_limit_changes().empty
    # And the table itself refuses an empty reason, whoever writes it.
    conn = sqlite3.connect(tmp_path / "s.db")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(
            "INSERT INTO wip_limit_changes (changed_at, stage, who, why) VALUES (1, 'a', 'b', '')"
        )
    conn.close()


def test_a_failing_apply_records_nothing(tmp_path):
    def boom() -> None:
        raise OSError("disk full")

    with open_store(tmp_path / "s.db") as store:
        version = store.data_version()
        with pytest.raises(OSError):
            store.record_wip_limit_change("Dev", 3, 2, who="lead", why="try", apply=boom)
        assert store.wip_limit_changes().empty and store.wip_limits_seen() == {}
        assert store.data_version() == version


def test_a_hand_edit_is_recorded_once(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        # The first reading only notes the limits: there is nothing to compare with.
        assert store.reconcile_wip_limits({"Dev": 3, "Review": None, TOTAL: 6}).empty
        assert store.wip_limit_changes().empty
        version = store.data_version()
        assert store.reconcile_wip_limits({"Dev": 3, "Review": None, TOTAL: 6}).empty
        assert store.data_version() == version  # reading an unchanged file writes nothing
        edit = {"Dev": 2, "Review": 4, TOTAL: None}
        recorded = store.reconcile_wip_limits(edit, ts("2024-03-05 08:00"))
        assert len(recorded) == 3
        assert store.reconcile_wip_limits(edit).empty  # once
        history = store.wip_limit_changes()
    assert history["stage"].tolist() == ["Dev", "Review", TOTAL]
    assert history["old_limit"].tolist()[0] == 3 and pd.isna(history["old_limit"].iloc[1])
    assert history["new_limit"].tolist()[:2] == [2, 4] and pd.isna(history["new_limit"].iloc[2])
    assert set(history["who"]) == {HAND_EDIT_WHO}
    assert history["why"].str.contains("by hand").all()


def test_a_change_through_flowdeck_is_not_taken_for_a_hand_edit(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        store.reconcile_wip_limits({"Dev": 3, TOTAL: None})
        store.record_wip_limit_change("Dev", 3, 2, who="lead", why="we expect less waiting")
        assert store.reconcile_wip_limits({"Dev": 2, TOTAL: None}).empty
        assert store.wip_limit_changes()["who"].tolist() == ["lead"]


def test_history_written_before_the_file_was_read_is_compared_too(tmp_path):
    # A store from the old dashboard form: the history said 2, but the file was never changed.
    with open_store(tmp_path / "s.db") as store:
        store.record_wip_limit_change("Dev", 3, 2, who="lead", why="try")
    conn = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    conn.execute("DELETE FROM wip_limits_seen")
    conn.close()
    with open_store(tmp_path / "s.db") as store:
        recorded = store.reconcile_wip_limits({"Dev": 3, "Review": 5})
    assert recorded[["stage", "old_limit", "new_limit"]].values.tolist() == [["Dev", 2, 3]]


def test_the_history_and_hand_edits_on_every_store_engine(db):
    """The same calls on SQLite and on PostgreSQL (the `db` fixture runs both)."""
    with open_store(db) as store:
        assert store.reconcile_wip_limits({"Dev": 3, TOTAL: None}).empty
        store.record_wip_limit_change("Dev", 3, 2, ts("2024-03-01 09:00"), "Ana", "less waiting")
        assert store.reconcile_wip_limits({"Dev": 2, TOTAL: None}).empty
        recorded = store.reconcile_wip_limits({"Dev": 2, TOTAL: 8}, ts("2024-03-02 09:00"))
        assert recorded["stage"].tolist() == [TOTAL]
        assert store.reconcile_wip_limits({"Dev": 2, TOTAL: 8}).empty
        history = store.wip_limit_changes()
        with pytest.raises(InputError, match="say why"):
            store.record_wip_limit_change("Dev", 2, 1, who="Ana", why="")
    assert history[["stage", "old_limit", "new_limit", "who"]].values.tolist()[0] == [
        "Dev",
        3,
        2,
        "Ana",
    ]
    assert pd.isna(history["old_limit"].iloc[1]) and history["new_limit"].iloc[1] == 8
    assert history["who"].iloc[1] == HAND_EDIT_WHO
    assert history["changed_at"].tolist() == [ts("2024-03-01 09:00"), ts("2024-03-02 09:00")]


# ---- per team: many teams share one store (docs/teams.md) ---------------------------------


def test_each_team_has_its_own_history_on_every_store_engine(db):
    """Two teams with a stage of the same name: one team's change, hand edit or first reading
    never shows in, nor is compared with, the other's."""
    with open_store(db) as store:
        assert store.reconcile_wip_limits({"Dev": 3, TOTAL: None}, team="alpha").empty
        assert store.reconcile_wip_limits({"Dev": 5, TOTAL: None}, team="beta").empty
        store.record_wip_limit_change(
            "Dev", 3, 2, ts("2024-03-01 09:00"), "Ana", "swarm on fewer items", team="alpha"
        )
        # beta's file still says 5: not a hand edit of beta, nor of alpha.
        assert store.reconcile_wip_limits({"Dev": 5, TOTAL: None}, team="beta").empty
        assert store.reconcile_wip_limits({"Dev": 2, TOTAL: None}, team="alpha").empty
        edited = store.reconcile_wip_limits({"Dev": 6, TOTAL: None}, ts("2024-03-02 09:00"),
                                            team="beta")  # fmt: skip
        assert edited[["stage", "old_limit", "new_limit"]].values.tolist() == [["Dev", 5, 6]]
        alpha, beta = store.wip_limit_changes("alpha"), store.wip_limit_changes("beta")
        assert store.wip_limit_changes().empty  # no team: a workflow file used on its own
        assert store.wip_limits_seen("alpha") == {"Dev": 2, TOTAL: None}
        assert store.wip_limits_seen("beta") == {"Dev": 6, TOTAL: None}
        assert store.wip_limits_seen() == {}
    assert alpha[["stage", "old_limit", "new_limit", "who"]].values.tolist() == [
        ["Dev", 3, 2, "Ana"]
    ]
    assert beta[["stage", "old_limit", "new_limit", "who"]].values.tolist() == [
        ["Dev", 5, 6, HAND_EDIT_WHO]
    ]


def _previous_version(db: str):
    """A store at the schema version before per-team limits, with a limit history and the
    limits last read from the file, as that version wrote them."""
    from connectors.store_engine import PostgresConnection, is_database_url

    version = SCHEMA_VERSION - 1
    if is_database_url(db):
        import psycopg

        raw = psycopg.connect(db, autocommit=True)
        conn = PostgresConnection(raw)
        conn.execute("CREATE TABLE flowdeck_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO flowdeck_schema VALUES (?)", (version,))
    else:
        raw = conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA user_version = {version}")
    for migration in MIGRATIONS[:version]:
        migration(conn)
    conn.execute(
        "INSERT INTO wip_limit_changes (changed_at, stage, old_limit, new_limit, who, why) "
        "VALUES (?, 'Dev', 4, 3, 'ana', 'swarm'), (?, 'total', NULL, 9, 'bo', 'cap')",
        (ts("2024-03-01 10:00").value, ts("2024-03-02 10:00").value),
    )
    conn.execute("INSERT INTO wip_limits_seen (stage, wip_limit) VALUES ('Dev', 3), ('total', 9)")
    raw.close()


def test_a_history_from_before_teams_is_kept_as_the_single_teams(db):
    """Decision (docs/limits.md): rows written before teams existed belong to the workflow
    file used on its own (team ''); a single-team deployment sees its history unchanged."""
    _previous_version(db)
    with open_store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        history = store.wip_limit_changes()
        assert store.wip_limits_seen() == {"Dev": 3, TOTAL: 9}
        assert store.wip_limit_changes("alpha").empty and store.wip_limits_seen("alpha") == {}
        # The kept "seen" limits still catch a hand edit, and new rows follow the old ones.
        recorded = store.reconcile_wip_limits({"Dev": 2, TOTAL: 9}, ts("2024-03-03 10:00"))
        assert recorded[["stage", "old_limit", "new_limit"]].values.tolist() == [["Dev", 3, 2]]
        store.record_wip_limit_change("Dev", 2, 4, ts("2024-03-04 10:00"), "cy", "more hands")
        after = store.wip_limit_changes()
    assert history[["stage", "new_limit", "who", "why"]].values.tolist() == [
        ["Dev", 3, "ana", "swarm"], [TOTAL, 9, "bo", "cap"]
    ]  # fmt: skip
    assert after["who"].tolist() == ["ana", "bo", HAND_EDIT_WHO, "cy"]
