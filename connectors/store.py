"""The embedded SQLite store that connectors write into and everything else reads from.

One file (default `.flowdeck/flowdeck.db` beside the workflow file), WAL mode so that readers
never block a sync and never see half of one, foreign keys on. The schema carries a version
(`PRAGMA user_version`); ordered migrations bring an older store up to date on open, and a store
written by a newer Flowdeck is refused rather than silently downgraded.

Layout, chosen so that reading a million events is one bulk scan of integers:
- `items` has an integer `id` that `events.item` refers to; the text `item_id` is looked up once
  per item, not once per event. Raw statuses live once in `statuses`; `events.kind` is 0/1/2 for
  status/blocked/unblocked. Times are integer UTC nanoseconds.
- An event's key is (item, changed_at, kind, status, occurrence), `occurrence` counting identical
  events of one item at one instant within one fetched chunk. Re-fetching the same history (the
  closed range at a sync's boundary) therefore updates rows instead of duplicating them, and a
  genuine A -> B -> A at one instant keeps its three events.
- Every row carries `synced`, the data version of the write that last saw it, so a write that
  replaces a source's data (a full sync, a CSV file) can delete exactly the rows it no longer
  contains, in the same transaction.

Writes go through `SourceWriter`: chunks are staged in temporary tables (no lock on the store
while a connector is still fetching), then merged, swept and the cursor advanced in a single
`BEGIN IMMEDIATE` transaction. A long write may first commit checkpoints (what is staged so far
and its cursor, each in one transaction of plain SQL) so that a sync that dies keeps them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.secrets import printable
from connectors.store_engine import (
    ITEM_TEXT_COLUMNS,
    READ_BATCH_ITEMS,
    STAGE_TABLES,
    DatabaseUrl,
    Engine,
    PostgresConnection,
    PostgresEngine,
    SqliteEngine,
    application_name,
    is_database_url,
)
from connectors.store_schema import MIGRATIONS, SCHEMA_VERSION, migrate, rollback, run_script
from metrics.errors import FlowdeckError, InputError

# numpy, pandas and the frame helpers of metrics/ are imported inside the functions that build
# or read frames: `flowdeck status` opens the store to read its sources table and must start
# without them (about 0.3 s of CPU).
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from connectors.config import Config
    from metrics.frames import FlowData

DEFAULT_DIR = ".flowdeck"
DEFAULT_NAME = "flowdeck.db"
ENV_VAR = "FLOWDECK_DB"
TABLES = ("items", "events", "deployments", "shipped")
#: The team of a workflow file used on its own (not through a portfolio) in the WIP-limit
#: history; a portfolio's teams are kept under their names.
NO_TEAM = ""

#: Items per batch when reading events from SQLite (see `SqliteEngine.event_columns`).
_READ_BATCH_ITEMS = READ_BATCH_ITEMS

#: Where a store is: an SQLite file, or a PostgreSQL database.
Location = Path | DatabaseUrl


def resolve_db_path(config: Config | None, db: str | os.PathLike | None) -> Location:
    """Where the store lives: `--db`, else `$FLOWDECK_DB`, else `.flowdeck/flowdeck.db` beside
    the workflow file, else in the working directory. A `postgresql://` URL names a PostgreSQL
    database; anything else is an SQLite file."""
    for value in (db, os.environ.get(ENV_VAR)):
        if value is not None and str(value).strip():
            return as_location(value)
    return default_db_path(config.directory if config is not None else Path.cwd())


def as_location(value: str | os.PathLike | DatabaseUrl) -> Location:
    if isinstance(value, DatabaseUrl):
        return value
    text = str(value).strip()
    if is_database_url(text):
        from connectors import secrets

        url = DatabaseUrl(text)
        # The process-wide scrubber (when this build has it) then hides the password from
        # every message, not only the store's own.
        remember = getattr(secrets, "remember_secret", None)
        if url.password and remember is not None:
            remember(url.password, "the database password")
        return url
    return Path(text).expanduser()


def store_exists(location: Location) -> bool:
    """Whether there may be a store to read: an SQLite file that exists, or any database URL
    (whether the database holds a store is found out by opening it)."""
    return isinstance(location, DatabaseUrl) or location.is_file()


def location_key(location: Location) -> str:
    """A text that identifies the store, for caches only: it holds a URL's password, so it is
    never shown (`str(location)` is the text to show)."""
    return location.url if isinstance(location, DatabaseUrl) else str(location)


def default_db_path(directory: Path) -> Path:
    """The store's place when none is named: `.flowdeck/flowdeck.db` in `directory` (the
    workflow file's folder)."""
    return directory / DEFAULT_DIR / DEFAULT_NAME


def _fresh_hint(path: Location) -> str:
    if isinstance(path, DatabaseUrl):
        return "pass --db URL to use another database, or drop this one's tables to start afresh"
    return f"pass --db PATH to use another store, or move {path} away to start a fresh one"


def _translate(exc: sqlite3.Error, path: Path) -> FlowdeckError:
    """A SQLite failure as a one-line message that names the file and what to do."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return FlowdeckError(
            f"{path}: the store is locked by another process (a sync or import still running?); "
            "try again when it has finished"
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return FlowdeckError(
            f"{path}: not a Flowdeck store or damaged ({text}); {_fresh_hint(path)}"
        )
    if "readonly" in low or "read-only" in low or "unable to open" in low or "i/o" in low:
        return FlowdeckError(
            f"{path}: cannot open the store for writing ({text}); the store needs to write the "
            f"file and its -wal and -shm journals in {path.parent}; pass --db PATH elsewhere"
        )
    if "disk is full" in low:
        return FlowdeckError(f"{path}: the disk is full ({text})")
    return FlowdeckError(f"{path}: store error: {text}")


def _now_ns() -> int:
    return time.time_ns()


def _to_ns(values: pd.Series, what: str) -> np.ndarray:
    """UTC nanoseconds of a tz-aware (or naive = UTC) time column; NaT is refused."""
    import pandas as pd

    times = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    if times.hasnans:
        raise InputError(f"{what}: a time is missing")
    return times.as_unit("ns").asi8


def _nullable_ns(values: pd.Series) -> list[int | None]:
    """UTC nanoseconds of a time column, None where it is missing (an optional time)."""
    import pandas as pd

    times = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns")
    return [None if missing else int(ns) for ns, missing in zip(times.asi8, times.isna(),
                                                                 strict=True)]  # fmt: skip


def _times(ns: np.ndarray) -> pd.Series:
    """UTC times over `ns` (int64 nanoseconds), which the series then shares: no copy (a
    copy of 6 million times cost 0.4 s, mostly the kernel handing over fresh pages)."""
    import numpy as np
    import pandas as pd

    values = np.ascontiguousarray(ns, dtype=np.int64).view("datetime64[ns]")
    return pd.Series(pd.DatetimeIndex(values, tz="UTC", copy=False), copy=False)


def _text(values: np.ndarray | list) -> pd.Series:
    import pandas as pd

    # The same text dtype the conform_* helpers give, so frames from the store and from a CSV
    # file are interchangeable.
    return pd.Series(values, dtype=str)


def _split(frame: pd.DataFrame, codes: np.ndarray, n: int) -> list[pd.DataFrame]:
    """`frame`'s rows of each code 0..n-1 (rows in their order; other codes dropped)."""
    import numpy as np

    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    ordered = frame.take(order)
    return [ordered.iloc[bounds[i] : bounds[i + 1]].reset_index(drop=True) for i in range(n)]


def _take(values: Any, positions: np.ndarray) -> pd.Series:
    """`values[positions]` as a text column, built from the distinct values (fast and small)."""
    import pandas as pd

    if _arrow_text():
        import pyarrow as pa

        # Arrow's own take: pandas' `take` on the same array costs three times as much.
        distinct = pa.array(pd.Series(values, dtype=str), type=pa.large_string())
        return _text_series(distinct.take(pa.array(positions)))
    return pd.Series(pd.Index(values, dtype=str).take(positions))


@functools.cache
def _text_dtype() -> Any:
    """The dtype `astype(str)` gives (`conform_items` and `conform_events` use it):
    Arrow-backed strings on pandas 3, Python objects on pandas 2."""
    import pandas as pd

    return pd.Series([""]).astype(str).dtype


def _arrow_text() -> bool:
    return getattr(_text_dtype(), "storage", None) == "pyarrow"


def _is_sorted(values: np.ndarray) -> bool:
    import numpy as np

    return bool(np.all(values[1:] >= values[:-1]))


def _arrow_strings(lengths: np.ndarray, data: bytes, where: object) -> pa.Array:
    """An Arrow string array over `data` cut at `lengths` bytes each; no copy of the text."""
    import numpy as np
    import pyarrow as pa

    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] != len(data):
        raise FlowdeckError(f"{where}: the store returned damaged item texts")
    strings = pa.LargeStringArray.from_buffers(
        len(lengths), pa.py_buffer(offsets), pa.py_buffer(data)
    )
    strings.validate(full=True)  # valid UTF-8, as a fetched text is
    return strings


def _text_series(strings: pa.Array) -> pd.Series:
    """An Arrow string array as the text column `astype(str)` would give."""
    import pandas as pd

    if _arrow_text():
        return pd.Series(strings, dtype=_text_dtype())
    return pd.Series(strings.to_numpy(zero_copy_only=False), dtype=object).astype(str)


@dataclass(frozen=True)
class TableCounts:
    added: int = 0
    updated: int = 0
    removed: int = 0


@dataclass(frozen=True)
class SourceState:
    """What the store knows of one source: its last sync (UTC nanoseconds, None before the
    first), that sync's result and error, its cursor and how many rows it holds."""

    name: str
    kind: str
    last_sync_at: int | None
    last_result: str | None
    last_error: str | None
    cursor: str | None
    items: int
    events: int
    deployments: int


@dataclass(frozen=True)
class WriteCounts:
    """What one write did to each table of its source."""

    items: TableCounts = field(default_factory=TableCounts)
    events: TableCounts = field(default_factory=TableCounts)
    deployments: TableCounts = field(default_factory=TableCounts)
    shipped: TableCounts = field(default_factory=TableCounts)


class Store:
    """An open store. Use as a context manager, or call `close()`.

    One connection, guarded by a lock so that a store kept by a long-lived process (the
    dashboard) can be used from several threads, one call at a time.
    """

    def __init__(self, conn: Any, engine: Engine) -> None:
        self._conn = conn
        self.engine = engine
        self.path: Location = engine.location
        #: The schema version this open upgraded the store from (None: it was current).
        self.upgraded_from: int | None = None
        self._lock = threading.RLock()
        self._writing = False

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                if not isinstance(self.path, Path):  # only an SQLite store raises these
                    raise
                raise _translate(exc, self.path) from None
            except _postgres_errors() as exc:
                if not isinstance(self.path, DatabaseUrl):
                    raise
                raise _translate_postgres(exc, self.path) from None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every select inside sees the same committed state."""
        with self._guard() as conn:
            conn.execute(self.engine.begin_read())
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the write lock is taken up front (waiting up to the busy
        timeout), so it never fails half-way for want of it."""
        with self._guard() as conn:
            conn.execute(self.engine.begin_write())
            try:
                yield conn
                if isinstance(conn, PostgresConnection):
                    # Held for the commit only; see `_bump_version`.
                    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise

    @contextmanager
    def source_lock(self, name: str, wait: float) -> Iterator[None]:
        """Hold the lock that keeps two processes (on any machines) from syncing source `name`
        at the same time, waiting up to `wait` seconds for it; `SourceBusy` names the holder.

        On PostgreSQL this is a session-level advisory lock keyed by the source's name: the
        server releases it when the holder's connection ends, so a killed sync never leaves it
        behind. On SQLite the whole store already has one writer at a time (the lock file of
        `connectors.sync.sync_lock`), so there is nothing more to take.
        """
        if not isinstance(self.engine, PostgresEngine):
            yield
            return
        key = _source_lock_key(name)
        deadline = time.monotonic() + wait
        with self._guard() as conn:
            while not conn.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0]:
                if time.monotonic() >= deadline:
                    raise SourceBusy(
                        f"source '{name}' is being synced by another process "
                        f"({_lock_holder(conn, key)}); it was left to that one"
                    )
                time.sleep(0.2)
        try:
            yield
        finally:
            with self._guard() as conn:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                conn.execute("SELECT pg_advisory_unlock(?)", (key,))

    # ---- reading -------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._guard() as conn:
            return self.engine.schema_version(conn)

    def data_version(self) -> int:
        """A number that changes whenever a write (sync, import, WIP-limit change) commits."""
        with self._guard() as conn:
            return _data_version(conn)

    def source_names(self) -> list[str]:
        with self._guard() as conn:
            return [r[0] for r in conn.execute("SELECT name FROM sources ORDER BY name")]

    def source_cursor(self, name: str) -> str | None:
        with self._guard() as conn:
            row = conn.execute("SELECT cursor FROM sources WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def source_kind(self, name: str) -> str | None:
        with self._guard() as conn:
            row = conn.execute("SELECT kind FROM sources WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def read_flow_data(self, sources: list[str] | None = None) -> FlowData:
        """The whole store (or the named sources) as the canonical frames, from one snapshot."""
        from metrics.frames import FlowData

        with self._read() as conn:
            where: str = ""
            params: tuple[str, ...] = ()
            if sources is not None:
                where, params = self._sources_filter(conn, sources)
            items = self._read_items(conn, sources)
            events, _ = self._read_events(conn, items, sources)
            deployments, shipped = self._read_deployments(conn, where, params)
            pulls = self._read_pull_requests(conn, items)
        items_frame = items.drop(columns="_ref")
        return FlowData(
            items=items_frame,
            events=events,
            deployments=deployments,
            shipped=shipped,
            pull_requests=pulls,
        )

    def _sources_filter(
        self, conn: sqlite3.Connection, sources: list[str]
    ) -> tuple[str, tuple[str, ...]]:
        """The `WHERE` clause and parameters that keep the named sources' rows; a name the store
        does not hold is an error naming the sources it does."""
        known = {r[0] for r in conn.execute("SELECT name FROM sources")}
        missing = [s for s in sources if s not in known]
        if missing:
            have = ", ".join(f"'{s}'" for s in sorted(known)) or "none"
            raise FlowdeckError(
                f"{self.path}: no source '{missing[0]}' in the store (sources: {have})"
            )
        marks = ",".join("?" * len(sources))
        return f" WHERE source IN ({marks})", tuple(sources)

    def read_flow_data_by_source(
        self, sources: list[str], attributes: bool = True
    ) -> dict[str, FlowData]:
        """Each of the named sources' frames, as `read_flow_data([name])` gives them, from
        one read of the store (one snapshot; a portfolio of fifty teams reads once, not fifty
        times). Keys: `sources`, in their order; a source missing from the store is an
        error, as in `read_flow_data`. `attributes=False` leaves the items' title, type,
        labels, url and lines_changed empty (for numbers that need none of them: faster)."""
        import pandas as pd

        from metrics.frames import FlowData

        with self._read() as conn:
            where, params = self._sources_filter(conn, sources)
            if not sources:
                return {}
            items = self._read_items(conn, sources, attributes)
            events, event_item = self._read_events(conn, items, sources)
            deployments, shipped = self._read_deployments(conn, where, params)
            pulls = self._read_pull_requests(conn, items)
        names = pd.Index(sources)
        item_source = names.get_indexer(items["source"])
        # Split by integer codes (the events' item rows), not by hashing the item ids again.
        event_source = item_source[event_item]
        deploy_source = names.get_indexer(deployments["source"])
        shipped_row = pd.Index(deployments["deploy_id"]).get_indexer(shipped["deploy_id"])
        shipped_source = deploy_source[shipped_row] if len(shipped) else shipped_row
        pull_row = pd.Index(items["item_id"]).get_indexer(pulls["item_id"])
        pull_source = item_source[pull_row] if len(pulls) else pull_row
        items_frame = items.drop(columns="_ref")
        parts = [
            _split(frame, codes, len(sources))
            for frame, codes in ((items_frame, item_source), (events, event_source),
                                 (deployments, deploy_source), (shipped, shipped_source),
                                 (pulls, pull_source))
        ]  # fmt: skip
        return {
            name: FlowData(items=parts[0][i], events=parts[1][i], deployments=parts[2][i],
                           shipped=parts[3][i], pull_requests=parts[4][i])
            for i, name in enumerate(sources)
        }  # fmt: skip

    @staticmethod
    def _read_pull_requests(conn: Any, items: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        from metrics.frames import (
            PULL_REQUEST_INPUT_COLUMNS,
            conform_pull_requests,
            empty_pull_requests,
        )

        columns = PULL_REQUEST_INPUT_COLUMNS[1:]
        rows = conn.execute(
            f"SELECT item, {', '.join(columns)} FROM pull_requests ORDER BY item"
        ).fetchall()
        if not rows:
            return empty_pull_requests()
        raw = pd.DataFrame.from_records(rows, columns=["_ref", *columns])
        names = items.set_index("_ref")["item_id"]
        raw = raw[raw["_ref"].isin(names.index)]  # the chosen sources' items only
        frame = pd.DataFrame({"item_id": raw["_ref"].map(names).to_numpy()})
        for col in columns:
            values = raw[col].astype("float64").to_numpy()
            frame[col] = pd.to_datetime(values, unit="ns", utc=True)
        return conform_pull_requests(frame)

    def _read_items(
        self, conn: Any, sources: list[str] | None, attributes: bool = True
    ) -> pd.DataFrame:
        """The items in id order, as `conform_items` gives them, with their id as `_ref`.
        `attributes=False`: title, type, labels and url empty, lines_changed missing."""
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        from metrics.frames import ITEM_COLUMNS

        texts = ITEM_TEXT_COLUMNS if attributes else ("item_id", "source")
        got = self.engine.item_columns(conn, sources, texts)
        order = None if _is_sorted(got.ids) else np.argsort(got.ids, kind="stable")
        frame = pd.DataFrame({"_ref": got.ids if order is None else got.ids[order]})
        for column in ITEM_COLUMNS:
            if column == "lines_changed":
                values, missing = got.lines_changed, got.lines_missing
                if not attributes:
                    missing = np.ones(len(got.ids), dtype=bool)
                elif order is not None:
                    values, missing = values[order], missing[order]
                frame[column] = pd.arrays.IntegerArray(values.copy(), missing.copy())
            elif column in texts:
                strings = _arrow_strings(*got.texts[column], self.path)
                if order is not None:
                    strings = strings.take(pa.array(order))
                frame[column] = _text_series(strings)
            else:
                frame[column] = pd.Series("", index=frame.index).astype(str)
        return frame

    def _read_events(
        self, conn: Any, items: pd.DataFrame, sources: list[str] | None
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """The events of `items` (of `sources`), and each event's row in `items`."""
        import numpy as np
        import pandas as pd

        from metrics.frames import EVENT_KINDS

        refs, changed, kinds, status_ids, seq = self.engine.event_columns(
            conn, items["_ref"].to_numpy(dtype=np.int64), sources
        )
        # Rows come in key order (item, time, kind, status); events of one item at one instant
        # apply in `seq` order, so re-sort when that differs (or the scan order was unusual).
        same_item = refs[1:] == refs[:-1]
        in_order = np.all(refs[1:] >= refs[:-1]) and np.all(
            ~same_item | (changed[1:] > changed[:-1])
            | ((changed[1:] == changed[:-1]) & (seq[1:] >= seq[:-1]))
        )  # fmt: skip
        if not in_order:
            order = np.lexsort((seq, changed, refs))
            refs, changed, kinds, status_ids, seq = (
                a[order] for a in (refs, changed, kinds, status_ids, seq)
            )
        # Text columns by position into their distinct values: one string per item or status,
        # not one per event.
        item_refs = items["_ref"].to_numpy()
        # Positions as int32 where they fit: the per-event arrays below are then half as big.
        positions = np.int32 if len(item_refs) < 2**31 else np.int64
        item_pos = np.zeros(int(item_refs.max()) + 1 if len(item_refs) else 1, dtype=positions)
        item_pos[item_refs] = np.arange(len(item_refs))
        statuses = conn.execute("SELECT id, name FROM statuses ORDER BY id").fetchall()
        status_pos = np.zeros(max((r[0] for r in statuses), default=0) + 1, dtype=np.int32)
        status_pos[[r[0] for r in statuses]] = np.arange(len(statuses))
        rows = item_pos[refs]
        frame = pd.DataFrame(
            {
                "item_id": _take(items["item_id"], rows),
                "changed_at": _times(changed),
                "event": _take(list(EVENT_KINDS), kinds),
                "status": _take([r[1] for r in statuses], status_pos[status_ids]),
                "seq": pd.Series(seq, dtype="int64", copy=False),
            },
            copy=False,  # the arrays are this read's own
        )
        return frame, rows

    @staticmethod
    def _read_deployments(
        conn: Any, where: str, params: tuple
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        import numpy as np
        import pandas as pd

        from metrics.frames import conform_deployments, empty_shipped

        rows = conn.execute(
            "SELECT deploy_id, deployed_at, environment, status, version, source FROM deployments"
            f"{where} ORDER BY deployed_at, deploy_id",
            params,
        ).fetchall()
        cols = ["deploy_id", "deployed_at", "environment", "status", "version", "source"]
        raw = pd.DataFrame.from_records(rows, columns=cols)
        raw["deployed_at"] = _times(raw["deployed_at"].to_numpy(dtype=np.int64))
        deployments = conform_deployments(raw)
        deployments["deployed_at"] = deployments["deployed_at"].dt.as_unit("ns")
        query = "SELECT deploy_id, item_id FROM shipped"
        if where:
            query += f" WHERE deploy_id IN (SELECT deploy_id FROM deployments{where})"
        shipped_rows = conn.execute(query + " ORDER BY deploy_id, item_id", params).fetchall()
        if shipped_rows:
            arr = np.array(shipped_rows, dtype=object)
            shipped = pd.DataFrame({"deploy_id": _text(arr[:, 0]), "item_id": _text(arr[:, 1])})
        else:
            shipped = empty_shipped()
        return deployments, shipped

    def source_states(self) -> list[SourceState]:
        """One `SourceState` per source, by name. Plain values, no frame: `flowdeck status`
        reads this without importing pandas."""
        with self._read() as conn:
            rows = conn.execute(
                """
                SELECT s.name, s.kind, s.last_sync_at, s.last_result, s.last_error, s.cursor,
                    (SELECT count(*) FROM items i WHERE i.source = s.name),
                    (SELECT count(*) FROM events e JOIN items i ON e.item = i.id
                        WHERE i.source = s.name),
                    (SELECT count(*) FROM deployments d WHERE d.source = s.name)
                FROM sources s ORDER BY s.name
                """
            ).fetchall()
        return [SourceState(*row[:6], *(int(n) for n in row[6:])) for row in rows]

    def sources_status(self) -> pd.DataFrame:
        """`source_states` as a frame: name, kind, last_sync_at (UTC), last_result, last_error,
        cursor, items, events, deployments."""
        import pandas as pd

        rows = [astuple(state) for state in self.source_states()]
        frame = pd.DataFrame.from_records(rows, columns=[f.name for f in fields(SourceState)])
        frame["last_sync_at"] = pd.to_datetime(
            frame["last_sync_at"].astype("Int64"), unit="ns", utc=True
        )
        for col in ("items", "events", "deployments"):
            frame[col] = frame[col].astype("int64")
        return frame

    def last_syncs(self) -> pd.DataFrame:
        """One row per source: name, last_sync_at (UTC; NaT before the first sync). The
        cheap part of `sources_status`, which counts every source's rows."""
        import pandas as pd

        with self._guard() as conn:
            rows = conn.execute("SELECT name, last_sync_at FROM sources ORDER BY name").fetchall()
        frame = pd.DataFrame.from_records(rows, columns=["name", "last_sync_at"])
        frame["last_sync_at"] = pd.to_datetime(
            frame["last_sync_at"].astype("Int64"), unit="ns", utc=True
        )
        return frame

    def quality_counts(self) -> list[tuple[str, str, int]]:
        """Data-quality counts per source (from each source's last sync): (source, key, count),
        by source and key."""
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT source, key, count FROM quality ORDER BY source, key"
            ).fetchall()
        return [(source, key, int(count)) for source, key, count in rows]

    def quality(self) -> pd.DataFrame:
        """`quality_counts` as a frame: source, key, count."""
        import pandas as pd

        frame = pd.DataFrame.from_records(self.quality_counts(), columns=["source", "key", "count"])
        return frame.astype({"count": "int64"})

    def wip_limit_changes(self, team: str = NO_TEAM) -> pd.DataFrame:
        """The history of one team's WIP-limit changes (spec section 6), oldest first.
        `team`: the team's name in its portfolio, `NO_TEAM` ('') for a workflow file used on
        its own. Columns `WIP_CHANGE_COLUMNS`: changed_at (UTC), stage (a stage's name, or
        `total` for the workflow's limit), old_limit, new_limit (nullable ints; missing = no
        limit), who, why. No change yet -> an empty frame with those columns."""
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT changed_at, stage, old_limit, new_limit, who, why "
                "FROM wip_limit_changes WHERE team = ? ORDER BY changed_at, id",
                (team,),
            ).fetchall()
        return _wip_changes_frame(rows)

    def wip_limits_seen(self, team: str = NO_TEAM) -> dict[str, int | None]:
        """The limits as Flowdeck last read them from the team's workflow file (key -> limit or
        None); empty before the file was first read with this store."""
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT stage, wip_limit FROM wip_limits_seen WHERE team = ?", (team,)
            ).fetchall()
        return {stage: limit for stage, limit in rows}

    # ---- writing -------------------------------------------------------------------------

    def record_wip_limit_change(
        self,
        stage: str,
        old: int | None,
        new: int | None,
        changed_at: datetime | pd.Timestamp | str | None = None,
        who: str = "",
        why: str = "",
        *,
        apply: Callable[[], None] | None = None,
        team: str = NO_TEAM,
    ) -> None:
        """Append one WIP-limit change of `team` (a limit of None means "no limit") and note
        `new` as the limit its workflow file now holds. A naive `changed_at` is taken as UTC;
        None means now.

        `apply` (rewriting the workflow file) runs inside the write transaction, after the row
        is written and before it commits: when it raises, nothing is recorded; when the commit
        fails after it ran, the caller undoes it. Raises `InputError` for a bad value, an empty
        `who` or `why`, or one longer than `WHO_MAX`/`WHY_MAX` characters."""
        if not isinstance(stage, str) or not stage.strip():
            raise InputError("WIP-limit change: the stage name is empty")
        for label, value in (("old", old), ("new", new)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InputError(f"WIP-limit change: {label} limit {value!r} is not an integer")
            if value is not None and value < 1:
                raise InputError(f"WIP-limit change: {label} limit {value} must be >= 1")
        who, why = check_who_why(who, why)
        when = _now_ns() if changed_at is None else _timestamp_ns(changed_at)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO wip_limit_changes "
                "(changed_at, stage, old_limit, new_limit, who, why, team)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (when, stage, old, new, who, why, team),
            )
            # Plain DELETE + INSERT rather than SQLite's upsert words: the same SQL runs on every
            # store engine.
            conn.execute("DELETE FROM wip_limits_seen WHERE team = ? AND stage = ?", (team, stage))
            conn.execute(
                "INSERT INTO wip_limits_seen (team, stage, wip_limit) VALUES (?, ?, ?)",
                (team, stage, new),
            )
            _bump_version(conn)
            if apply is not None:
                apply()

    def reconcile_wip_limits(
        self,
        limits: dict[str, int | None],
        changed_at: datetime | pd.Timestamp | str | None = None,
        team: str = NO_TEAM,
    ) -> pd.DataFrame:
        """Record the hand edits of `team`'s workflow file: `limits` is what the file holds
        now (stage name or `total` -> limit or None). A limit that differs from the one
        Flowdeck last read (or, never read before, from the team's history's latest
        `new_limit`) is recorded once, `who` = `flowdeck.toml`. A key never seen and without
        history is only noted. Other teams' limits and history are not looked at. Returns the
        recorded changes (`wip_limit_changes` columns)."""
        if self.wip_limits_seen(team) == limits:
            return _wip_changes_frame([])
        when = _now_ns() if changed_at is None else _timestamp_ns(changed_at)
        with self._write() as conn:
            # Read again under the write lock: another process may have recorded it meanwhile.
            seen = dict(
                conn.execute(
                    "SELECT stage, wip_limit FROM wip_limits_seen WHERE team = ?", (team,)
                ).fetchall()
            )
            latest = dict(
                conn.execute(
                    "SELECT stage, new_limit FROM wip_limit_changes c WHERE team = ? AND id = "
                    "(SELECT id FROM wip_limit_changes d WHERE d.team = c.team "
                    "AND d.stage = c.stage ORDER BY changed_at DESC, id DESC LIMIT 1)",
                    (team,),
                ).fetchall()
            )
            rows = []
            for stage, limit in limits.items():
                if stage in seen:
                    known = seen[stage]
                elif stage in latest:
                    known = latest[stage]
                else:
                    continue
                if known != limit:
                    rows.append((when, stage, known, limit, HAND_EDIT_WHO, HAND_EDIT_WHY))
            conn.executemany(
                "INSERT INTO wip_limit_changes "
                "(changed_at, stage, old_limit, new_limit, who, why, team)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*row, team) for row in rows],
            )
            conn.execute("DELETE FROM wip_limits_seen WHERE team = ?", (team,))
            conn.executemany(
                "INSERT INTO wip_limits_seen (team, stage, wip_limit) VALUES (?, ?, ?)",
                [(team, stage, limit) for stage, limit in limits.items()],
            )
            if rows:
                _bump_version(conn)
        return _wip_changes_frame(rows)

    def record_failure(self, name: str, kind: str, error: str) -> None:
        """Note a failed sync of a source (its data and cursor stay as they were)."""
        with self._write() as conn:
            _ensure_source(conn, name, kind, self.path)
            conn.execute(
                "UPDATE sources SET last_sync_at = ?, last_result = 'failed', last_error = ? "
                "WHERE name = ?",
                # Scrubbed here as well as by the caller: nothing reaches the store with a
                # credential in it, whoever records the failure.
                (_now_ns(), printable(error, limit=2000), name),
            )
            _bump_version(conn)

    def writer(self, name: str, kind: str) -> SourceWriter:
        """A staging area for one source's chunks; nothing reaches the store before
        `SourceWriter.commit`. One writer at a time per open store (they share its staging
        tables)."""
        with self._lock:
            if self._writing:
                raise RuntimeError("this store already has an open writer")
            self._writing = True
        try:
            return SourceWriter(self, name, kind)
        except BaseException:
            self._writing = False
            raise


WIP_CHANGE_COLUMNS = ["changed_at", "stage", "old_limit", "new_limit", "who", "why"]
#: Who and why of a change noticed in the workflow file rather than made through Flowdeck.
HAND_EDIT_WHO = "flowdeck.toml"
HAND_EDIT_WHY = "edited by hand in the workflow file (no reason given)"
#: Longest accepted `who` and `why`: a name and a few sentences of hypothesis.
WHO_MAX = 100
WHY_MAX = 1000


def check_who_why(who: str, why: str) -> tuple[str, str]:
    """`who` and `why` with outer white space removed; `InputError` when one is empty or too
    long (one line that says which)."""
    who = (who or "").strip()
    why = (why or "").strip()
    if not who:
        raise InputError("WIP-limit change: say who makes it (who is empty)")
    if not why:
        raise InputError(
            "WIP-limit change: say why (the experiment's hypothesis, e.g. 'we expect review "
            "waits to halve'); why is empty"
        )
    if len(who) > WHO_MAX:
        raise InputError(f"WIP-limit change: who is {len(who)} characters; at most {WHO_MAX}")
    if len(why) > WHY_MAX:
        raise InputError(f"WIP-limit change: why is {len(why)} characters; at most {WHY_MAX}")
    return who, why


def _wip_changes_frame(rows: list) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=WIP_CHANGE_COLUMNS)
    frame["changed_at"] = _times(frame["changed_at"].to_numpy(dtype=np.int64))
    for col in ("old_limit", "new_limit"):
        frame[col] = frame[col].astype("Int64")
    for col in ("stage", "who", "why"):
        frame[col] = frame[col].astype(str)
    return frame


class SourceBusy(FlowdeckError):
    """Another process holds the sync lock of a source."""


def _source_lock_key(name: str) -> int:
    # A stable 64-bit key of the name: the same on every machine and Python (not `hash()`).
    digest = hashlib.blake2b(f"flowdeck-sync:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_holder(conn: Any, key: int) -> str:
    """Who holds an advisory lock, as `pg_stat_activity` shows it (its application name says
    which command on which machine)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    row = conn.execute(
        "SELECT a.application_name, host(a.client_addr) FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        "AND l.granted AND l.classid = ? AND l.objid = ? AND l.objsubid = 1 LIMIT 1",
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    ).fetchone()
    if row is None:
        return "it has just finished"
    who = row[0] or "a client"
    return f"{who} from {row[1]}" if row[1] else who


def _timestamp_ns(value: Any) -> int:
    import pandas as pd

    from metrics.days import as_utc

    try:
        stamp = as_utc(value)
    except (ValueError, TypeError):
        raise InputError(f"{value!r} is not a date-time") from None
    if stamp is pd.NaT:
        raise InputError("a date-time is missing")
    return stamp.as_unit("ns").value


def _data_version(conn: Any) -> int:
    return conn.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]


def _bump_version(conn: Any) -> int:
    """The generation of the current write (what its rows' `synced` become): the new data
    version on SQLite. On PostgreSQL, where writers of different sources run at the same time,
    a sequence, and the data version moves only as the write commits (`Store._write`): taking
    the `meta` row at the start would make every writer wait for the slowest one."""
    if isinstance(conn, PostgresConnection):
        return int(conn.execute(f"SELECT nextval('{_GENERATIONS}')").fetchone()[0])
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
    return _data_version(conn)


def _ensure_source(conn: Any, name: str, kind: str, path: Location) -> None:
    row = conn.execute("SELECT kind FROM sources WHERE name = ?", (name,)).fetchone()
    if row is None:
        conn.execute("INSERT INTO sources (name, kind) VALUES (?, ?)", (name, kind))
    elif row[0] != kind:
        raise FlowdeckError(
            f"{path}: source '{name}' in the store holds {row[0]} data, not {kind}; "
            f"give the {kind} source another name, or {_fresh_hint(path)}"
        )


class SourceWriter:
    """Collects one source's chunks, then writes them in one transaction.

    Chunks are staged in temporary tables (the store itself is not locked while the connector
    fetches). `commit` upserts every row by key, optionally deletes the rows of the `replace`d
    tables that this write did not contain, stores the quality counts and advances the cursor,
    all in one `BEGIN IMMEDIATE` transaction: a crash at any moment leaves either the old or
    the new state. `checkpoint` writes what is staged so far (and the cursor) the same way,
    without removing anything; a crash after it leaves the checkpoint's state.
    """

    def __init__(self, store: Store, name: str, kind: str) -> None:
        self._store = store
        self.name = name
        self.kind = kind
        self.cursor: str | None = None
        self.quality: dict[str, int] = {}
        self.chunks = 0
        self.rows = 0
        self._pending = 0  # chunks staged since the last checkpoint
        self._first_gen: int | None = None  # the data version of the first checkpoint
        self._merged: dict[str, tuple[int, int]] = {}  # (added, updated) by the checkpoints
        with store._guard() as conn:
            run_script(
                conn,
                """
                DROP TABLE IF EXISTS temp.stage_items;
                DROP TABLE IF EXISTS temp.stage_events;
                DROP TABLE IF EXISTS temp.stage_deployments;
                DROP TABLE IF EXISTS temp.stage_shipped;
                DROP TABLE IF EXISTS temp.stage_pull_requests;
                CREATE TEMP TABLE stage_items (
                    item_id TEXT PRIMARY KEY, title TEXT, type TEXT, labels TEXT, url TEXT,
                    lines_changed INTEGER
                ) WITHOUT ROWID;
                CREATE TEMP TABLE stage_events (
                    item_id TEXT, changed_at INTEGER, kind INTEGER, status TEXT,
                    occurrence INTEGER, seq INTEGER,
                    PRIMARY KEY (item_id, changed_at, kind, status, occurrence)
                ) WITHOUT ROWID;
                CREATE TEMP TABLE stage_deployments (
                    deploy_id TEXT PRIMARY KEY, deployed_at INTEGER, environment TEXT,
                    status TEXT, version TEXT
                ) WITHOUT ROWID;
                CREATE TEMP TABLE stage_shipped (
                    deploy_id TEXT, item_id TEXT, PRIMARY KEY (deploy_id, item_id)
                ) WITHOUT ROWID;
                CREATE TEMP TABLE stage_pull_requests (
                    item_id TEXT PRIMARY KEY, created_at INTEGER, ready_at INTEGER,
                    first_commit_at INTEGER, first_review_at INTEGER, merged_at INTEGER
                ) WITHOUT ROWID;
                """,
            )

    def add(self, chunk: Any) -> None:
        """Stage one chunk (anything with the four frames; `cursor` and `quality` optional).
        Later chunks win over earlier ones for the same key."""
        import pandas as pd

        from metrics.frames import (
            PULL_REQUEST_INPUT_COLUMNS,
            conform_deployments,
            conform_events,
            conform_items,
            conform_pull_requests,
        )

        where = f"source '{self.name}'"
        items = conform_items(chunk.items) if len(chunk.items) else None
        events = conform_events(chunk.events) if len(chunk.events) else None
        deployments = conform_deployments(chunk.deployments) if len(chunk.deployments) else None
        shipped = chunk.shipped if len(chunk.shipped) else None
        staged: list[tuple[str, Iterable]] = []
        if items is not None:
            if items["item_id"].str.strip().eq("").any():
                raise InputError(f"{where}: an item has an empty item_id")
            lines = items["lines_changed"].astype(object).where(items["lines_changed"].notna())
            rows = zip(
                items["item_id"].tolist(),
                items["title"].tolist(),
                items["type"].tolist(),
                items["labels"].tolist(),
                items["url"].tolist(),
                [None if pd.isna(v) else int(v) for v in lines],
                strict=True,
            )
            staged.append(("stage_items", rows))
        if events is not None:
            staged.append(("stage_events", _event_rows(events, where)))
        if deployments is not None:
            rows = zip(
                deployments["deploy_id"].tolist(),
                _to_ns(deployments["deployed_at"], f"{where}: deployed_at").tolist(),
                deployments["environment"].tolist(),
                deployments["status"].tolist(),
                deployments["version"].tolist(),
                strict=True,
            )
            bad = ~deployments["status"].isin(["success", "failure"])
            if bad.any():
                raise InputError(
                    f"{where}: deployment status {deployments['status'][bad].iloc[0]!r} is not "
                    "'success' or 'failure'"
                )
            staged.append(("stage_deployments", rows))
        if shipped is not None:
            rows = zip(
                shipped["deploy_id"].astype(str).tolist(),
                shipped["item_id"].astype(str).tolist(),
                strict=True,
            )
            staged.append(("stage_shipped", rows))
        pulls = getattr(chunk, "pull_requests", None)
        if pulls is not None and len(pulls):
            pulls = conform_pull_requests(pulls)
            times = [_nullable_ns(pulls[c]) for c in PULL_REQUEST_INPUT_COLUMNS[1:]]
            rows = zip(pulls["item_id"].tolist(), *times, strict=True)
            staged.append(("stage_pull_requests", rows))
        engine = self._store.engine
        with self._store._guard() as conn:
            conn.execute("BEGIN")
            try:
                for table, table_rows in staged:
                    engine.stage(conn, STAGE_TABLES[table], table_rows)
            except BaseException:
                rollback(conn)
                raise
            conn.execute("COMMIT")
        cursor = getattr(chunk, "cursor", None)
        if cursor is not None:
            self.cursor = str(cursor)
        for key, count in (getattr(chunk, "quality", None) or {}).items():
            self.quality[key] = self.quality.get(key, 0) + int(count)
        self.chunks += 1
        self._pending += 1
        self.rows += len(chunk.items) + len(chunk.events) + len(chunk.deployments)

    def discard(self) -> None:
        """Drop what was staged (commit does this too); the store can then have a new writer."""
        try:
            with self._store._guard() as conn:
                _drop_stage(conn)
        finally:
            self._store._writing = False

    def commit(
        self,
        replace: Iterable[str] = (),
        result: str = "ok",
        keep_quality: bool = False,
        clear_cursor: bool = False,
    ) -> WriteCounts:
        """Merge everything staged into the store in one transaction and return the counts.

        `replace`: the tables (of `TABLES`) whose rows of this source are exactly what was
        staged; rows of those tables not staged are deleted. `keep_quality`: leave the stored
        quality counts alone (a write that fetched nothing says nothing about quality).
        `clear_cursor`: forget the cursor, so that the next sync fetches everything (an import
        has replaced what the last sync wrote).
        """
        replace = set(replace)
        unknown = replace - set(TABLES)
        if unknown:
            raise ValueError(f"unknown tables {sorted(unknown)}")
        store, name = self._store, self.name
        try:
            with store._write() as conn:
                gen, merged = self._merge(conn)
                # Rows seen by an earlier checkpoint of this write carry that checkpoint's
                # version: the sweep spares everything this whole write has seen.
                removed = _sweep(conn, name, self._first_gen or gen, replace)
                store.engine.refresh_event_packs(conn)
                if not keep_quality:
                    conn.execute("DELETE FROM quality WHERE source = ?", (name,))
                    conn.executemany(
                        "INSERT INTO quality (source, key, count) VALUES (?, ?, ?)",
                        [(name, k, v) for k, v in sorted(self.quality.items()) if v],
                    )
                if clear_cursor or self.cursor is not None:
                    new_cursor = None if clear_cursor else self.cursor
                    conn.execute("UPDATE sources SET cursor = ? WHERE name = ?", (new_cursor, name))
                _set_result(conn, name, result)
        finally:
            self.discard()
        totals = {t: _add(self._merged.get(t, (0, 0)), merged[t]) for t in TABLES}
        return WriteCounts(*(TableCounts(*totals[t], removed[t]) for t in TABLES))

    def checkpoint(self, move_cursor: bool = True) -> None:
        """Write what is staged so far, and the cursor of the last chunk, in one transaction,
        then stage afresh: a write that stops later keeps this much.

        Nothing is removed and the quality counts stay as they were; `commit` does both for
        the whole write. `move_cursor=False` keeps the stored cursor (a full re-sync whose
        chunks' cursors may lie before it). The source is marked `partial` until `commit`.
        """
        if self._pending == 0:
            return
        store, name = self._store, self.name
        with store._write() as conn:
            gen, merged = self._merge(conn)
            store.engine.refresh_event_packs(conn)
            if self._first_gen is None:
                self._first_gen = gen
            if move_cursor and self.cursor is not None:
                conn.execute("UPDATE sources SET cursor = ? WHERE name = ?", (self.cursor, name))
            _set_result(conn, name, "partial")
            _clear_stage(conn)
        for table in TABLES:
            self._merged[table] = _add(self._merged.get(table, (0, 0)), merged[table])
        self._pending = 0

    def _merge(self, conn: Any) -> tuple[int, dict[str, tuple[int, int]]]:
        """Upsert everything staged into the store (inside the caller's transaction): the new
        data version and (added, updated) per table."""
        name, path = self.name, self._store.path
        _ensure_source(conn, name, self.kind, path)
        gen = _bump_version(conn)
        _check_owner(conn, name, path)
        merged = {
            "items": _merge_items(conn, name, gen),
            "events": _merge_events(conn, name, gen),
            "deployments": _merge_deployments(conn, name, gen),
            "shipped": _merge_shipped(conn, gen, path),
        }
        _merge_pull_requests(conn, name, gen)
        return gen, merged


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def _set_result(conn: Any, name: str, result: str) -> None:
    conn.execute(
        "UPDATE sources SET last_sync_at = ?, last_result = ?, last_error = NULL WHERE name = ?",
        (_now_ns(), result, name),
    )


def _event_rows(events: pd.DataFrame, where: str) -> Iterator[tuple]:
    import pandas as pd

    from metrics.frames import EVENT_KINDS

    unknown = ~events["event"].isin(EVENT_KINDS)
    if unknown.any():
        raise InputError(f"{where}: event kind {events['event'][unknown].iloc[0]!r} is unknown")
    if events["item_id"].str.strip().eq("").any():
        raise InputError(f"{where}: an event has an empty item_id")
    frame = pd.DataFrame(
        {
            "item_id": events["item_id"],
            "changed_at": _to_ns(events["changed_at"], f"{where}: changed_at"),
            "kind": events["event"].map({k: c for c, k in enumerate(EVENT_KINDS)}).astype("int64"),
            "status": events["status"],
            "seq": events["seq"].astype("int64"),
        }
    )
    frame = frame.sort_values(["item_id", "changed_at", "seq"], kind="stable")
    key = ["item_id", "changed_at", "kind", "status"]
    frame["occurrence"] = frame.groupby(key, sort=False).cumcount()
    return zip(
        frame["item_id"].tolist(),
        frame["changed_at"].tolist(),
        frame["kind"].tolist(),
        frame["status"].tolist(),
        frame["occurrence"].tolist(),
        frame["seq"].tolist(),
        strict=True,
    )


def _clear_stage(conn: Any) -> None:
    run_script(
        conn,
        """
        DELETE FROM temp.stage_items;
        DELETE FROM temp.stage_events;
        DELETE FROM temp.stage_deployments;
        DELETE FROM temp.stage_shipped;
        DELETE FROM temp.stage_pull_requests;
        """,
    )


def _drop_stage(conn: Any) -> None:
    run_script(
        conn,
        """
        DROP TABLE IF EXISTS temp.stage_items;
        DROP TABLE IF EXISTS temp.stage_events;
        DROP TABLE IF EXISTS temp.stage_events_resolved;
        DROP TABLE IF EXISTS temp.stage_deployments;
        DROP TABLE IF EXISTS temp.stage_shipped;
        DROP TABLE IF EXISTS temp.stage_pull_requests;
        DROP TABLE IF EXISTS temp.load_stage_items;
        DROP TABLE IF EXISTS temp.load_stage_events;
        DROP TABLE IF EXISTS temp.load_stage_deployments;
        DROP TABLE IF EXISTS temp.load_stage_shipped;
        DROP TABLE IF EXISTS temp.load_stage_pull_requests;
        """,
    )


def _check_owner(conn: Any, name: str, path: Location) -> None:
    """Ids are namespaced by source, so an id already held by another source is a bug in a
    connector or a mistaken import: refuse it rather than move the row between sources."""
    checks = (
        (
            "item",
            "SELECT s.item_id, i.source FROM temp.stage_items s JOIN items i "
            "ON i.item_id = s.item_id WHERE i.source != ? LIMIT 1",
        ),
        (
            "item",
            "SELECT s.item_id, i.source FROM temp.stage_events s JOIN items i "
            "ON i.item_id = s.item_id WHERE i.source != ? LIMIT 1",
        ),
        (
            "deployment",
            "SELECT s.deploy_id, d.source FROM temp.stage_deployments s JOIN "
            "deployments d ON d.deploy_id = s.deploy_id WHERE d.source != ? LIMIT 1",
        ),
    )
    for what, sql in checks:
        row = conn.execute(sql, (name,)).fetchone()
        if row is not None:
            raise FlowdeckError(
                f"{path}: {what} '{row[0]}' from source '{name}' already belongs to source "
                f"'{row[1]}'; ids must be namespaced by source"
            )


def _merge_items(conn: Any, name: str, gen: int) -> tuple[int, int]:
    before = _count(conn, "SELECT count(*) FROM items WHERE source = ?", (name,))
    updated = _count(
        conn,
        "SELECT count(*) FROM temp.stage_items s JOIN items i ON i.item_id = s.item_id "
        "WHERE s.title IS NOT i.title OR s.type IS NOT i.type OR s.labels IS NOT i.labels "
        "OR s.url IS NOT i.url OR s.lines_changed IS NOT i.lines_changed",
    )
    conn.execute(
        "INSERT INTO items (item_id, source, title, type, labels, url, lines_changed, synced) "
        "SELECT item_id, ?, title, type, labels, url, lines_changed, ? FROM temp.stage_items "
        "WHERE true ON CONFLICT (item_id) DO UPDATE SET title = excluded.title, "
        "type = excluded.type, labels = excluded.labels, url = excluded.url, "
        "lines_changed = excluded.lines_changed, synced = excluded.synced",
        (name, gen),
    )
    # Events may name an item the chunk did not describe (its attributes came earlier, or the
    # source has none): keep the item, or create it bare.
    conn.execute(
        "INSERT INTO items (item_id, source, synced) "
        "SELECT DISTINCT item_id, ?, ? FROM temp.stage_events WHERE true "
        "ON CONFLICT (item_id) DO UPDATE SET synced = excluded.synced",
        (name, gen),
    )
    after = _count(conn, "SELECT count(*) FROM items WHERE source = ?", (name,))
    return after - before, updated


def _merge_events(conn: Any, name: str, gen: int) -> tuple[int, int]:
    conn.execute(
        "INSERT OR IGNORE INTO statuses (name) SELECT DISTINCT status FROM temp.stage_events"
    )
    conn.execute(
        "CREATE TEMP TABLE stage_events_resolved AS "
        "SELECT i.id AS item, s.changed_at, s.kind, st.id AS status, s.occurrence, s.seq "
        "FROM temp.stage_events s JOIN items i ON i.item_id = s.item_id "
        "JOIN statuses st ON st.name = s.status"
    )
    key = (
        "e.item = r.item AND e.changed_at = r.changed_at AND e.kind = r.kind "
        "AND e.status = r.status AND e.occurrence = r.occurrence"
    )
    added = _count(
        conn,
        f"SELECT count(*) FROM temp.stage_events_resolved r WHERE NOT EXISTS "
        f"(SELECT 1 FROM events e WHERE {key})",
    )
    updated = _count(
        conn,
        f"SELECT count(*) FROM temp.stage_events_resolved r JOIN events e ON {key} "
        "WHERE e.seq != r.seq",
    )
    conn.execute(
        "INSERT INTO events (item, changed_at, kind, status, occurrence, seq, synced) "
        "SELECT item, changed_at, kind, status, occurrence, seq, ? "
        # In read order: PostgreSQL keeps a bulk load's rows in this order, so a read of them
        # needs no sort (SQLite keeps key order anyway).
        "FROM temp.stage_events_resolved WHERE true ORDER BY item, changed_at, seq "
        "ON CONFLICT (item, changed_at, kind, status, occurrence) DO UPDATE SET "
        "seq = excluded.seq, synced = excluded.synced",
        (gen,),
    )
    conn.execute("DROP TABLE temp.stage_events_resolved")
    return added, updated


def _merge_deployments(conn: Any, name: str, gen: int) -> tuple[int, int]:
    added = _count(
        conn,
        "SELECT count(*) FROM temp.stage_deployments s WHERE NOT EXISTS "
        "(SELECT 1 FROM deployments d WHERE d.deploy_id = s.deploy_id)",
    )
    updated = _count(
        conn,
        "SELECT count(*) FROM temp.stage_deployments s JOIN deployments d "
        "ON d.deploy_id = s.deploy_id WHERE s.deployed_at IS NOT d.deployed_at "
        "OR s.environment IS NOT d.environment OR s.status IS NOT d.status "
        "OR s.version IS NOT d.version",
    )
    conn.execute(
        "INSERT INTO deployments (deploy_id, source, deployed_at, environment, status, version, "
        "synced) SELECT deploy_id, ?, deployed_at, environment, status, version, ? "
        "FROM temp.stage_deployments WHERE true ON CONFLICT (deploy_id) DO UPDATE SET "
        "deployed_at = excluded.deployed_at, environment = excluded.environment, "
        "status = excluded.status, version = excluded.version, synced = excluded.synced",
        (name, gen),
    )
    return added, updated


def _merge_pull_requests(conn: Any, name: str, gen: int) -> None:
    conn.execute(
        "INSERT INTO pull_requests (item, created_at, ready_at, first_commit_at, "
        "first_review_at, merged_at, synced) SELECT i.id, s.created_at, s.ready_at, "
        "s.first_commit_at, s.first_review_at, s.merged_at, ? FROM temp.stage_pull_requests s "
        "JOIN items i ON i.item_id = s.item_id AND i.source = ? WHERE true "
        "ON CONFLICT (item) DO UPDATE SET created_at = excluded.created_at, "
        "ready_at = excluded.ready_at, first_commit_at = excluded.first_commit_at, "
        "first_review_at = excluded.first_review_at, merged_at = excluded.merged_at, "
        "synced = excluded.synced",
        (gen, name),
    )


def _merge_shipped(conn: Any, gen: int, path: Location) -> tuple[int, int]:
    orphan = conn.execute(
        "SELECT s.deploy_id FROM temp.stage_shipped s WHERE NOT EXISTS "
        "(SELECT 1 FROM deployments d WHERE d.deploy_id = s.deploy_id) LIMIT 1"
    ).fetchone()
    if orphan is not None:
        raise FlowdeckError(
            f"{path}: shipped items name deployment '{orphan[0]}', which is not in the store"
        )
    added = _count(
        conn,
        "SELECT count(*) FROM temp.stage_shipped s WHERE NOT EXISTS (SELECT 1 FROM shipped x "
        "WHERE x.deploy_id = s.deploy_id AND x.item_id = s.item_id)",
    )
    conn.execute(
        "INSERT INTO shipped (deploy_id, item_id, synced) SELECT deploy_id, item_id, ? "
        "FROM temp.stage_shipped WHERE true ON CONFLICT (deploy_id, item_id) DO UPDATE SET "
        "synced = excluded.synced",
        (gen,),
    )
    return added, 0


def _sweep(conn: Any, name: str, gen: int, replace: set[str]) -> dict[str, int]:
    """Delete this source's rows of the replaced tables that the current write did not see.
    Children first, so that the counts are of rows actually removed."""
    removed = dict.fromkeys(TABLES, 0)
    statements = (
        (
            "shipped",
            "DELETE FROM shipped WHERE synced < ? AND deploy_id IN "
            "(SELECT deploy_id FROM deployments WHERE source = ?)",
        ),
        (
            "events",
            "DELETE FROM events WHERE synced < ? AND item IN "
            "(SELECT id FROM items WHERE source = ?)",
        ),
        ("deployments", "DELETE FROM deployments WHERE synced < ? AND source = ?"),
        ("items", "DELETE FROM items WHERE synced < ? AND source = ?"),
    )
    for table, sql in statements:
        if table in replace:
            removed[table] = conn.execute(sql, (gen, name)).rowcount
    return removed


def _count(conn: Any, sql: str, params: tuple = ()) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def open_store(
    path: Location | str,
    create: bool = True,
    *,
    timeout: float = 5.0,
    purpose: str = "store",
    migrate: bool = True,
) -> Store:
    """Open (and if needed create, then migrate) the store at `path`: an SQLite file, or a
    PostgreSQL database (a `DatabaseUrl` or a `postgresql://` text).

    `create=False` refuses a missing file (for readers: nothing to show yet). A missing
    `.flowdeck` directory (the default location) is created; any other missing directory is an
    error, as is an unwritable one, a file that is not a store, a store from a newer Flowdeck
    and a store locked for longer than `timeout` seconds. `migrate=False` refuses a store of an
    older schema instead of upgrading it (`flowdeck db upgrade` does that explicitly).
    `purpose` names the connection on a PostgreSQL server (`pg_stat_activity`).
    """
    location = as_location(path)
    if isinstance(location, DatabaseUrl):
        return _open_postgres(location, create, timeout, purpose, migrate)
    path = location
    if path.is_dir():
        raise FlowdeckError(
            f"{path} is a directory; the store is a file, e.g. {path / DEFAULT_NAME}"
        )
    if not path.exists():
        if not create:
            raise FlowdeckError(
                f"no Flowdeck store at {path}: run `flowdeck sync` or `flowdeck import` first, "
                "or pass --db PATH"
            )
        _create_file(path)
    elif not os.access(path, os.R_OK | os.W_OK):
        raise FlowdeckError(f"{path}: cannot read and write the store file (permissions)")
    try:
        conn = sqlite3.connect(
            str(path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise _translate(exc, path) from None
    try:
        upgraded_from = _prepare(conn, path, migrate)
    except sqlite3.Error as exc:
        conn.close()
        raise _translate(exc, path) from None
    except BaseException:
        conn.close()
        raise
    store = Store(conn, SqliteEngine(path, lambda: _READ_BATCH_ITEMS))
    store.upgraded_from = upgraded_from
    return store


def _create_file(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        if parent.exists():
            raise FlowdeckError(f"cannot create the store {path}: {parent} is not a directory")
        if parent.name != DEFAULT_DIR or not parent.parent.is_dir():
            raise FlowdeckError(
                f"cannot create the store {path}: directory {parent} does not exist "
                "(create it, or pass --db PATH)"
            )
        try:
            parent.mkdir()
            # Local data, never to be committed, whatever the project's own .gitignore says.
            (parent / ".gitignore").write_text("# Flowdeck's local store\n*\n", encoding="utf-8")
        except OSError as exc:
            raise FlowdeckError(f"cannot create directory {parent}: {exc.strerror}") from None
    try:
        # An empty file is a valid empty SQLite database; creating it here gives a clear
        # message for an unwritable directory (SQLite's own is only "unable to open").
        with open(path, "xb"):
            pass
    except FileExistsError:
        pass
    except OSError as exc:
        raise FlowdeckError(
            f"cannot create the store {path}: directory {parent} is not writable "
            f"({exc.strerror}); pass --db PATH elsewhere"
        ) from None


def _prepare(conn: Any, path: Path, allow_migrate: bool = True) -> int | None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _newer_store(path, version)
    if version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise FlowdeckError(
                f"{path}: an SQLite database but not a Flowdeck store; {_fresh_hint(path)}"
            )
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise FlowdeckError(f"{path}: cannot switch the store to WAL mode (got {mode})")
    conn.execute("PRAGMA foreign_keys = ON")
    # NORMAL in WAL mode: a crash of the process never loses a commit; only a power cut can
    # lose the last one, and it never corrupts the file.
    conn.execute("PRAGMA synchronous = NORMAL")
    if version < SCHEMA_VERSION:
        if not allow_migrate and version > 0:
            raise _older_store(path, version)
        migrate(conn, SCHEMA_VERSION)
        return version
    return None


def _older_store(location: Location, version: int) -> FlowdeckError:
    return FlowdeckError(
        f"{location}: the store has schema version {version}, this Flowdeck needs "
        f"{SCHEMA_VERSION}; run `flowdeck db upgrade` first"
    )


def _newer_store(location: Location, version: int) -> FlowdeckError:
    return FlowdeckError(
        f"{location}: the store was written by a newer Flowdeck (schema version {version}; this "
        f"one knows up to {SCHEMA_VERSION}); upgrade Flowdeck, or {_fresh_hint(location)}"
    )


# ---- PostgreSQL -------------------------------------------------------------------------

#: Serialises migrations of one database between processes (a transaction-level advisory lock).
_MIGRATION_LOCK = "flowdeck-migrate"
#: The sequence of write generations on PostgreSQL (see `_bump_version`).
_GENERATIONS = "flowdeck_generation"
#: How long a PostgreSQL write waits for a row another writer holds (a status both insert, the
#: data version at commit) before it fails with a message instead of hanging.
PG_LOCK_TIMEOUT = "120s"


def _postgres_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return ()
    return (psycopg.Error,)


def _translate_postgres(exc: BaseException, url: DatabaseUrl) -> FlowdeckError:
    """A PostgreSQL failure as one line naming the server and database, never the password."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if url.password:
        text = text.replace(url.password, "***")
    return FlowdeckError(f"{url}: store error: {text}")


def _open_postgres(
    url: DatabaseUrl, create: bool, timeout: float, purpose: str, allow_migrate: bool
) -> Store:
    import psycopg

    where = f"the PostgreSQL store on {url.host}:{url.port}, database '{url.database}'"
    try:
        raw = psycopg.connect(
            autocommit=True,
            connect_timeout=max(2, int(timeout)),
            application_name=application_name(purpose),
            **url.connect_args(),
        )
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        if url.password:
            reason = reason.replace(url.password, "***")
        raise FlowdeckError(f"cannot connect to {where}: {reason}") from None
    conn = PostgresConnection(raw)
    engine = PostgresEngine(url)
    try:
        upgraded_from = _prepare_postgres(conn, engine, create, allow_migrate)
    except psycopg.Error as exc:
        conn.close()
        raise _translate_postgres(exc, url) from None
    except BaseException:
        conn.close()
        raise
    store = Store(conn, engine)
    store.upgraded_from = upgraded_from
    return store


def _prepare_postgres(
    conn: PostgresConnection, engine: PostgresEngine, create: bool, allow_migrate: bool
) -> int | None:
    url = engine.location
    conn.execute(f"SET lock_timeout = '{PG_LOCK_TIMEOUT}'")
    version = engine.schema_version(conn)
    ready = conn.execute(f"SELECT to_regclass('{_GENERATIONS}') IS NOT NULL").fetchone()[0]
    if version == SCHEMA_VERSION and ready:
        return None
    if version > SCHEMA_VERSION:
        raise _newer_store(url, version)
    if version == 0 and not create:
        raise FlowdeckError(
            f"no Flowdeck store in {url}: run `flowdeck db upgrade`, `flowdeck sync` or "
            "`flowdeck import` first"
        )
    if version > 0 and not allow_migrate:
        raise _older_store(url, version)
    conn.execute("BEGIN")
    try:
        # Another process may be migrating the same database: wait for it, then re-read.
        conn.raw.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_MIGRATION_LOCK,))
        version = engine.schema_version(conn)
        if version == 0:
            others = conn.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchone()[0]
            if others:
                raise FlowdeckError(
                    f"{url}: the database holds other tables but no Flowdeck store; use an "
                    "empty database for Flowdeck"
                )
            conn.execute("CREATE TABLE flowdeck_schema (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO flowdeck_schema (version) VALUES (0)")
        if version > SCHEMA_VERSION:
            raise _newer_store(url, version)
        upgraded_from = version if version < SCHEMA_VERSION else None
        for number in range(version, SCHEMA_VERSION):
            MIGRATIONS[number](conn)
        conn.execute("UPDATE flowdeck_schema SET version = ?", (SCHEMA_VERSION,))
        conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {_GENERATIONS}")
        # Above every generation already written (rows carry the data version before this).
        conn.execute(
            f"SELECT setval('{_GENERATIONS}', greatest((SELECT last_value FROM {_GENERATIONS}), "
            "(SELECT value FROM meta WHERE key = 'data_version') + 1))"
        )
    except BaseException:
        rollback(conn)
        raise
    conn.execute("COMMIT")
    return upgraded_from


__all__ = [
    "Store",
    "SourceBusy",
    "SourceWriter",
    "WriteCounts",
    "TableCounts",
    "open_store",
    "resolve_db_path",
    "store_exists",
    "SCHEMA_VERSION",
    "MIGRATIONS",
]
