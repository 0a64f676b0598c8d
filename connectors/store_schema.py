"""The store's schema: ordered migrations, applied on open, tracked by `PRAGMA user_version`.

A migration is a function of a connection inside the migrating transaction; the schema version is
the number of migrations. Add a migration at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Connection(Protocol):
    """What the migrations need of a connection: SQLite's own, or the PostgreSQL one of
    `connectors.store_engine`, which speaks the same SQL."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    @property
    def in_transaction(self) -> bool: ...


def run_script(conn: Connection, script: str) -> None:
    # Not `executescript`: it commits any open transaction first, which would break the
    # all-or-nothing migration. These scripts hold no `;` inside literals.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migration_1(conn: Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO meta (key, value) VALUES ('data_version', 0);
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            cursor TEXT,
            last_sync_at INTEGER,
            last_result TEXT NOT NULL DEFAULT 'never',
            last_error TEXT
        );
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            item_id TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL REFERENCES sources(name) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            type TEXT NOT NULL DEFAULT '',
            labels TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            lines_changed INTEGER,
            synced INTEGER NOT NULL
        );
        CREATE INDEX items_source ON items (source);
        CREATE TABLE statuses (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE events (
            item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            changed_at INTEGER NOT NULL,
            kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),
            status INTEGER NOT NULL REFERENCES statuses(id),
            occurrence INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            synced INTEGER NOT NULL,
            PRIMARY KEY (item, changed_at, kind, status, occurrence)
        ) WITHOUT ROWID;
        CREATE TABLE deployments (
            deploy_id TEXT PRIMARY KEY,
            source TEXT NOT NULL REFERENCES sources(name) ON DELETE CASCADE,
            deployed_at INTEGER NOT NULL,
            environment TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('success', 'failure')),
            version TEXT NOT NULL DEFAULT '',
            synced INTEGER NOT NULL
        );
        CREATE INDEX deployments_source ON deployments (source);
        CREATE TABLE shipped (
            deploy_id TEXT NOT NULL REFERENCES deployments(deploy_id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            synced INTEGER NOT NULL,
            PRIMARY KEY (deploy_id, item_id)
        ) WITHOUT ROWID;
        """,
    )


def _migration_2(conn: Connection) -> None:
    # The dashboard's own writes (WIP-limit history) and the per-source data-quality counts.
    run_script(
        conn,
        """
        CREATE TABLE wip_limit_changes (
            id INTEGER PRIMARY KEY,
            stage TEXT NOT NULL,
            old_limit INTEGER,
            new_limit INTEGER,
            changed_at INTEGER NOT NULL,
            who TEXT NOT NULL DEFAULT '',
            why TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE quality (
            source TEXT NOT NULL REFERENCES sources(name) ON DELETE CASCADE,
            key TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (source, key)
        ) WITHOUT ROWID;
        """,
    )


def _migration_3(conn: Connection) -> None:
    # WIP limits have one truth, the workflow file; the store keeps their history (spec 6).
    # Every change now says who made it and why (the experiment's hypothesis), so the table is
    # rebuilt with those required; rows written before that get a visible placeholder rather
    # than an empty reason. `wip_limits_seen` holds the limits as Flowdeck last read them from
    # the file, which is how a hand edit of the file is noticed (and recorded once).
    run_script(
        conn,
        """
        CREATE TABLE wip_limit_changes_v3 (
            id INTEGER PRIMARY KEY,
            changed_at INTEGER NOT NULL,
            stage TEXT NOT NULL CHECK (length(trim(stage)) > 0),
            old_limit INTEGER CHECK (old_limit IS NULL OR old_limit >= 1),
            new_limit INTEGER CHECK (new_limit IS NULL OR new_limit >= 1),
            who TEXT NOT NULL CHECK (length(trim(who)) > 0),
            why TEXT NOT NULL CHECK (length(trim(why)) > 0)
        );
        INSERT INTO wip_limit_changes_v3 (id, changed_at, stage, old_limit, new_limit, who, why)
            SELECT id, changed_at, stage, old_limit, new_limit,
                CASE WHEN trim(who) = '' THEN 'unknown' ELSE who END,
                CASE WHEN trim(why) = '' THEN '(no reason recorded)' ELSE why END
            FROM wip_limit_changes WHERE length(trim(stage)) > 0;
        DROP TABLE wip_limit_changes;
        ALTER TABLE wip_limit_changes_v3 RENAME TO wip_limit_changes;
        CREATE INDEX wip_limit_changes_stage ON wip_limit_changes (stage, changed_at);
        CREATE TABLE wip_limits_seen (
            stage TEXT PRIMARY KEY,
            wip_limit INTEGER CHECK (wip_limit IS NULL OR wip_limit >= 1)
        ) WITHOUT ROWID;
        """,
    )


def _migration_4(conn: Connection) -> None:
    # Pull-request flow (spec 8): the facts of each item's pull request. Keyed by the item, so a
    # source that replaces or drops an item takes its pull request with it.
    run_script(
        conn,
        """
        CREATE TABLE pull_requests (
            item INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            created_at INTEGER,
            ready_at INTEGER,
            first_commit_at INTEGER,
            first_review_at INTEGER,
            merged_at INTEGER,
            synced INTEGER NOT NULL
        );
        """,
    )


def _migration_5(conn: Connection) -> None:
    # Many teams share one store (docs/teams.md): the WIP-limit history and the limits last
    # read from the file are kept per team, so two teams with a stage of the same name do not
    # share one history. `team` is the team's name in its portfolio file, '' for a workflow
    # file used on its own (every row written before teams existed). The history keeps its
    # ids (a column is added, not a table rebuilt: PostgreSQL's identity would not follow
    # copied ids); the small `wip_limits_seen` is rebuilt with the team in its key.
    run_script(
        conn,
        """
        ALTER TABLE wip_limit_changes ADD COLUMN team TEXT NOT NULL DEFAULT '';
        DROP INDEX wip_limit_changes_stage;
        CREATE INDEX wip_limit_changes_team_stage ON wip_limit_changes (team, stage, changed_at);
        CREATE TABLE wip_limits_seen_v5 (
            team TEXT NOT NULL DEFAULT '',
            stage TEXT NOT NULL,
            wip_limit INTEGER CHECK (wip_limit IS NULL OR wip_limit >= 1),
            PRIMARY KEY (team, stage)
        ) WITHOUT ROWID;
        INSERT INTO wip_limits_seen_v5 (team, stage, wip_limit)
            SELECT '', stage, wip_limit FROM wip_limits_seen;
        DROP TABLE wip_limits_seen;
        ALTER TABLE wip_limits_seen_v5 RENAME TO wip_limits_seen;
        """,
    )


#: A pack of `event_packs` holds the events of the items whose id >> EVENT_PACK_SHIFT is its
#: `part` (4096 ids). Written into the triggers of every store: never change it.
EVENT_PACK_SHIFT = 12


def _migration_6(conn: Connection) -> None:
    # SQLite: each part's events also as one columnar blob (`connectors.store_engine`), so that
    # a read costs a copy of bytes, not a text conversion per value. The triggers drop a
    # part's pack whenever one of its events is inserted, deleted (also by a cascade) or
    # changed; the writer packs the parts that have none before it commits, and a reader
    # scans the events of any part without a pack. PostgreSQL hands the events over as
    # binary arrays already: nothing to add there.
    if not isinstance(conn, sqlite3.Connection):
        return
    part = f">> {EVENT_PACK_SHIFT}"
    changed = " OR ".join(
        f"OLD.{c} IS NOT NEW.{c}" for c in ("item", "changed_at", "kind", "status", "seq")
    )
    # One statement at a time: a trigger's body holds `;`, which `run_script` splits on.
    for statement in (
        "CREATE TABLE event_packs (part INTEGER PRIMARY KEY, data BLOB NOT NULL)",
        "CREATE TRIGGER event_packs_insert AFTER INSERT ON events BEGIN "
        f"DELETE FROM event_packs WHERE part = NEW.item {part}; END",
        "CREATE TRIGGER event_packs_delete AFTER DELETE ON events BEGIN "
        f"DELETE FROM event_packs WHERE part = OLD.item {part}; END",
        # Not on a change of `synced` alone, which every re-sync makes to every row it sees.
        f"CREATE TRIGGER event_packs_update AFTER UPDATE ON events WHEN {changed} BEGIN "
        f"DELETE FROM event_packs WHERE part IN (OLD.item {part}, NEW.item {part}); END",
    ):
        conn.execute(statement)


#: Ordered migrations: MIGRATIONS[i] takes a store from version i to version i + 1. Never edit
#: a released migration; append a new one.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    _migration_6,
)
SCHEMA_VERSION = len(MIGRATIONS)


def rollback(conn: Connection) -> None:
    # A failed statement may already have ended the transaction; never mask its error.
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def migrate(conn: sqlite3.Connection, target: int) -> None:
    """Apply the migrations from the store's version up to `target`, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while this one waited for the lock.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, target):
            MIGRATIONS[number](conn)
        conn.execute(f"PRAGMA user_version = {int(target)}")
    except BaseException:
        rollback(conn)
        raise
    conn.execute("COMMIT")
