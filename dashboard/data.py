"""Where the dashboard's data comes from, and the only place that caches it.

The app is told where its inputs are through environment variables (set by `flowdeck dashboard`):
`FLOWDECK_CONFIG` (the workflow file), `FLOWDECK_DB` (the store) and `FLOWDECK_SYNC_EVERY`
(minutes between background syncs). With no workflow file and no store it shows the built-in demo.

Caches are keyed by the store's data version (it changes with every committed sync, import or
WIP-limit change) and the workflow file's modification time, so a finished sync or an edited
workflow shows on the next rerun, while a rerun after a filter change reuses everything else.
Cached objects are shared by every session: callers treat them as read-only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from connectors.config import DEFAULT_CONFIG, Config, find_config_path, load_config
from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data, demo_wip_limit_changes
from connectors.limits import LimitChange, reconcile_if_possible, set_limit
from connectors.portfolio import Portfolio, is_portfolio, load_portfolio
from connectors.secrets import load_secrets, remember_configured_secrets, scrub
from connectors.store import ENV_VAR as DB_ENV_VAR
from connectors.store import (
    NO_TEAM,
    Location,
    Store,
    as_location,
    default_db_path,
    location_key,
    open_store,
    resolve_db_path,
    store_exists,
)
from dashboard.filters import Filters, day_range, filter_flow_data, filter_options
from dashboard.sync_runner import SyncRunner
from metrics import forecast
from metrics.days import end_of_day, local_day
from metrics.errors import ConfigError, FlowdeckError
from metrics.frames import FlowData
from metrics.portfolio import combine, team_numbers
from metrics.report import FlowReport, flow_report
from metrics.workflow import Workflow

CONFIG_ENV_VAR = "FLOWDECK_CONFIG"
SYNC_EVERY_ENV_VAR = "FLOWDECK_SYNC_EVERY"
READ_ONLY_ENV_VAR = "FLOWDECK_READ_ONLY"
DEFAULT_RANGE_DAYS = 90
_LAST_GOOD = "_flowdeck_last_good"


@dataclass(frozen=True)
class Setup:
    """Where this dashboard reads from. `config_path` None with no store means the demo."""

    config_path: Path | None
    db_path: Location
    sync_every: float | None = None
    read_only: bool = False
    teams: tuple[str, ...] = ()
    """The teams of a portfolio file (docs/teams.md); empty for a single workflow file."""
    team: str | None = None
    portfolio: Path | None = None
    """The portfolio file of the chosen team."""
    sources: tuple[str, ...] | None = None
    """With a team chosen: its sources, the only ones read from the shared store."""
    """Served beyond this machine (`--host` not loopback): no Sync now button, since anyone on
    the network could press it. WIP-limit edits follow `dashboard.editing` (password or off)."""

    @property
    def demo(self) -> bool:
        return self.config_path is None and not store_exists(self.db_path)


def setup_from_env(environ: os._Environ | dict | None = None) -> Setup:
    """Read the environment `flowdeck dashboard` sets; `./flowdeck.toml` when none is named.

    Raises `ConfigError` for a bad `FLOWDECK_SYNC_EVERY` or a store without a workflow file.
    """
    env = os.environ if environ is None else environ
    raw = env.get(CONFIG_ENV_VAR, "").strip()
    config_path = find_config_path(raw or None)
    db = env.get(DB_ENV_VAR, "").strip() or None
    teams: tuple[str, ...] = ()
    if is_portfolio(config_path):
        teams = tuple(t.name for t in portfolio_file(config_path).teams)
    if config_path is not None:
        db_path = as_location(db) if db else default_db_path(config_path.parent)
    else:
        db_path = resolve_db_path(None, db)
    every_raw = env.get(SYNC_EVERY_ENV_VAR, "").strip()
    every: float | None = None
    if every_raw:
        try:
            every = float(every_raw)
        except ValueError:
            every = -1.0
        if not every > 0:
            raise ConfigError(
                f"{SYNC_EVERY_ENV_VAR}={every_raw!r}: expected a number of minutes above 0"
            )
    if config_path is None and store_exists(db_path):
        raise ConfigError(
            f"there is a store at {db_path} but no workflow file to read it with: "
            f"start with `flowdeck dashboard --config {DEFAULT_CONFIG}`"
        )
    read_only = env.get(READ_ONLY_ENV_VAR, "").strip() not in ("", "0")
    return Setup(config_path=config_path, db_path=db_path, sync_every=every, read_only=read_only,
                 teams=teams)  # fmt: skip


def with_team(setup: Setup, team: str) -> Setup:
    """The setup of one team of a portfolio: its workflow file, its sources, the shared store."""
    member = portfolio_file(setup.config_path).team(team)
    return dataclasses.replace(
        setup, config_path=member.config.path, team=team, sources=member.source_names,
        portfolio=setup.config_path,
    )  # fmt: skip


def portfolio_file(path: Path) -> Portfolio:
    """`load_portfolio`, read again only when the portfolio file or a team's workflow file
    changed: every rerun of every page of a portfolio dashboard needs its teams, and fifty
    teams are fifty-one files to parse."""
    folio, stamps = _portfolio_file(path, _mtime(path))
    if _team_stamps(folio) != stamps:  # a team's file changed since it was read
        _portfolio_file.clear()
        folio, stamps = _portfolio_file(path, _mtime(path))
    return folio


def _team_stamps(folio: Portfolio) -> tuple[float, ...]:
    return tuple(_mtime(t.config.path) for t in folio.teams)


@st.cache_resource(show_spinner=False, max_entries=4)
def _portfolio_file(path: Path, mtime: float) -> tuple[Portfolio, tuple[float, ...]]:
    folio = load_portfolio(path)
    return folio, _team_stamps(folio)


def portfolio_configured(environ: os._Environ | dict | None = None) -> bool:
    """Whether the dashboard was started on a portfolio file (it then has a Portfolio page)."""
    env = os.environ if environ is None else environ
    try:
        return is_portfolio(find_config_path(env.get(CONFIG_ENV_VAR, "").strip() or None))
    except FlowdeckError:
        return False


#: Weeks of the Portfolio page's numbers and trend lines.
PORTFOLIO_WEEKS = 12
#: Data whose newest event is more than this many days older than today is stale (a Monday
#: board of Friday's sync is not); the same threshold as `flowdeck digest`.
STALE_AFTER_DAYS = 3


def portfolio(setup: Setup) -> pd.DataFrame:
    """One row per team of the portfolio (see `_portfolio`), for the current data version."""
    return _portfolio(setup, data_version(setup), _today(setup))


@st.cache_resource(show_spinner=False, max_entries=2)
def _portfolio_sources(location: str, version: int, names: tuple[str, ...]) -> dict[str, FlowData]:
    """Every team's sources in one read of the store, split by source (teams share them);
    the page's numbers need no item attributes."""
    return _store(location).read_flow_data_by_source(list(names), attributes=False)


@st.cache_resource(show_spinner=False, max_entries=2)
def _portfolio(setup: Setup, version: int, today: dt.date) -> pd.DataFrame:
    """Columns: team, link (the team's board), wip, wip_limit, throughput_per_week,
    throughput_trend (per week), cycle_time_p85, p85_change (against the weeks before),
    over_sle, blocked, deploys_per_week, last_sync, data_ends. Each team over the last
    PORTFOLIO_WEEKS weeks to `today`, or to its last day with data when that is stale
    (`data_ends`, else ""), from its own sources' rows (`metrics.portfolio.team_numbers`)."""
    folio = portfolio_file(setup.portfolio)
    store = _store(location_key(setup.db_path)) if version >= 0 else None
    status = store.last_syncs() if store is not None else pd.DataFrame(
        {"name": [], "last_sync_at": []}
    )  # fmt: skip
    stored = set(status["name"])
    wanted = tuple(sorted({s for t in folio.teams for s in t.source_names if s in stored}))
    by_source = (
        _portfolio_sources(location_key(setup.db_path), version, wanted)
        if store is not None and wanted
        else {}
    )
    rows = []
    for member in folio.teams:
        workflow = member.config.workflow
        team_data = combine([by_source[s] for s in member.source_names if s in by_source])
        # A team whose data stopped (a sync that no longer runs, an old export) is shown as of
        # its last day with data, as its board is: weeks counted to today would show it idle.
        ends = _stale_last_day(team_data, workflow.timezone, today)
        day = ends or today
        last = pd.Timestamp(day)
        first = last - pd.Timedelta(days=7 * PORTFOLIO_WEEKS - 1)
        numbers = team_numbers(team_data, workflow, end_of_day(day, workflow.timezone),
                               first, last)  # fmt: skip
        p85, before = numbers["cycle_time_p85"], numbers["cycle_time_p85_before"]
        # The team's limit: the workflow's own, else the sum of its in-progress stages' limits
        # when every one of them has one (a stage without a limit leaves the total unbounded).
        limits = [s.wip_limit for s in workflow.stages[workflow.start : workflow.done]]
        limit = workflow.wip_limit or (sum(limits) if limits and all(limits) else None)
        synced = status.loc[status["name"].isin(member.source_names), "last_sync_at"]
        rows.append({
            "team": member.name,
            "link": f"./?team={member.name}",
            "wip": numbers["wip"],
            "wip_limit": np.nan if limit is None else float(limit),
            "throughput_per_week": numbers["throughput_per_week"],
            "throughput_trend": numbers["throughput_trend"],
            "cycle_time_p85": p85,
            "p85_change": p85 - before if p85 == p85 and before == before else np.nan,
            "over_sle": numbers["over_sle"],
            "blocked": numbers["blocked"],
            "deploys_per_week": numbers["deploys_per_week"],
            "last_sync": synced.max() if len(synced) else pd.NaT,
            "data_ends": f"{ends:%Y-%m-%d}" if ends else "",
        })  # fmt: skip
    return pd.DataFrame(rows)


def stale_gap(newest: dt.date | None, today: dt.date) -> int | None:
    """Days from the newest event's day to `today` when more than STALE_AFTER_DAYS; None when
    the data is fresh or has no events. The board and the Portfolio page both go by it."""
    if newest is None:
        return None
    gap = (today - newest).days
    return gap if gap > STALE_AFTER_DAYS else None


def _stale_last_day(data: FlowData, timezone: str, today: dt.date) -> dt.date | None:
    """The local day of the team's newest event when the team's data is stale (`stale_gap`)."""
    times = data.events["changed_at"]
    newest = None if times.empty else local_day(times.max(), timezone).date()
    return newest if stale_gap(newest, today) is not None else None


@dataclass(frozen=True)
class Loaded:
    """Everything the pages read, for one data version."""

    setup: Setup
    config: Config
    data: FlowData
    version: int
    as_of: pd.Timestamp
    """The moment the data describes: the end of today (local), or the demo's last day."""
    wip_changes: pd.DataFrame
    sources: pd.DataFrame
    """One row per source of the store (`Store.sources_status`); empty for the demo."""
    source_quality: pd.DataFrame
    """`Store.quality()`: per-source counts the connectors reported (incomplete histories...)."""
    options: dict[str, list[str]] = field(default_factory=dict)
    first_day: dt.date | None = None
    """The first event's local day (the earliest date worth choosing)."""
    last_day: dt.date | None = None
    """The last event's local day (an export may stop long before today)."""
    key: tuple = ()
    """The arguments `_load` was called with (the reports' cache key)."""

    @property
    def demo(self) -> bool:
        return self.setup.demo

    @property
    def workflow(self) -> Workflow:
        return self.config.workflow

    @property
    def as_of_day(self) -> dt.date:
        return local_day(self.as_of, self.workflow.timezone).date()

    @property
    def empty(self) -> bool:
        return self.data.events.empty


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return open_store(path, create=False)


def data_version(setup: Setup) -> int:
    """0 for the demo, -1 while there is no store yet, else the store's data version."""
    if setup.demo:
        return 0
    if not store_exists(setup.db_path):
        return -1
    return _store(location_key(setup.db_path)).data_version()


def _mtime(path: Path | None) -> float:
    try:
        return path.stat().st_mtime if path is not None else 0.0
    except OSError:
        return 0.0


@st.cache_resource(show_spinner=False, max_entries=2)
def _load(setup: Setup, version: int, config_mtime: float, today: dt.date) -> Loaded:
    if setup.demo:
        config = demo_config()
        data = demo_flow_data()
        as_of = DEMO_AS_OF
        changes = demo_wip_limit_changes()
        sources = pd.DataFrame()
        quality = pd.DataFrame(columns=["source", "key", "count"])
    else:
        config = load_config(setup.config_path)
        remember_configured_secrets(config, load_secrets(config.directory))
        as_of = end_of_day(today, config.workflow.timezone)
        if version < 0:
            data, changes = FlowData(), pd.DataFrame(columns=["stage", "changed_at"])
            sources = pd.DataFrame()
            quality = pd.DataFrame(columns=["source", "key", "count"])
        else:
            store = _store(location_key(setup.db_path))
            if setup.sources is None:
                data = store.read_flow_data()
            else:
                # A team's sources not synced yet are simply not there yet.
                stored = set(store.source_names())
                chosen = [s for s in setup.sources if s in stored]
                data = store.read_flow_data(chosen) if chosen else FlowData()
            changes = store.wip_limit_changes(setup.team or NO_TEAM)
            sources = store.sources_status()
            if "last_error" in sources:
                # Stored before a credential was known to this process, perhaps: shown scrubbed.
                sources["last_error"] = sources["last_error"].map(
                    lambda e: e if e is None or pd.isna(e) else scrub(e)
                )
            quality = store.quality()
    events = data.events
    tz = config.workflow.timezone
    known = events["changed_at"][events["changed_at"].le(as_of)]
    first = local_day(known.min(), tz).date() if len(known) else None
    last = local_day(known.max(), tz).date() if len(known) else None
    return Loaded(
        setup=setup, config=config, data=data, version=version, as_of=as_of,
        wip_changes=changes, sources=sources, source_quality=quality,
        options=filter_options(data.items), first_day=first, last_day=last,
        key=(setup, version, config_mtime, today),
    )  # fmt: skip


class _NotYetRecorded(Exception):
    """A hand edit of the limits could not be recorded yet."""


@st.cache_resource(show_spinner=False, max_entries=4)
def _reconcile(setup: Setup, config_mtime: float, have_store: bool) -> None:
    """Record hand edits of the workflow file's limits, once per version of the file (the
    arguments are the cache key: a new modification time reads the file again)."""
    if setup.demo or setup.config_path is None or not have_store:
        return
    store = _store(location_key(setup.db_path))
    # A team of a portfolio has its own history in the shared store.
    if reconcile_if_possible(load_config(setup.config_path), store, setup.team or NO_TEAM) is None:
        # Not recorded (the store is busy): raising keeps this call out of the cache, so the
        # next rerun tries again.
        raise _NotYetRecorded


def _today(setup: Setup) -> dt.date:
    tz = "UTC"
    if setup.config_path is not None:
        # The day turns over in the workflow's time zone; reading it needs the file, which
        # `_load` validates, so a broken file falls back to UTC here and errors there.
        try:
            tz = load_config(setup.config_path).workflow.timezone
        except FlowdeckError:
            tz = "UTC"
    return local_day(pd.Timestamp.now(tz="UTC"), tz).date()


def load(setup: Setup) -> tuple[Loaded | None, str | None]:
    """The current data, or the last good data of this session with the error that prevents
    reading newer data (None when there never was any)."""
    try:
        # The data can still be read when a hand edit cannot be recorded yet: a later rerun
        # records it.
        with contextlib.suppress(_NotYetRecorded):
            _reconcile(setup, _mtime(setup.config_path), store_exists(setup.db_path))
        version = data_version(setup)
        loaded = _load(setup, version, _mtime(setup.config_path), _today(setup))
    except FlowdeckError as exc:
        return st.session_state.get(_LAST_GOOD), str(exc)
    except Exception as exc:  # a store or file the readers did not foresee: still one line
        return st.session_state.get(_LAST_GOOD), f"unexpected {type(exc).__name__}: {exc}"
    st.session_state[_LAST_GOOD] = loaded
    return loaded, None


def report_days(
    filters: Filters, as_of_day: dt.date
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The date range for a report as of `as_of_day`: cut at that day; a range wholly after it
    (replaying an earlier day) falls back to the default window before it."""
    first, last = day_range(filters)
    end = pd.Timestamp(as_of_day)
    if last is None or last > end:
        last = end if first is not None else None
    if first is not None and last is not None and first > last:
        return None, None
    return first, last


@st.cache_resource(show_spinner=False, max_entries=32)
def _report(
    loaded_key: tuple, as_of: pd.Timestamp, filters: Filters, _loaded: Loaded
) -> FlowReport:
    # `_loaded` is not hashed (leading underscore): `loaded_key` identifies it.
    loaded = _loaded
    data = filter_flow_data(loaded.data, filters)
    day = local_day(as_of, loaded.workflow.timezone).date()
    first, last = report_days(filters, day)
    return flow_report(data, loaded.workflow, as_of, first, last)


def report(loaded: Loaded, filters: Filters, as_of: pd.Timestamp | None = None) -> FlowReport:
    """The flow report of the filtered data as of `as_of` (default: the data's own)."""
    return _report(loaded.key, loaded.as_of if as_of is None else as_of, filters, loaded)


@st.cache_resource(show_spinner=False, max_entries=8)
def _backtest(
    loaded_key: tuple, as_of: pd.Timestamp, filters: Filters, settings: tuple, _loaded: Loaded
) -> pd.DataFrame:
    window_days, types, trials, seed = settings
    facts = report(_loaded, filters, as_of).items
    events = filter_flow_data(_loaded.data, filters).events
    return forecast.backtest(
        events, facts["type"], _loaded.workflow, as_of, window_days, types, trials, seed
    )


def backtest(
    loaded: Loaded,
    filters: Filters,
    as_of: pd.Timestamp,
    window_days: int,
    types: tuple[str, ...],
    trials: int,
    seed: int,
) -> pd.DataFrame:
    """`metrics.forecast.backtest` of the filtered data (26 rebuilt past states: cached)."""
    settings = (window_days, types, trials, seed)
    return _backtest(loaded.key, as_of, filters, settings, loaded)


@st.cache_data(show_spinner=False, max_entries=64)
def how_many_outcomes(sample: pd.Series, days: int, trials: int, seed: int) -> pd.Series:
    """`metrics.forecast.how_many_trials`, cached by the sample's values and the settings."""
    return forecast.how_many_trials(sample, days, trials, seed)


@st.cache_data(show_spinner=False, max_entries=64)
def finish_days(sample: pd.Series, targets: tuple[int, ...], trials: int, seed: int):
    """`metrics.forecast.finish_day_trials`, cached by the sample's values and the settings."""
    return forecast.finish_day_trials(sample, list(targets), trials, seed)


def replay_moment(loaded: Loaded, day: dt.date | None) -> pd.Timestamp:
    """The end of a replayed local day (never after the data's own `as_of`)."""
    if day is None or day >= loaded.as_of_day:
        return loaded.as_of
    return end_of_day(day, loaded.workflow.timezone)


def set_wip_limit(setup: Setup, stage: str, limit: object, who: str, why: str) -> LimitChange:
    """Set one WIP limit through `connectors.limits.set_limit` (the workflow file rewritten in
    place, the change in the store's history), the code `flowdeck limits set` runs. Raises
    `FlowdeckError` with one line (bad input, unwritable file, store locked)."""
    if setup.demo or setup.config_path is None:
        raise FlowdeckError(
            "the demo data is read-only: start the dashboard with your own flowdeck.toml to "
            "set WIP limits"
        )
    change = set_limit(setup.config_path, stage, limit, who, why, db=setup.db_path,
                       team=setup.team or NO_TEAM)  # fmt: skip
    clear_caches()
    return change


@st.cache_resource(show_spinner=False)
def sync_runner(setup: Setup) -> SyncRunner | None:
    """The dashboard process's one sync runner (None for the demo: nothing to sync); it starts
    the `--sync-every` schedule the first time it is asked for."""
    if setup.config_path is None:
        return None
    runner = SyncRunner(setup.config_path, setup.db_path, setup.sync_every)
    runner.start_schedule()
    return runner


def clear_caches() -> None:
    """Forget cached data (after this process itself wrote to the store)."""
    _load.clear()
    _report.clear()
    _reconcile.clear()
