"""The store's two database engines: SQLite (one local file, the default) and PostgreSQL (a
server that several machines share).

Both run the same schema, the same ordered migrations and the same merge statements, written once
in SQLite's dialect; `postgres_sql` rewrites the few spellings PostgreSQL needs (placeholders,
the temp schema, `INSERT OR IGNORE`, `IS NOT` between values, 64-bit integers, identity keys,
byte-wise text collation so that ordering and uniqueness match SQLite's). What differs by engine
lives here: connecting, the schema version, transactions, bulk staging, the bulk read of the
events and the per-source lock.

Why not SQLAlchemy's Core for the statements: the hot paths are engine-specific bulk operations
(SQLite's `group_concat` scan, PostgreSQL's binary COPY in both directions) and explicit
transaction control (`BEGIN IMMEDIATE`), which Core would wrap and then have to bypass; the
schema is a dozen plain tables. The database URL is parsed and shown without its password by
`DatabaseUrl`, with the standard library.
"""

from __future__ import annotations

import abc
import functools
import io
import os
import re
import socket
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from connectors.store_schema import EVENT_PACK_SHIFT
from metrics.errors import FlowdeckError

# numpy and pandas only inside the bulk staging and reading below: opening a store to read its
# sources table (`flowdeck status`) must not import them.
if TYPE_CHECKING:
    import numpy as np

URL_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_database_url(text: str) -> bool:
    return bool(re.match(r"^(postgresql|postgres)(\+psycopg)?://", text.strip()))


class _UrlParts(NamedTuple):
    scheme: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: tuple[tuple[str, str], ...]


def _parse_url(text: str) -> _UrlParts:
    """The parts of a `postgresql://USER:PASSWORD@HOST:PORT/DATABASE?KEY=VALUE` URL, decoded.

    The standard library's `urlsplit` rather than SQLAlchemy's `make_url`: importing SQLAlchemy
    took 0.17 s of every command given a PostgreSQL store (`flowdeck status` among them).
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port  # a port that is not a number raises here
    except ValueError:
        raise FlowdeckError("the database URL is not valid (postgresql://USER@HOST/DB)") from None
    if parts.scheme not in URL_SCHEMES:
        raise FlowdeckError(
            f"database URL scheme '{parts.scheme}' is not supported; use postgresql://"
        )
    return _UrlParts(
        scheme=parts.scheme,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        host=parts.hostname or None,
        port=port,
        database=unquote(parts.path[1:]) or None,
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
    )


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL store's URL. `str()` and `repr()` never show the password."""

    url: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self._parsed.database:
            raise FlowdeckError(f"the database URL {self} names no database")

    @property
    def _parsed(self) -> _UrlParts:
        return _parse_url(self.url)

    @property
    def host(self) -> str:
        return self._parsed.host or "localhost"

    @property
    def port(self) -> int:
        return self._parsed.port or 5432

    @property
    def database(self) -> str:
        return str(self._parsed.database)

    @property
    def password(self) -> str | None:
        return self._parsed.password

    def connect_args(self) -> dict[str, Any]:
        parsed = self._parsed
        args: dict[str, Any] = {"dbname": parsed.database}
        for key, value in (("host", parsed.host), ("port", parsed.port), ("user", parsed.username),
                           ("password", parsed.password)):  # fmt: skip
            if value is not None:
                args[key] = value
        args.update(parsed.query)  # libpq options (sslmode, a socket folder as host...)
        return args

    def __str__(self) -> str:
        """The URL without its password, as `postgresql://USER@HOST:PORT/DATABASE?QUERY`."""
        parsed = self._parsed
        user = f"{quote(parsed.username, safe='')}@" if parsed.username else ""
        host = parsed.host or ""
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        port = f":{parsed.port}" if parsed.port is not None else ""
        database = quote(parsed.database or "", safe="/")
        query = f"?{urlencode(parsed.query)}" if parsed.query else ""
        return f"postgresql://{user}{host}{port}/{database}{query}"

    def __repr__(self) -> str:
        return f"DatabaseUrl({str(self)!r})"


# ---- SQL in PostgreSQL's spelling ----------------------------------------------------------


@functools.lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """A statement of the store, written for SQLite, as PostgreSQL needs it."""
    out = sql.replace("?", "%s")
    out = re.sub(r"\btemp\.", "pg_temp.", out)
    out = out.replace("BEGIN IMMEDIATE", "BEGIN")
    out = re.sub(r"\)\s*WITHOUT ROWID", ")", out)
    out = re.sub(r"\bIS NOT (?!NULL\b)", "IS DISTINCT FROM ", out)
    if re.search(r"\bCREATE\b", out):
        # SQLite's `id INTEGER PRIMARY KEY` numbers new rows itself; a key that refers to
        # another table's id (`item INTEGER PRIMARY KEY REFERENCES ...`) does not.
        out = re.sub(
            r"\bid INTEGER PRIMARY KEY\b",
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            out,
        )
        out = re.sub(r"\bINTEGER\b", "BIGINT", out)
        out = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', out)
    if "INSERT OR IGNORE INTO" in out:
        out = out.replace("INSERT OR IGNORE INTO", "INSERT INTO") + " ON CONFLICT DO NOTHING"
    return out


class PostgresConnection:
    """A psycopg connection in autocommit mode (transactions are begun and ended explicitly,
    as on SQLite) that speaks the store's SQLite-dialect statements."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cursor = self.raw.cursor()
        cursor.execute(postgres_sql(sql), tuple(params) or None)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cursor = self.raw.cursor()
        batch = [tuple(r) for r in rows]
        if batch:
            cursor.executemany(postgres_sql(sql), batch)
        return cursor

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


# ---- staging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageTable:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    integers: tuple[str, ...] = ()
    replace: bool = True
    """A later row with the same key replaces the earlier one (else the earlier one stays)."""


STAGE_TABLES = {
    t.name: t
    for t in (
        StageTable(
            "stage_items", ("item_id", "title", "type", "labels", "url", "lines_changed"),
            ("item_id",), ("lines_changed",),
        ),
        StageTable(
            "stage_events", ("item_id", "changed_at", "kind", "status", "occurrence", "seq"),
            ("item_id", "changed_at", "kind", "status", "occurrence"),
            ("changed_at", "kind", "occurrence", "seq"),
        ),
        StageTable(
            "stage_deployments", ("deploy_id", "deployed_at", "environment", "status", "version"),
            ("deploy_id",), ("deployed_at",),
        ),
        StageTable("stage_shipped", ("deploy_id", "item_id"), ("deploy_id", "item_id"),
                   replace=False),
        StageTable(
            "stage_pull_requests",
            ("item_id", "created_at", "ready_at", "first_commit_at", "first_review_at",
             "merged_at"),
            ("item_id",),
            ("created_at", "ready_at", "first_commit_at", "first_review_at", "merged_at"),
        ),
    )
}  # fmt: skip


#: The items' text columns, each read as one text per batch (see `ItemColumns`).
ITEM_TEXT_COLUMNS = ("item_id", "title", "type", "labels", "url", "source")


class Engine(abc.ABC):
    """What differs between the engines (SQLite, PostgreSQL): each implements every method.
    One instance per open store."""

    name = ""
    location: Path | DatabaseUrl

    @abc.abstractmethod
    def schema_version(self, conn: Any) -> int:
        """The store's schema version (0 for a new, empty store)."""

    @abc.abstractmethod
    def begin_read(self) -> str:
        """The statement that opens a consistent read snapshot."""

    @abc.abstractmethod
    def begin_write(self) -> str:
        """The statement that opens a write transaction holding the write lock."""

    @abc.abstractmethod
    def stage(self, conn: Any, table: StageTable, rows: Iterable[Sequence[Any]]) -> None:
        """Load `rows` into the temporary staging table `table` (bulk, no row-by-row SQL)."""

    @abc.abstractmethod
    def event_columns(
        self, conn: Any, item_refs: np.ndarray, sources: Sequence[str] | None
    ) -> tuple[np.ndarray, ...]:
        """The events of the items `item_refs` (of `sources`, or all) as column arrays."""

    @abc.abstractmethod
    def refresh_event_packs(self, conn: Any) -> None:
        """Bring what the engine keeps beside the events table up to date, inside the write
        transaction that changed events (before it commits)."""

    @abc.abstractmethod
    def item_columns(
        self, conn: Any, sources: Sequence[str] | None, texts: Sequence[str] = ITEM_TEXT_COLUMNS
    ) -> ItemColumns:
        """The items (of `sources`, or all) as column arrays, in any order; of the text
        columns only `texts`."""


@dataclass
class ItemColumns:
    """The items table as arrays, aligned row for row: no Python object per item.

    A text column is its values' UTF-8 bytes end to end plus each value's length in bytes,
    which is exactly an Arrow string array's data and offsets."""

    ids: np.ndarray
    lines_changed: np.ndarray
    """int64; 0 where `lines_missing`."""
    lines_missing: np.ndarray
    texts: dict[str, tuple[np.ndarray, bytes]]
    """Column -> (byte length of each value, the values' bytes concatenated)."""

    @classmethod
    def concatenate(cls, batches: list[ItemColumns], texts: Sequence[str]) -> ItemColumns:
        import numpy as np

        def ints(arrays: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)

        return cls(
            ids=ints([b.ids for b in batches]),
            lines_changed=ints([b.lines_changed for b in batches]),
            lines_missing=ints([b.lines_missing for b in batches]).astype(bool),
            texts={
                c: (ints([b.texts[c][0] for b in batches]),
                    b"".join(b.texts[c][1] for b in batches))
                for c in texts
            },
        )  # fmt: skip


def _item_batches(low: int | None, high: int | None, size: int) -> Iterable[tuple[int, int]]:
    """Ranges of item ids [start, end] of `size` ids each, covering [low, high]."""
    if low is None or high is None:
        return
    for start in range(low, high + 1, size):
        yield start, min(start + size - 1, high)


#: Items per batch when reading events from SQLite (see `SqliteEngine.event_columns`).
READ_BATCH_ITEMS = 10_000


class SqliteEngine(Engine):
    name = "sqlite"

    def __init__(self, path: Path, batch_items: Callable[[], int]) -> None:
        self.location = path
        self._batch_items = batch_items

    def schema_version(self, conn: sqlite3.Connection) -> int:
        return conn.execute("PRAGMA user_version").fetchone()[0]

    def begin_read(self) -> str:
        return "BEGIN"

    def begin_write(self) -> str:
        return "BEGIN IMMEDIATE"

    def stage(
        self, conn: sqlite3.Connection, table: StageTable, rows: Iterable[Sequence[Any]]
    ) -> None:
        verb = "INSERT OR REPLACE" if table.replace else "INSERT OR IGNORE"
        marks = ",".join("?" * len(table.columns))
        conn.executemany(f"{verb} INTO temp.{table.name} VALUES ({marks})", rows)

    def event_columns(
        self, conn: sqlite3.Connection, item_refs: np.ndarray, sources: Sequence[str] | None
    ) -> tuple[np.ndarray, ...]:
        """The events' item, changed_at, kind, status and seq as integer arrays, part by part
        (`EVENT_PACK_SHIFT`): a part's pack when it has one (bytes into arrays: no value is
        converted), else a scan of its events (`_scan_events`)."""
        import numpy as np

        refs = np.sort(item_refs.astype(np.int64))
        # Every pack is decoded straight into its place in the result, and each one's bytes
        # are let go before the next is fetched: a fresh process pays the kernel for every
        # new page it touches (at a million items, 150 MB of packs held at once was 0.1 to
        # 1 s of it). So first the sizes (SQLite knows a blob's length without reading it),
        # and the scanned columns of any part without a pack.
        sizes = dict(
            conn.execute(
                "SELECT part, length(data) FROM event_packs WHERE typeof(data) = 'blob'"
            ).fetchall()
        )
        plan: list[tuple[int, int, list[np.ndarray] | None]] = []
        for part in np.unique(refs >> EVENT_PACK_SHIFT).tolist():
            n = _pack_length(sizes.get(part))
            if n is None:
                part_columns = self._scan_events(conn, part)
                plan.append((part, len(part_columns[0]), part_columns))
            else:
                plan.append((part, n, None))
        # Kinds and status ids in narrower integers: at six million events, 70 MB less.
        statuses = int(conn.execute("SELECT max(id) FROM statuses").fetchone()[0] or 0)
        dtypes = (np.int64, np.int64, np.int8, np.int32 if statuses < 2**31 else np.int64,
                  np.int64)  # fmt: skip
        columns = [np.empty(sum(n for _, n, _ in plan), dtype=dtype) for dtype in dtypes]
        at = 0
        for part, n, scanned in plan:
            place = [c[at : at + n] for c in columns]
            if scanned is None:
                data = conn.execute(
                    "SELECT data FROM event_packs WHERE part = ?", (part,)
                ).fetchone()[0]
                _unpack_into(part, data, place)
                del data
            else:
                for column, values in zip(place, scanned, strict=True):
                    column[:] = values
            at += n
        if sources is not None and len(columns[0]):
            # Reading some sources: a part may hold other sources' items too. Dropping them
            # here is faster than a per-row `IN (subquery)` in SQLite.
            wanted = np.zeros(int(max(refs.max(), columns[0].max())) + 1, dtype=bool)
            wanted[refs] = True
            keep = wanted[columns[0]]
            columns = [c[keep] for c in columns]
        return tuple(columns)

    def refresh_event_packs(self, conn: sqlite3.Connection) -> None:
        """Pack the events of every part that has items but no pack (the triggers of
        migration 6 dropped the packs whose events this write changed)."""
        packed = {r[0] for r in conn.execute("SELECT part FROM event_packs")}
        for (part,) in conn.execute(
            f"SELECT DISTINCT id >> {EVENT_PACK_SHIFT} FROM items"
        ).fetchall():
            if part not in packed:
                data = _pack_events(part, self._scan_events(conn, part))
                if data is not None:
                    conn.execute("INSERT INTO event_packs (part, data) VALUES (?, ?)", (part, data))

    @staticmethod
    def _scan_events(conn: sqlite3.Connection, part: int) -> list[np.ndarray]:
        """The events of one part read from the table, in key order.

        Each column comes back as ONE text of comma-separated integers (group_concat), parsed
        by numpy: about twice as fast as a row tuple per event, and no Python object per
        value. Every aggregate of one query sees the rows in the same order, so the columns
        stay aligned. Item, status and kind travel as one integer (item, then status id, then
        the 2-bit kind): each aggregated column costs SQLite a text conversion per row.
        """
        import numpy as np

        low, high = part << EVENT_PACK_SHIFT, ((part + 1) << EVENT_PACK_SHIFT) - 1
        status_bits = int(conn.execute("SELECT max(id) FROM statuses").fetchone()[0] or 0)
        status_bits = status_bits.bit_length()
        if high.bit_length() + status_bits + 2 < 63:
            query = (
                f"SELECT group_concat((item << {status_bits + 2}) | (status << 2) | kind), "
                "group_concat(changed_at), group_concat(seq) FROM events "
                "WHERE item BETWEEN ? AND ?"
            )
        else:  # ids too large to share an integer with the status: one column each
            query = (
                "SELECT group_concat(item), group_concat(changed_at), group_concat(kind), "
                "group_concat(status), group_concat(seq) FROM events WHERE item BETWEEN ? AND ?"
            )
        row = conn.execute(query, (low, high)).fetchone()
        if row[0] is None:
            return [np.empty(0, dtype=np.int64) for _ in range(_EVENT_COLUMNS)]
        columns = [np.fromstring(text, dtype=np.int64, sep=",") for text in row]
        if len(columns) == _EVENT_COLUMNS:
            return columns
        key, changed, seq = columns
        status_mask = (1 << status_bits) - 1
        return [key >> (status_bits + 2), changed, key & 3, (key >> 2) & status_mask, seq]

    def item_columns(
        self,
        conn: sqlite3.Connection,
        sources: Sequence[str] | None,
        texts: Sequence[str] = ITEM_TEXT_COLUMNS,
    ) -> ItemColumns:
        """Each column of a batch of items as ONE text: the integers comma-separated (parsed
        by numpy), the texts joined by the unit separator (U+001F, a byte that UTF-8 uses for
        that character only) and cut apart by numpy. A batch where some text holds that
        character is read again with each text's length in bytes beside the texts, so that
        any text comes back intact. A fetched row per item costs a tuple and eight objects:
        at a million items, most of the read."""
        import numpy as np

        def query(text_sql: str) -> str:
            sql = (
                "SELECT group_concat(id), group_concat(lines_changed IS NULL), "
                f"group_concat(ifnull(lines_changed, 0)), {text_sql} FROM items "
                "WHERE id BETWEEN ? AND ?"
            )
            if sources is not None:
                # `+source`: the id range, not the source index, drives each batch's scan.
                sql += f" AND +source IN ({','.join('?' * len(sources))})"
            return sql

        joined = query(
            ", ".join(
                f"CAST(group_concat(ifnull({c}, ''), '{_UNIT_SEPARATOR}') AS BLOB)" for c in texts
            )
        )
        with_lengths = query(", ".join(
            f"group_concat(length(CAST(ifnull({c}, '') AS BLOB))), "
            f"CAST(group_concat(ifnull({c}, ''), '') AS BLOB)"
            for c in texts
        ))  # fmt: skip
        params = tuple(sources or ())
        low, high = conn.execute("SELECT min(id), max(id) FROM items").fetchone()
        batches = []
        for start, end in _item_batches(low, high, self._batch_items()):
            row = conn.execute(joined, (start, end, *params)).fetchone()
            if row[0] is None:
                continue
            ints = [np.fromstring(text, dtype=np.int64, sep=",") for text in row[:3]]
            cut = [_cut(data or b"", len(ints[0])) for data in row[3:]]
            pieces = [c for c in cut if c is not None]
            if len(pieces) < len(cut):
                again = conn.execute(with_lengths, (start, end, *params)).fetchone()
                pieces = [
                    (np.fromstring(again[3 + 2 * i], dtype=np.int64, sep=","),
                     again[4 + 2 * i] or b"")
                    for i in range(len(texts))
                ]  # fmt: skip
            batches.append(
                ItemColumns(
                    ids=ints[0],
                    lines_changed=ints[2],
                    lines_missing=ints[1].astype(bool),
                    texts=dict(zip(texts, pieces, strict=True)),
                )
            )
        return ItemColumns.concatenate(batches, texts)


#: Joins the texts of an item column in one read (see `SqliteEngine.item_columns`).
_UNIT_SEPARATOR = "\x1f"


def _cut(data: bytes, n: int) -> tuple[np.ndarray, bytes] | None:
    """`n` texts joined by the unit separator as (each one's length in bytes, the texts end
    to end); None when the separator count is not n - 1 (a text holds one)."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    marks = np.flatnonzero(raw == ord(_UNIT_SEPARATOR))
    if len(marks) != n - 1:
        return None
    bounds = np.concatenate(([-1], marks, [len(raw)]))
    return np.diff(bounds) - 1, raw[raw != ord(_UNIT_SEPARATOR)].tobytes()


_EVENT_COLUMNS = 5
#: A pack's columns, each little-endian and end to end: 23 bytes an event. The item is its
#: offset in the part, the status its id in `statuses`.
_PACK_LAYOUT = (("changed_at", "<i8"), ("seq", "<i8"), ("status", "<i4"), ("item", "<u2"),
                ("kind", "<u1"))  # fmt: skip


def _pack_events(part: int, columns: list[np.ndarray]) -> bytes | None:
    """One part's events (item, changed_at, kind, status, seq) as a pack; None when a value
    does not fit its column (the part is then always scanned)."""
    import numpy as np

    item, changed, kind, status, seq = columns
    values = {
        "changed_at": changed, "seq": seq, "status": status,
        "item": item - (part << EVENT_PACK_SHIFT), "kind": kind,
    }  # fmt: skip
    out = []
    for name, dtype in _PACK_LAYOUT:
        limits = np.iinfo(np.dtype(dtype))
        column = values[name]
        if len(column) and (column.min() < limits.min or column.max() > limits.max):
            return None
        out.append(column.astype(dtype).tobytes())
    return b"".join(out)


def _pack_length(size: int | None) -> int | None:
    """How many events a pack of `size` bytes holds; None for no pack or one of the wrong
    size (its part is then scanned)."""
    import numpy as np

    event = sum(np.dtype(dtype).itemsize for _, dtype in _PACK_LAYOUT)
    if not isinstance(size, int) or size % event:
        return None
    return size // event


def _unpack_into(part: int, data: bytes, out: list[np.ndarray]) -> None:
    """Decode a pack into `out`, int64 arrays of its length: item, changed_at, kind, status,
    seq."""
    import numpy as np

    n, offset = len(out[0]), 0
    place = dict(zip(("item", "changed_at", "kind", "status", "seq"), out, strict=True))
    for name, dtype in _PACK_LAYOUT:
        place[name][:] = np.frombuffer(data, dtype=dtype, count=n, offset=offset)
        offset += n * np.dtype(dtype).itemsize
    place["item"] += part << EVENT_PACK_SHIFT


def _unpack_events(part: int, data: bytes) -> list[np.ndarray] | None:
    """A pack's columns as int64 arrays in the order item, changed_at, kind, status, seq;
    None for a pack of the wrong size."""
    import numpy as np

    n = _pack_length(len(data)) if isinstance(data, bytes) else None
    if n is None:
        return None
    out = [np.empty(n, dtype=np.int64) for _ in range(_EVENT_COLUMNS)]
    _unpack_into(part, data, out)
    return out


#: Items per batch when reading events from PostgreSQL: about 20 MB per batch at 20 events an
#: item, 40 bytes an event.
PG_READ_BATCH_ITEMS = 25_000


class PostgresEngine(Engine):
    name = "postgresql"

    def __init__(self, url: DatabaseUrl) -> None:
        self.location = url

    def schema_version(self, conn: PostgresConnection) -> int:
        row = conn.execute("SELECT to_regclass('flowdeck_schema') IS NOT NULL").fetchone()
        if not row[0]:
            return 0
        return int(conn.execute("SELECT version FROM flowdeck_schema").fetchone()[0])

    def begin_read(self) -> str:
        # One snapshot for every select of the read, as SQLite's read transaction gives.
        return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def begin_write(self) -> str:
        return "BEGIN"

    def stage(self, conn: PostgresConnection, table: StageTable, rows: Iterable) -> None:
        """COPY the rows into a scratch table, then into the staging table keeping one row per
        key (the last, or the first for an insert-if-absent table), as SQLite's `INSERT OR
        REPLACE` / `INSERT OR IGNORE` do."""
        import numpy as np
        import pandas as pd

        frame = pd.DataFrame.from_records(list(rows), columns=list(table.columns))
        if frame.empty:
            return
        for column in table.integers:
            frame[column] = pd.array(frame[column].astype(object).where(frame[column].notna()),
                                     dtype="Int64")  # fmt: skip
        frame["ord"] = np.arange(len(frame), dtype=np.int64)
        scratch = f"load_{table.name}"
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {scratch} AS SELECT *, 0::bigint AS ord "
            f"FROM pg_temp.{table.name} WITH NO DATA"
        )
        conn.execute(f"TRUNCATE pg_temp.{scratch}")
        texts = [c for c in table.columns if c not in table.integers]
        buffer = io.StringIO()
        frame.to_csv(buffer, header=False, index=False)
        cols = ", ".join([*table.columns, "ord"])
        cursor = conn.raw.cursor()
        with cursor.copy(
            f"COPY pg_temp.{scratch} ({cols}) FROM STDIN (FORMAT csv, "
            f"FORCE_NOT_NULL ({', '.join(texts)}))"
        ) as copy:
            copy.write(buffer.getvalue())
        key = ", ".join(table.key)
        order = "DESC" if table.replace else "ASC"
        rest = [c for c in table.columns if c not in table.key]
        action = (
            "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in rest)
            if table.replace and rest
            else "DO NOTHING"
        )
        conn.raw.execute(
            f"INSERT INTO pg_temp.{table.name} ({', '.join(table.columns)}) "
            f"SELECT DISTINCT ON ({key}) {', '.join(table.columns)} FROM pg_temp.{scratch} "
            f"ORDER BY {key}, ord {order} ON CONFLICT ({key}) {action}"
        )
        conn.execute(f"TRUNCATE pg_temp.{scratch}")

    def event_columns(
        self, conn: PostgresConnection, item_refs: np.ndarray, sources: Sequence[str] | None
    ) -> tuple[np.ndarray, ...]:
        """The events' item, changed_at, kind, status and seq as int64 arrays.

        Each column of a batch of items comes back as ONE `bigint[]` in PostgreSQL's binary
        format, handed over as bytes and read by numpy as fixed-size (length, value) records:
        no Python object per event (a COPY would give one bytes object per row). Every
        aggregate of one query sees the rows in the same order, so the columns stay aligned;
        batches keep each array far below PostgreSQL's 1 GB limit.
        """
        import numpy as np

        refs = np.sort(item_refs.astype(np.int64))
        query = (
            "SELECT array_agg(item), array_agg(changed_at), array_agg(kind), array_agg(status), "
            "array_agg(seq) FROM events WHERE item BETWEEN %s AND %s"
        )
        if sources is not None:
            query += " AND item IN (SELECT id FROM items WHERE source = ANY(%s))"
        cursor = conn.raw.cursor(binary=True)
        cursor.adapters.register_loader(_INT8_ARRAY_OID, _raw_binary_loader())
        parts: list[list[np.ndarray]] = [[] for _ in range(_EVENT_COLUMNS)]
        for start in range(0, len(refs), PG_READ_BATCH_ITEMS):
            low, high = int(refs[start]), int(refs[min(start + PG_READ_BATCH_ITEMS, len(refs)) - 1])
            params: tuple = (low, high) if sources is None else (low, high, list(sources))
            row = cursor.execute(query, params).fetchone()
            if row[0] is None:
                continue
            for column, value in zip(parts, row, strict=True):
                column.append(_int8_array(value, self.location))
        return tuple(np.concatenate(c) if c else np.empty(0, dtype=np.int64) for c in parts)

    def refresh_event_packs(self, conn: PostgresConnection) -> None:
        """Nothing: PostgreSQL's read is already binary (`event_columns`), so it keeps no
        packs (migration 6 adds none there)."""

    def item_columns(
        self,
        conn: PostgresConnection,
        sources: Sequence[str] | None,
        texts: Sequence[str] = ITEM_TEXT_COLUMNS,
    ) -> ItemColumns:
        """As on SQLite, each column of a batch as one value: the integers as a `bigint[]` in
        binary (see `event_columns`), the texts concatenated as UTF-8 bytes beside a
        `bigint[]` of their byte lengths."""

        text_sql = ", ".join(
            f"array_agg(octet_length(coalesce({c}, ''))::bigint), "
            f"convert_to(string_agg(coalesce({c}, ''), ''), 'UTF8')"
            for c in texts
        )
        query = (
            "SELECT array_agg(id), array_agg((lines_changed IS NULL)::int::bigint), "
            f"array_agg(coalesce(lines_changed, 0)), {text_sql} FROM items "
            "WHERE id BETWEEN %s AND %s"
        )
        if sources is not None:
            query += " AND source = ANY(%s)"
        low, high = conn.execute("SELECT min(id), max(id) FROM items").fetchone()
        cursor = conn.raw.cursor(binary=True)
        cursor.adapters.register_loader(_INT8_ARRAY_OID, _raw_binary_loader())
        batches = []
        for start, end in _item_batches(low, high, PG_READ_BATCH_ITEMS):
            params: tuple = (start, end) if sources is None else (start, end, list(sources))
            row = cursor.execute(query, params).fetchone()
            if row[0] is None:
                continue
            ints = [_int8_array(value, self.location) for value in row[:3]]
            batches.append(
                ItemColumns(
                    ids=ints[0],
                    lines_changed=ints[2],
                    lines_missing=ints[1].astype(bool),
                    texts={
                        c: (_int8_array(row[3 + 2 * i], self.location), bytes(row[4 + 2 * i]))
                        for i, c in enumerate(texts)
                    },
                )
            )
        return ItemColumns.concatenate(batches, texts)


def _int8_array(data: bytes, where: object) -> np.ndarray:
    """A one-dimensional `bigint[]` without nulls, from PostgreSQL's binary array format: a
    20-byte header (dimensions, null flag, element type, length, lower bound), then a 4-byte
    length and 8 bytes for each element, all big-endian."""
    import numpy as np

    ndim, has_null = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    if ndim != 1 or has_null:
        raise FlowdeckError(f"{where}: unexpected event data from the server")
    elements = np.frombuffer(data, dtype=np.dtype([("len", ">i4"), ("v", ">i8")]), offset=20)
    return elements["v"].astype(np.int64)


#: PostgreSQL's type id of `bigint[]`.
_INT8_ARRAY_OID = 1016


@functools.cache
def _raw_binary_loader() -> type:
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    class RawBinary(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> bytes:
            return bytes(data)

    return RawBinary


def application_name(purpose: str) -> str:
    """How a connection shows in `pg_stat_activity` (and in a 'busy' message): the command,
    the machine and the process."""
    return f"flowdeck {purpose} pid {os.getpid()} on {socket.gethostname()}"[:63]
