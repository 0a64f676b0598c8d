"""`flowdeck export`: the CSV files of spec section 4 for a kaizen review."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowdeck.inputs import input_options, load_inputs, parse_day
from metrics.errors import FlowdeckError, InputError

if TYPE_CHECKING:
    from metrics.report import FlowReport


def summary_lines(report: FlowReport) -> list[str]:
    import pandas as pd  # here, not at the top: `flowdeck --help` must not load pandas

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
    @input_options
    @click.option("--from", "first", metavar="YYYY-MM-DD", help="First day of daily.csv/cfd.csv.")
    @click.option("--to", "last", metavar="YYYY-MM-DD", help="Last day of daily.csv/cfd.csv.")
    def export(out, first, last, **inputs):
        """Write the export's eight CSV files: items, daily, cfd, summary, pull_requests, ..."""
        from connectors.csv_files import write_csv_set
        from metrics.days import local_day
        from metrics.export_tables import export_tables
        from metrics.report import flow_report

        first_day, last_day = parse_day(first, "--from"), parse_day(last, "--to")
        if first_day is not None and last_day is not None and first_day > last_day:
            raise InputError(f"--from {first} is after --to {last}")
        loaded = load_inputs(**inputs)
        config, data, moment = loaded.config, loaded.data, loaded.as_of
        as_of_day = local_day(moment, config.workflow.timezone)
        shown = f"{as_of_day:%Y-%m-%d}"
        named = f"--as-of {shown}" if inputs.get("as_of") else f"today ({shown})"
        if first_day is not None and first_day > as_of_day:
            raise InputError(f"--from {first} is after {named}: no day to report")
        if last_day is not None and last_day > as_of_day:
            # Days after as_of would count the WIP as 0 and dilute every average.
            click.echo(f"note: --to {last} is after {named}: the days stop at {shown}", err=True)
            last_day = as_of_day
        report = flow_report(data, config.workflow, moment, first_day, last_day)
        tables = export_tables(report, config.workflow)
        folder = Path(out)
        try:
            write_csv_set(tables, folder)
        except OSError as exc:
            raise FlowdeckError(
                f"cannot write to {folder}: {exc.strerror or exc}; the files already there are "
                "unchanged"
            ) from None
        click.echo(f"Wrote {len(tables)} files to {folder.resolve()}: {', '.join(tables)}")
        for line in summary_lines(report):
            click.echo(line)
