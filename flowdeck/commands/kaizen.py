"""`flowdeck kaizen`: before and after a change, in numbers and in words, packed into one zip
(spec section 7)."""

from __future__ import annotations

from pathlib import Path

import click

from connectors.atomic_write import write_atomically
from flowdeck.inputs import input_options, limit_history, load_inputs, parse_day
from metrics.errors import FlowdeckError, InputError

#: metrics.kaizen.DEFAULT_KAIZEN_DAYS, repeated so that building the CLI (`flowdeck --help`) does
#: not import metrics.kaizen (pandas, scipy); tests/test_cli_imports.py checks the two agree.
DEFAULT_KAIZEN_DAYS = 42


def register(main: click.Group, init: click.Group) -> None:
    @main.command("kaizen")
    @click.option(
        "--change", "change", required=True, metavar="YYYY-MM-DD",
        help="The local day the change took effect (the first day of the 'after' side).",
    )  # fmt: skip
    @click.option(
        "--days", "days", type=int, default=DEFAULT_KAIZEN_DAYS, show_default=True,
        help="Days on each side of the change (the 'after' side stops at the as-of day).",
    )  # fmt: skip
    @click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False),
        help="The zip to write: export files, kaizen.csv, wip_limits.csv, flowdeck.toml and "
        "report.html.",
    )  # fmt: skip
    @input_options
    def kaizen(change, days, out, **inputs):
        """Compare flow before and after a change and write the review pack (a zip)."""
        from dashboard.kaizen_pack import build_pack

        day = parse_day(change, "--change")
        target = Path(out)
        if target.suffix.lower() != ".zip":
            raise InputError(f"--out {out}: the pack is a zip file; name it something.zip")
        if not target.parent.is_dir():
            raise InputError(f"--out {out}: the folder {target.parent} does not exist")
        loaded = load_inputs(**inputs)
        changes = limit_history(loaded, inputs.get("demo", False), inputs.get("db"))
        pack = build_pack(loaded.config, loaded.data, loaded.as_of, day, days, changes)
        content = pack.zip_bytes()
        try:
            write_atomically(target, content)
        except OSError as exc:
            raise FlowdeckError(f"cannot write {target}: {exc.strerror or exc}") from None
        review = pack.review
        click.echo(f"Wrote {target.resolve()} ({len(pack.files)} files: {', '.join(pack.files)})")
        click.echo(f"Before  {review.before.label()}")
        click.echo(f"After   {review.after.label()}")
        table = review.table.set_index("metric")
        for metric, row in table.iterrows():
            if metric == "mann_whitney_p":
                continue
            click.echo(
                f"  {metric:<20} {_num(row['before']):>8} -> {_num(row['after']):>8}"
                f"  ({_num(row['change'], signed=True)})"
            )
        click.echo(f"Verdict: {review.verdict.text}")


def _num(value: float, signed: bool = False) -> str:
    if value != value:
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"
