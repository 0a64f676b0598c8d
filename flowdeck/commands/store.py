"""`flowdeck sync`, `flowdeck import` and `flowdeck status`: filling the store and looking at it.

Text that comes from sources (error messages, names) is printed as plain text, never as rich
markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from connectors.config import DEFAULT_CONFIG, Config, find_config_path, load_config
from metrics.errors import ConfigError, FlowdeckError

# The store, the sync loop (pandas) and rich are imported inside the commands: building the CLI
# for `flowdeck --help` must stay fast.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from connectors.sync import SourceResult

DB_HELP = "Store: an SQLite file (default .flowdeck/flowdeck.db) or a postgresql:// URL."
KIND_LABELS = {"events": "event log", "stage_dates": "stage dates", "deployments": "deployments"}


def find_config(path: str | None) -> Config | None:
    """--config, else ./flowdeck.toml, else None."""
    found = find_config_path(path)
    return load_config(found) if found is not None else None


def require_config(path: str | None) -> Config:
    config = find_config(path)
    if config is None:
        raise ConfigError(
            f"no workflow file: {DEFAULT_CONFIG} is not in this folder; pass --config PATH"
        )
    return config


class _TaskProgress:
    """One source's bar: what a connector's `Progress.update` calls land on."""

    def __init__(self, bars: Progress, task: TaskID) -> None:
        self._bars = bars
        self._task = task

    def update(self, fetched: int, total: int | None = None, note: str = "") -> None:
        self._bars.update(self._task, completed=fetched, total=total, note=note)


class RichReporter:
    """A bar per source while it syncs, then its final line."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.bars = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.completed} fetched", markup=False),
            TextColumn("{task.fields[note]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            # Piped or captured output gets only the final lines, no bar frames.
            disable=not console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichReporter:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def start(self, name: str, kind: str) -> _TaskProgress:
        task = self.bars.add_task(f"{name} ({kind})", total=None, note="")
        self._tasks[name] = task
        return _TaskProgress(self.bars, task)

    def finish(self, result: SourceResult) -> None:
        from rich.text import Text

        task = self._tasks.pop(result.name, None)
        if task is not None:
            self.bars.remove_task(task)
        self.console.print(Text(result.line(), style=None if result.ok else "red"))


def _console() -> Console:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        # Piped or captured output: rich's 80 columns would fold the status table.
        console.width = 160
    return console


@click.command("sync")
@click.option(
    "--source", "names", multiple=True, metavar="NAME", help="Sync only this source (repeatable)."
)
@click.option("--full", is_flag=True, help="Ignore the cursors: fetch everything again.")
@click.option("--config", "config_path", metavar="PATH", help="Workflow file (./flowdeck.toml).")
@click.option("--db", metavar="PATH|URL", help=DB_HELP)
@click.option(
    "--wait",
    "lock_wait",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="How long to wait for a store or source that another sync is writing (default 3).",
)
@click.option(
    "--every",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="MINUTES",
    help="Keep running: sync every MINUTES, one line per run, until stopped (SIGTERM, Ctrl-C).",
)
@click.option(
    "--team",
    metavar="NAME",
    help="With a portfolio file as --config: only this team's sources (default: all teams).",
)
def sync_command(
    names: tuple[str, ...],
    full: bool,
    config_path: str | None,
    db: str | None,
    lock_wait: float | None,
    every: float | None,
    team: str | None,
):
    """Fetch the [[sources]] of the workflow file (or of every team of a portfolio) into the
    store."""
    from connectors.portfolio import is_portfolio, load_portfolio
    from connectors.store import resolve_db_path
    from connectors.sync import LOCK_WAIT, sync_portfolio, sync_sources

    wait = LOCK_WAIT if lock_wait is None else lock_wait
    found = find_config_path(config_path)
    portfolio = load_portfolio(found) if is_portfolio(found) else None
    if portfolio is None and team is not None:
        raise ConfigError(f"--team {team}: {found} is not a portfolio file (see docs/teams.md)")
    config = portfolio if portfolio is not None else require_config(config_path)
    # A portfolio's store is beside the portfolio file (resolve_db_path reads `.directory`).
    path = resolve_db_path(config, db)  # type: ignore[arg-type]
    if every is not None:
        if full:
            raise click.UsageError("--full is for one sync, not with --every")
        if team is not None:
            raise click.UsageError("--team is for one sync; the worker syncs every team")
        _sync_worker(config, path, every, list(names) or None, wait)
        return
    console = _console()
    with RichReporter(console) as reporter:
        if portfolio is not None:
            results = sync_portfolio(portfolio, path, team, list(names) or None, full, reporter,
                                     lock_wait=wait)  # fmt: skip
        else:
            results = sync_sources(config, path, names=list(names) or None, full=full,
                                   progress=reporter, lock_wait=wait)  # fmt: skip
    failed = [r.name for r in results if not r.ok]
    if failed:
        synced = "; the others were synced" if len(failed) < len(results) else ""
        raise FlowdeckError(
            f"{len(failed)} of {len(results)} sources failed ({', '.join(failed)}): they kept "
            f"their previous data{synced}"
        )


def _sync_worker(config: object, path: object, every: float, names, lock_wait: float) -> None:
    import signal
    import threading

    from connectors.sync import sync_every

    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    # SIGTERM (docker stop, systemd) and Ctrl-C both end the worker after the run in progress.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        click.echo(f"sync worker: every {every:g} minutes into {path}; stop with SIGTERM")
        runs = sync_every(config, path, every, stop, lambda line: click.echo(line), names,
                          lock_wait=lock_wait)  # fmt: skip
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"sync worker: stopped after {runs} runs")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", "source", required=True, metavar="NAME", help="Source to load into.")
@click.option("--config", "config_path", metavar="PATH", help="Workflow file (./flowdeck.toml).")
@click.option("--db", metavar="PATH|URL", help=DB_HELP)
@click.option(
    "--map", "mapping", metavar="A=B,...", help="Event-log columns: canonical=file column."
)
def import_command(
    file: Path, source: str, config_path: str | None, db: str | None, mapping: str | None
) -> None:
    """Load an event-log, stage-date or deployments CSV into the store."""
    from rich.text import Text

    from connectors.csv_files import parse_mapping
    from connectors.store import resolve_db_path
    from connectors.sync import import_file

    config = find_config(config_path)
    path = resolve_db_path(config, db)
    kind, result = import_file(
        path, file, source, config, parse_mapping(mapping) if mapping else None
    )
    console = _console()
    console.print(Text(f"imported {file} ({KIND_LABELS[kind]}) into source '{source}' of {path}"))
    console.print(Text(result.line()))


def _when(ns: int | None) -> str:
    """A last-sync time (UTC nanoseconds) as the status table shows it."""
    from datetime import UTC, datetime

    if ns is None:
        return "never"
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%d %H:%M")


@click.command("status")
@click.option("--config", "config_path", metavar="PATH", help="Workflow file (./flowdeck.toml).")
@click.option("--db", metavar="PATH|URL", help=DB_HELP)
def status_command(config_path: str | None, db: str | None) -> None:
    """List the sources in the store: last sync, result, counts and the last error."""
    from rich.table import Table
    from rich.text import Text

    # Neither the sync loop nor the store's frame readers: status must start without pandas.
    from connectors.secrets import load_secrets, printable, remember_configured_secrets
    from connectors.store import open_store, resolve_db_path

    config = find_config(config_path)
    if config is not None:
        remember_configured_secrets(config, load_secrets(config.directory))
    path = resolve_db_path(config, db)
    with open_store(path, create=False) as store:
        rows = store.source_states()
        quality = store.quality_counts()
        version = store.data_version()
    console = _console()
    console.print(Text(f"store: {path} (data version {version})"))
    table = Table(show_edge=False, pad_edge=False)
    for col in ("source", "kind", "last sync (UTC)", "result", "items", "events", "deployments"):
        justify = "right" if col in ("items", "events", "deployments") else "left"
        table.add_column(col, justify=justify, overflow="fold")
    stored = {r.name for r in rows}
    for row in rows:
        table.add_row(
            Text(row.name), Text(row.kind), _when(row.last_sync_at), Text(row.last_result),
            str(row.items), str(row.events), str(row.deployments),
        )  # fmt: skip
    for source in config.sources if config is not None else ():
        if source.name not in stored:
            table.add_row(Text(source.name), Text(source.kind), "never", "not synced yet",
                          "0", "0", "0")  # fmt: skip
    if not rows and (config is None or not config.sources):
        console.print(
            Text(
                "no sources yet: run `flowdeck import FILE --source NAME`, or add [[sources]] "
                "to the workflow file and run `flowdeck sync`"
            )
        )
        return
    console.print(table)
    for row in rows:
        if row.last_error:
            console.print(
                Text(f"last error of {row.name}: {printable(row.last_error, 2000)}", style="red")
            )
    for source, key, count in quality:
        console.print(Text(f"data quality, {source}: {key} = {count}"))


@click.group("db")
def db_group() -> None:
    """The store itself: create it or bring its schema up to date."""


@db_group.command("upgrade")
@click.option("--config", "config_path", metavar="PATH", help="Workflow file (./flowdeck.toml).")
@click.option("--db", metavar="PATH|URL", help=DB_HELP)
def db_upgrade_command(config_path: str | None, db: str | None) -> None:
    """Create the store, or apply the migrations it lacks (one transaction)."""
    from rich.text import Text

    from connectors.store import open_store, resolve_db_path

    config = find_config(config_path)
    path = resolve_db_path(config, db)
    with open_store(path, create=True, purpose="db upgrade") as store:
        version, before = store.schema_version(), store.upgraded_from
    if before is None:
        message = f"store {path}: schema version {version}, up to date"
    elif before == 0:
        message = f"store {path}: created at schema version {version}"
    else:
        message = f"store {path}: upgraded from schema version {before} to {version}"
    _console().print(Text(message))


def register(main: click.Group, init: click.Group) -> None:
    main.add_command(db_group)
    main.add_command(sync_command)
    main.add_command(import_command)
    main.add_command(status_command)
