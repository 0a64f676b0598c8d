"""`flowdeck sync` and `flowdeck import`: sources into the store, one transaction per source.

For each source: read its cursor, build its client, let the connector fetch from the cursor
(a closed range: the boundary is fetched again and deduplicated by key in the store), stage every
chunk, then write them and advance the cursor in one transaction. A long fetch commits a
checkpoint every `checkpoint_every` chunks: the rows so far and the cursor of the last chunk,
which the connector sets to a safe point (everything before it is read), so a sync that dies
keeps its checkpoints and the next one resumes from there. A source that fails is recorded
(`last_result = failed`, `last_error`) with its data and cursor as of its last checkpoint (the
previous sync's when there was none), and the next source still syncs.

Only one sync or import writes to an SQLite store at a time: a lock file beside the store
(`flowdeck.db.lock`, held with `filelock`: an OS file lock, so a killed process never leaves it
locked). A second one waits a few seconds, then stops with a clear message. On PostgreSQL, where
several machines share the store, the lock is per source (an advisory lock, released by the
server when its holder's connection ends): two syncs of different sources run side by side, and
a source that another sync holds for longer than the wait is skipped with a message naming the
holder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout

from connectors.base import Chunk, NoProgress, Progress
from connectors.config import Config, SourceConfig
from connectors.csv_files import sniff_csv_kind
from connectors.csv_source import CsvSettings, read_file
from connectors.kinds import source_kind
from connectors.portfolio import Portfolio, sync_plan
from connectors.secrets import load_secrets, printable, remember_configured_secrets
from connectors.store import TABLES, Location, SourceBusy, Store, WriteCounts, open_store
from metrics.errors import ConfigError, FlowdeckError, InputError

#: Kinds whose fetch always returns the source's whole data (files): every sync that fetched
#: something replaces the source's rows. Other kinds replace only on a full sync.
SNAPSHOT_KINDS = frozenset({"csv"})
#: Which tables a file of each CSV kind is the whole truth for, on `flowdeck import`.
IMPORT_TABLES = {
    "events": ("items", "events"),
    "stage_dates": ("items", "events"),
    "deployments": ("deployments", "shipped"),
}
LOCK_WAIT = 3.0
#: Chunks between checkpoints: a GitHub chunk is one page (100 items), a Jira one up to 1,000
#: issues, so a stopped first sync loses at most a few minutes of fetching.
CHECKPOINT_EVERY = 10


@dataclass(frozen=True)
class SourceResult:
    name: str
    kind: str
    ok: bool
    duration: float
    counts: WriteCounts | None = None
    error: str | None = None
    chunks: int = 0
    rows: int = 0
    """Rows fetched: items + events + deployments over all chunks."""

    def line(self) -> str:
        """The final line of a source: what changed and how long it took."""
        took = f"{self.duration:.1f} s"
        if not self.ok:
            return f"{self.name}: failed after {took}: {self.error}"
        if self.counts is None or self.chunks == 0:
            return f"{self.name}: no changes ({took})"
        parts = []
        for label, c in (
            ("items", self.counts.items),
            ("events", self.counts.events),
            ("deployments", self.counts.deployments),
        ):
            text = f"{label} {c.added} added, {c.updated} updated"
            if c.removed:
                text += f", {c.removed} removed"
            parts.append(text)
        return f"{self.name}: {'; '.join(parts)} ({took})"


class SyncReporter(Protocol):
    """How `sync_sources` shows its work: a Progress per source, then its result."""

    def start(self, name: str, kind: str) -> Progress: ...

    def finish(self, result: SourceResult) -> None: ...


class QuietReporter:
    def start(self, name: str, kind: str) -> Progress:
        return NoProgress()

    def finish(self, result: SourceResult) -> None:
        return None


@contextmanager
def writer_lock(store: Store, wait: float = LOCK_WAIT) -> Iterator[None]:
    """The store-wide writer lock of an SQLite store; nothing on PostgreSQL, whose syncs lock
    each source (`Store.source_lock`)."""
    if isinstance(store.path, Path):
        with sync_lock(store.path, wait):
            yield
    else:
        yield


@contextmanager
def sync_lock(store_path: Path, wait: float = LOCK_WAIT) -> Iterator[Path]:
    """Hold the store's writer lock (waiting up to `wait` seconds) for the block."""
    lock_path = store_path.with_name(store_path.name + ".lock")
    lock = FileLock(lock_path, timeout=wait)
    try:
        lock.acquire(poll_interval=0.1)
    except Timeout:
        raise FlowdeckError(
            f"another flowdeck sync or import is writing to {store_path} (it holds "
            f"{lock_path.name}); wait for it to finish, then run this again"
        ) from None
    except OSError as exc:
        raise FlowdeckError(
            f"cannot create the lock file {lock_path}: {exc.strerror or exc}"
        ) from None
    try:
        yield lock_path
    finally:
        lock.release()


def select_sources(config: Config, names: Sequence[str] | None) -> list[SourceConfig]:
    if not config.sources:
        raise ConfigError(
            f"{config.path}: no [[sources]] to sync; add one (see docs/store.md), or load a "
            "file with `flowdeck import FILE --source NAME`"
        )
    if not names:
        return list(config.sources)
    chosen: list[SourceConfig] = []
    for name in names:
        source = config.source(name)
        if source not in chosen:
            chosen.append(source)
    return chosen


def sync_sources(
    config: Config,
    store_path: Location | str,
    names: Sequence[str] | None = None,
    full: bool = False,
    progress: SyncReporter | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
    lock_wait: float = LOCK_WAIT,
    checkpoint_every: int = CHECKPOINT_EVERY,
) -> list[SourceResult]:
    """Sync the named sources (default: all) into the store, each in its own transaction.

    `full`: ignore the cursors and fetch everything; rows a source no longer has are removed.
    `checkpoint_every`: commit what a source fetched every so many chunks (0: never), except
    for file sources, whose fetch is one whole snapshot.
    A failing source is reported in its `SourceResult` and the others still sync; problems
    with the store itself (locked, corrupt, unwritable) raise `FlowdeckError`.
    """
    reporter = progress or QuietReporter()
    sources = select_sources(config, names)
    if secrets is None:
        secrets = load_secrets(config.directory)
    remember_configured_secrets(config, secrets)
    results: list[SourceResult] = []
    with open_store(store_path, purpose="sync") as store, writer_lock(store, lock_wait):
        for source in sources:
            result = _sync_one(
                store, config, source, full, secrets, reporter, checkpoint_every, lock_wait
            )
            results.append(result)
            reporter.finish(result)
    return results


def _sync_one(
    store: Store,
    config: Config,
    source: SourceConfig,
    full: bool,
    secrets: Mapping[str, str],
    reporter: SyncReporter,
    checkpoint_every: int = CHECKPOINT_EVERY,
    lock_wait: float = LOCK_WAIT,
) -> SourceResult:
    began = time.monotonic()
    progress = reporter.start(source.name, source.kind)
    try:
        with store.source_lock(source.name, lock_wait):
            return _sync_locked(
                store, config, source, full, secrets, progress, began, checkpoint_every
            )
    except SourceBusy as exc:
        # Not recorded in the store: the source is not failing, another sync is on it.
        return SourceResult(source.name, source.kind, False, time.monotonic() - began, None,
                            error=str(exc))  # fmt: skip


def _sync_locked(
    store: Store,
    config: Config,
    source: SourceConfig,
    full: bool,
    secrets: Mapping[str, str],
    progress: Progress,
    began: float,
    checkpoint_every: int,
) -> SourceResult:
    writer = None
    try:
        kind = source_kind(source.kind, f"source '{source.name}'")
        settings = _bind(source.settings, config, source.name)
        stored_cursor = store.source_cursor(source.name)
        since = None if full else stored_cursor
        stored_kind = store.source_kind(source.name)
        if stored_kind is not None and stored_kind != source.kind:
            raise FlowdeckError(
                f"source '{source.name}' is {source.kind} in {config.path} but the store holds "
                f"{stored_kind} data under that name; rename the source or use a fresh store"
            )
        client = kind.make_client(settings, secrets)
        writer = store.writer(source.name, source.kind)
        every = checkpoint_every if source.kind not in SNAPSHOT_KINDS else 0
        for chunk in kind.fetch(settings, client, since, progress):
            writer.add(chunk)
            if every > 0 and writer.chunks % every == 0:
                progress.update(writer.rows, None, "writing a checkpoint to the store")
                # A full re-sync's chunk cursors may lie before the stored one, which the data
                # already in the store still honours: keep it until the sync completes.
                writer.checkpoint(move_cursor=not (full and stored_cursor is not None))
        progress.update(writer.rows, writer.rows or None, "writing to the store")
        snapshot = full or since is None or source.kind in SNAPSHOT_KINDS
        fetched = writer.chunks > 0
        chunks, rows = writer.chunks, writer.rows
        counts = writer.commit(
            replace=TABLES if snapshot and fetched else (),
            keep_quality=not fetched,
        )
        writer = None
        return SourceResult(
            source.name, source.kind, True, time.monotonic() - began, counts,
            chunks=chunks, rows=rows,
        )  # fmt: skip
    except Exception as exc:  # one source failing must not stop the others
        if writer is not None:
            _quietly(writer.discard)
        message = printable(_describe(exc), limit=2000)
        try:
            store.record_failure(source.name, source.kind, message)
        except FlowdeckError as store_exc:
            message += f" (and the failure could not be recorded: {store_exc})"
        return SourceResult(source.name, source.kind, False, time.monotonic() - began, None,
                            error=message)  # fmt: skip


def _bind(settings: Any, config: Config, name: str) -> Any:
    # Settings that depend on the whole configuration (a csv source's folder, time zone and
    # name) provide `bind`; the connector protocol has no other way to receive them.
    bind = getattr(settings, "bind", None)
    return bind(config, name) if callable(bind) else settings


def _describe(exc: Exception) -> str:
    if isinstance(exc, FlowdeckError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _quietly(action: Any) -> None:
    with suppress(FlowdeckError):
        action()


def import_file(
    store_path: Location | str,
    file: Path,
    source: str,
    config: Config | None = None,
    mapping: Mapping[str, str] | None = None,
    *,
    lock_wait: float = LOCK_WAIT,
) -> tuple[str, SourceResult]:
    """Load one event-log, stage-date or deployments CSV into source `source` of the store.

    The file is the whole truth for what it holds: importing an event log replaces the source's
    items and events, a deployments file its deployments. Returns the file's kind and the result.
    """
    began = time.monotonic()
    file = Path(file)
    if not source.strip():
        raise InputError("--source: the source name is empty")
    if config is not None:
        configured = next((s for s in config.sources if s.name == source), None)
        if configured is not None and configured.kind != "csv":
            raise ConfigError(
                f"source '{source}' is a {configured.kind} source in {config.path}; import the "
                "file under another name"
            )
    if mapping:
        # A column map means an event log whose header the sniffer may not recognise.
        with suppress(InputError):
            if sniff_csv_kind(file) == "deployments":
                raise ConfigError(f"{file}: --map applies to event logs only, not deployments")
        kind = "events"
    else:
        kind = sniff_csv_kind(file)
    settings = CsvSettings(
        mapping=tuple(sorted((mapping or {}).items())),
        name=source,
        base_dir=None,
        workflow=config.workflow if config is not None else None,
    )
    data = read_file(kind, file, settings)
    with (
        open_store(store_path, purpose="import") as store,
        writer_lock(store, lock_wait),
        store.source_lock(source, lock_wait),
    ):
        writer = store.writer(source, "csv")
        try:
            writer.add(Chunk(data.items, data.events, data.deployments, data.shipped))
        except BaseException:
            _quietly(writer.discard)
            raise
        counts = writer.commit(
            replace=IMPORT_TABLES[kind],
            result=f"imported {file.name}",
            keep_quality=True,
            clear_cursor=True,
        )
    return kind, SourceResult(
        source, "csv", True, time.monotonic() - began, counts, chunks=1,
        rows=len(data.items) + len(data.events) + len(data.deployments),
    )  # fmt: skip


def sync_portfolio(
    portfolio: Portfolio,
    store_path: Location | str,
    team: str | None = None,
    names: Sequence[str] | None = None,
    full: bool = False,
    progress: SyncReporter | None = None,
    *,
    lock_wait: float = LOCK_WAIT,
) -> list[SourceResult]:
    """Sync the sources of every team (or of `team`) into the portfolio's store: a source that
    several teams name is fetched once, with the first of those teams' workflow file."""
    wanted = set(names) if names else None
    if wanted is not None:
        known = {n for t in portfolio.teams for n in t.source_names}
        for name in sorted(wanted - known):
            raise ConfigError(f"no source named '{name}' in the teams of {portfolio.path}")
    results: list[SourceResult] = []
    for member, members_sources in sync_plan(portfolio, team):
        chosen = [n for n in members_sources if wanted is None or n in wanted]
        if chosen:
            results += sync_sources(member.config, store_path, chosen, full, progress,
                                    lock_wait=lock_wait)  # fmt: skip
    return results


def sync_every(
    config: Config | Portfolio,
    store_path: Location | str,
    minutes: float,
    stop: threading.Event,
    echo: Callable[[str], None],
    names: Sequence[str] | None = None,
    *,
    lock_wait: float = LOCK_WAIT,
) -> int:
    """The sync worker: sync every `minutes` until `stop` is set; returns the number of runs.

    Each run prints one line (when, how many sources synced, which failed and why in short, how
    long, when the next starts). A run that fails (a source, or the store itself: the database
    down for a minute) is reported and the worker goes on; only configuration errors, found
    before the first run, stop it. A run in progress when `stop` is set completes first (each
    source is one transaction, so stopping sooner would gain nothing but a retry).
    """
    if not isinstance(config, Portfolio):
        select_sources(config, names)  # a bad --source is a configuration error: before any run
    runs = 0
    while not stop.is_set():
        began = time.monotonic()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        try:
            if isinstance(config, Portfolio):
                results = sync_portfolio(config, store_path, None, names, lock_wait=lock_wait)
            else:
                results = sync_sources(config, store_path, names, lock_wait=lock_wait)
            failed = [r for r in results if not r.ok]
            summary = f"{len(results) - len(failed)} of {len(results)} sources synced"
            if failed:
                summary += "; failed: " + "; ".join(
                    f"{r.name} ({printable(r.error or '', limit=200)})" for r in failed
                )
        except FlowdeckError as exc:
            summary = f"the run failed: {printable(str(exc), limit=300)}"
        runs += 1
        took = time.monotonic() - began
        pause = max(0.0, minutes * 60 - took)
        following = time.strftime("%H:%M:%S", time.gmtime(time.time() + pause))
        echo(f"{stamp} UTC run {runs}: {summary} ({took:.1f} s); next at {following} UTC")
        stop.wait(pause)
    return runs
