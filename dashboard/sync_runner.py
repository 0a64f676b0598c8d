"""Syncing from inside the dashboard: the "Sync now" button and `--sync-every` share one runner,
so a dashboard process never runs two syncs at once (the store's own lock also keeps other
processes out). No Streamlit here: the page passes a reporter that draws progress.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from connectors.config import load_config
from connectors.store_engine import DatabaseUrl
from connectors.sync import QuietReporter, SourceResult, SyncReporter, sync_sources
from metrics.errors import FlowdeckError


@dataclass(frozen=True)
class SyncOutcome:
    started_at: pd.Timestamp
    finished_at: pd.Timestamp
    trigger: str
    """"button" or "schedule"."""
    results: tuple[SourceResult, ...] = ()
    error: str | None = None
    """A failure of the whole sync (bad workflow file, store locked): no source ran."""

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.results)

    def lines(self) -> list[str]:
        if self.error is not None:
            return [self.error]
        return [r.line() for r in self.results]


@dataclass
class SyncRunner:
    config_path: Path
    store_path: Path | DatabaseUrl
    every_minutes: float | None = None
    last: SyncOutcome | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def run(
        self,
        reporter: SyncReporter | None = None,
        names: list[str] | None = None,
        full: bool = False,
        trigger: str = "button",
    ) -> SyncOutcome | None:
        """Sync now, in this thread. None when a sync of this dashboard is already running."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            began = pd.Timestamp.now(tz="UTC")
            try:
                # Read the workflow file afresh: a source added since the start is synced too.
                config = load_config(self.config_path)
                results = sync_sources(
                    config, self.store_path, names=names, full=full,
                    progress=reporter or QuietReporter(),
                )  # fmt: skip
                outcome = SyncOutcome(began, pd.Timestamp.now(tz="UTC"), trigger, tuple(results))
            except FlowdeckError as exc:
                outcome = SyncOutcome(began, pd.Timestamp.now(tz="UTC"), trigger, error=str(exc))
            except Exception as exc:  # the schedule must survive anything a connector throws
                text = f"unexpected {type(exc).__name__}: {exc}"
                outcome = SyncOutcome(began, pd.Timestamp.now(tz="UTC"), trigger, error=text)
            self.last = outcome
            return outcome
        finally:
            self._lock.release()

    def start_schedule(self) -> None:
        """Sync now and then every `every_minutes` in a background thread (once per runner)."""
        if not self.every_minutes or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="flowdeck-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        interval = float(self.every_minutes or 0) * 60
        while not self._stop.is_set():
            began = time.monotonic()
            self.run(trigger="schedule")
            self._stop.wait(max(interval - (time.monotonic() - began), 1.0))
