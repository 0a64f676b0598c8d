"""`flowdeck export`: the CSV files of spec section 4 for a kaizen review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd

from connectors.config import DEFAULT_CONFIG, Config, find_config_path, load_config
from connectors.csv_files import parse_mapping, write_csv
from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data
from connectors.inputs import read_csv_inputs
from metrics.days import end_of_day
from metrics.errors import ConfigError, FlowdeckError, InputError
from metrics.export_tables import export_tables
from metrics.frames import FlowData
from metrics.report import FlowReport, flow_report


def parse_day(value: str | None, option: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(value))
    except ValueError:
        raise InputError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def resolve_config(config_path: str | None, demo: bool) -> Config:
    """The workflow: --config, else the demo's with --demo, else ./flowdeck.toml."""
    if config_path is None and demo:
        return demo_config()
    path = find_config_path(config_path)
    if path is not None:
        return load_config(path)
    raise ConfigError(
        f"no workflow file: {DEFAULT_CONFIG} is not in this folder; pass --config PATH, "
        "or try --demo for the built-in demo data"
    )


def load_data(
    config: Config,
    demo: bool,
    events: str | None,
    stage_dates: str | None,
    deployments: str | None,
    mapping: str | None,
    db: str | None,
) -> FlowData:
    """Demo data, CSV files given on the command line, or else the store."""
    if demo and (events or stage_dates or deployments or db):
        raise InputError(
            "--demo uses the built-in data: drop --events/--stage-dates/"
            "--deployments/--db, or drop --demo"
        )
    if demo:
        return demo_flow_data()
    if events or stage_dates or deployments:
        return read_csv_inputs(
            config,
            events=Path(events) if events else None,
            stage_dates=Path(stage_dates) if stage_dates else None,
            deployments=Path(deployments) if deployments else None,
            mapping=parse_mapping(mapping) if mapping else None,
        )
    from connectors.store import open_store, resolve_db_path

    path = resolve_db_path(config if config.path else None, db)
    if not path.is_file():
        raise InputError(
            f"no data: no --events/--stage-dates/--deployments given and no store at {path} "
            "(run `flowdeck import FILE --source NAME` or `flowdeck sync` first, or use --demo)"
        )
    with open_store(path, create=False) as store:
        return store.read_flow_data()


def summary_lines(report: FlowReport) -> list[str]:
    values = dict(zip(report.summary["metric"], report.summary["value"], strict=True))

    def fmt(key: str, digits: int = 1) -> str:
        value = values.get(key)
        return "n/a" if value is None or pd.isna(value) else f"{value:.{digits}f}"

    return [
        f"Days {report.first_day.date()} to {report.last_day.date()}, as of "
        f"{report.as_of.strftime('%Y-%m-%d %H:%M')} UTC",
        f"Cycle time      p50 {fmt('cycle_time_p50')} days, p85 {fmt('cycle_time_p85')} days "
        f"(SLE), from {fmt('reference_items_for_percentiles', 0)} delivered items",
        f"Throughput      {fmt('throughput_per_week')} items per week",
        f"WIP now         {fmt('items_in_progress', 0)} items in progress "
        f"(average {fmt('wip_avg')})",
        f"Over the SLE    {fmt('items_over_sle', 0)} items in progress are older than "
        f"{fmt('sle_days')} days",
    ]


def register(main: click.Group, init: click.Group) -> None:
    @main.command("export")
    @click.option(
        "--out",
        "out",
        required=True,
        type=click.Path(file_okay=False),
        help="Folder to write the CSV files into (created if missing).",
    )
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="Workflow file (default: ./flowdeck.toml).",
    )
    @click.option("--events", type=click.Path(dir_okay=False), help="Event-log CSV (spec 1.1).")
    @click.option(
        "--stage-dates",
        type=click.Path(dir_okay=False),
        help="Stage-date CSV, ActionableAgile layout (spec 1.2).",
    )
    @click.option(
        "--deployments", type=click.Path(dir_okay=False), help="Deployments CSV (spec 1.3)."
    )
    @click.option(
        "--map",
        "mapping",
        metavar="NAME=COLUMN,...",
        help="Read event-log columns under other names, e.g. item_id=issue_key.",
    )
    @click.option(
        "--as-of",
        "as_of",
        metavar="YYYY-MM-DD",
        help="Describe the end of this local day; later events are ignored.",
    )
    @click.option("--from", "first", metavar="YYYY-MM-DD", help="First day of daily.csv/cfd.csv.")
    @click.option("--to", "last", metavar="YYYY-MM-DD", help="Last day of daily.csv/cfd.csv.")
    @click.option("--demo", is_flag=True, help="Use the built-in demo data and its workflow.")
    @click.option("--db", help="Store to read when no CSV is given (default: beside the config).")
    def export(out, config_path, events, stage_dates, deployments, mapping, as_of, first, last,
               demo, db):  # fmt: skip
        """Write items, daily, cfd, stage_times, deployments, summary and actionable_agile CSVs."""
        config = resolve_config(config_path, demo)
        tz = config.workflow.timezone
        first_day, last_day = parse_day(first, "--from"), parse_day(last, "--to")
        if first_day is not None and last_day is not None and first_day > last_day:
            raise InputError(f"--from {first} is after --to {last}")
        as_of_day = parse_day(as_of, "--as-of")
        if as_of_day is not None:
            moment = end_of_day(as_of_day.date(), tz)
        elif demo:
            moment = DEMO_AS_OF
        else:
            moment = pd.Timestamp.now(tz="UTC")
        data = load_data(config, demo, events, stage_dates, deployments, mapping, db)
        if data.events.empty:
            raise InputError("no events to report on: the input holds no status events")
        report = flow_report(data, config.workflow, moment, first_day, last_day)
        tables = export_tables(report, config.workflow)
        folder = Path(out)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, frame in tables.items():
                write_csv(frame, folder / name)
        except OSError as exc:
            raise FlowdeckError(f"cannot write to {folder}: {exc.strerror or exc}") from None
        click.echo(f"Wrote {len(tables)} files to {folder.resolve()}: {', '.join(tables)}")
        for line in summary_lines(report):
            click.echo(line)
