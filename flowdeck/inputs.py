"""The input flags every analysing command shares (`export`, `forecast`, `kaizen`, `explain`, ...).

`input_options` adds `--config --events --stage-dates --deployments --map --as-of --demo --db` to a
click command; `load_inputs` turns those values into the workflow, the data and the `as_of` moment.
Heavy modules (pandas, the connectors) are imported inside the functions so that merely building
the CLI (for `--help`) stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from metrics.errors import ConfigError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from connectors.config import Config
    from metrics.frames import FlowData

INPUT_KEYS = (
    "config_path",
    "events",
    "stage_dates",
    "deployments",
    "mapping",
    "as_of",
    "demo",
    "db",
    "team",
)


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared input flags; the command receives them as keyword arguments (INPUT_KEYS)."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            help="Workflow file (default: ./flowdeck.toml).",
        ),
        click.option("--events", type=click.Path(dir_okay=False), help="Event-log CSV (spec 1.1)."),
        click.option(
            "--stage-dates",
            type=click.Path(dir_okay=False),
            help="Stage-date CSV, ActionableAgile layout (spec 1.2).",
        ),
        click.option(
            "--deployments", type=click.Path(dir_okay=False), help="Deployments CSV (spec 1.3)."
        ),
        click.option(
            "--map",
            "mapping",
            metavar="NAME=COLUMN,...",
            help="Read event-log columns under other names, e.g. item_id=issue_key.",
        ),
        click.option(
            "--as-of",
            "as_of",
            metavar="YYYY-MM-DD",
            help="Describe the end of this local day; later events are ignored.",
        ),
        click.option("--demo", is_flag=True, help="Use the built-in demo data and its workflow."),
        click.option(
            "--db", help="Store to read when no CSV is given (default: beside the config)."
        ),
        click.option(
            "--team",
            metavar="NAME",
            help="With a portfolio file as --config: this team's workflow and sources.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class Inputs:
    """What an analysing command works on: the workflow, the data and the moment described."""

    config: Config
    data: FlowData
    as_of: pd.Timestamp
    team: str | None = None
    """`--team`: the team of the portfolio whose workflow and sources these are."""
    store_dir: Path | None = None
    """With `--team`: the portfolio's folder, where its shared store is by default."""


def parse_day(value: str | None, option: str) -> pd.Timestamp | None:
    """`YYYY-MM-DD` from a flag as a naive day, or None; a bad value names the flag."""
    import pandas as pd

    if value is None:
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(value))
    except ValueError:
        raise InputError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def resolve_config(config_path: str | None, demo: bool) -> Config:
    """The workflow: --config, else the demo's with --demo, else ./flowdeck.toml."""
    from connectors.config import DEFAULT_CONFIG, find_config_path, load_config

    if config_path is None and demo:
        from connectors.demo import demo_config

        return demo_config()
    path = find_config_path(config_path)
    if path is not None:
        return load_config(path)
    raise ConfigError(
        f"no workflow file: {DEFAULT_CONFIG} is not in this folder; pass --config PATH, "
        "or try --demo for the built-in demo data"
    )


def resolve_team(config_path: str | None, team: str) -> tuple[Config, Path]:
    """`--config PORTFOLIO --team NAME`: the team's workflow (its own file, with its sources)
    and the portfolio's folder (where the shared store is by default). One-line errors when the
    file is not a portfolio or has no such team."""
    from connectors.config import find_config_path
    from connectors.portfolio import is_portfolio, load_portfolio

    path = find_config_path(config_path)
    if not is_portfolio(path):
        raise ConfigError(
            f"--team {team}: {path or 'no ./flowdeck.toml'} is not a portfolio file "
            "(one with [[teams]], see docs/teams.md); drop --team for a single team"
        )
    portfolio = load_portfolio(path)
    return portfolio.team(team).config, portfolio.directory


def resolve_as_of(config: Config, as_of: str | None, demo: bool) -> pd.Timestamp:
    """The end of the --as-of local day; the demo's own last moment; else now (UTC)."""
    import pandas as pd

    from metrics.days import end_of_day

    day = parse_day(as_of, "--as-of")
    if day is not None:
        return end_of_day(day.date(), config.workflow.timezone)
    if demo:
        from connectors.demo import DEMO_AS_OF

        return DEMO_AS_OF
    return pd.Timestamp.now(tz="UTC")


def load_data(
    config: Config,
    demo: bool,
    events: str | None,
    stage_dates: str | None,
    deployments: str | None,
    mapping: str | None,
    db: str | None,
    sources: list[str] | None = None,
    store_dir: Path | None = None,
    team: str | None = None,
) -> FlowData:
    """Demo data, CSV files given on the command line, or else the store (only `sources` of
    it when given; the store beside `store_dir` rather than beside the workflow file; hand
    edits of the limits recorded in `team`'s history)."""
    if demo and (events or stage_dates or deployments or db):
        raise InputError(
            "--demo uses the built-in data: drop --events/--stage-dates/"
            "--deployments/--db, or drop --demo"
        )
    if demo:
        from connectors.demo import demo_flow_data

        return demo_flow_data()
    if events or stage_dates or deployments:
        from connectors.csv_files import parse_mapping
        from connectors.inputs import read_csv_inputs

        return read_csv_inputs(
            config,
            events=Path(events) if events else None,
            stage_dates=Path(stage_dates) if stage_dates else None,
            deployments=Path(deployments) if deployments else None,
            mapping=parse_mapping(mapping) if mapping else None,
        )
    from connectors.store import NO_TEAM, open_store, store_exists

    path = store_location(config, db, store_dir)
    if not store_exists(path):
        raise InputError(
            f"no data: no --events/--stage-dates/--deployments given and no store at {path} "
            "(run `flowdeck import FILE --source NAME` or `flowdeck sync` first, or use --demo)"
        )
    from connectors.limits import reconcile_if_possible

    with open_store(path, create=False) as store:
        # Reading the workflow file with its store: a hand edit of a limit is recorded now,
        # in the team's own history (another team's limits are not compared with it).
        reconcile_if_possible(config, store, team or NO_TEAM)
        return store.read_flow_data(sources)


def store_location(config: Config, db: str | None, store_dir: Path | None = None):
    """The store: --db, else $FLOWDECK_DB, else `.flowdeck/flowdeck.db` beside the workflow
    file, or beside `store_dir` (a portfolio's folder, for one of its teams)."""
    from connectors.store import default_db_path, resolve_db_path

    path = resolve_db_path(config if config.path else None, db)
    if store_dir is not None and db is None and path == default_db_path(config.directory):
        path = default_db_path(store_dir)
    return path


def load_inputs(
    config_path: str | None = None,
    events: str | None = None,
    stage_dates: str | None = None,
    deployments: str | None = None,
    mapping: str | None = None,
    as_of: str | None = None,
    demo: bool = False,
    db: str | None = None,
    team: str | None = None,
) -> Inputs:
    """The workflow, the data and the moment, from the values of `input_options`.

    `team`: `config_path` (or ./flowdeck.toml) is a portfolio file; the team's workflow file
    and its sources' rows of the portfolio's store are used (docs/teams.md)."""
    sources: list[str] | None = None
    store_dir: Path | None = None
    if team is not None:
        if demo:
            raise InputError("--team reads a portfolio's store: drop --demo")
        config, store_dir = resolve_team(config_path, team)
        if not (events or stage_dates or deployments):
            sources = [s.name for s in config.sources]
    else:
        config = resolve_config(config_path, demo)
    moment = resolve_as_of(config, as_of, demo)
    data = load_data(config, demo, events, stage_dates, deployments, mapping, db, sources,
                     store_dir, team)  # fmt: skip
    if data.events.empty:
        raise InputError("no events to report on: the input holds no status events")
    return Inputs(config=config, data=data, as_of=moment, team=team, store_dir=store_dir)


def limit_history(loaded: Inputs, demo: bool, db: str | None):
    """The WIP-limit history with its `why`: the demo's, else the store's when there is one
    (beside the workflow file, or --db; a team's own history in its portfolio's store), else
    None (the pack then lists the file's limits)."""
    if demo:
        from connectors.demo import demo_wip_limit_changes

        return demo_wip_limit_changes()
    from connectors.store import NO_TEAM, open_store, store_exists

    path = store_location(loaded.config, db, loaded.store_dir)
    if not store_exists(path):
        return None
    with open_store(path, create=False) as store:
        return store.wip_limit_changes(loaded.team or NO_TEAM)
