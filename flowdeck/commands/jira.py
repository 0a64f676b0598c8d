"""`flowdeck init jira`: write a starter flowdeck.toml from a Jira board or query."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from connectors.atomic_write import write_atomically
from connectors.config import DEFAULT_CONFIG
from metrics.errors import ConfigError


@click.command("jira")
@click.option("--url", required=True, help="The Jira site, e.g. https://acme.atlassian.net.")
@click.option("--jql", required=True, help='The issues to pull, e.g. "project = ABC".')
@click.option("--board", type=int, default=None, help="Take the stages from this board's columns.")
@click.option("--name", "source_name", default=None, help="Source name (default: the project).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DEFAULT_CONFIG),
    show_default=True,
    help="Where to write the workflow file.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def init_jira(
    url: str, jql: str, board: int | None, source_name: str | None, out: Path, force: bool
) -> None:
    """Write a starter flowdeck.toml whose stages follow your Jira board.

    With --board, the stages are the board's columns in order, with their statuses and WIP
    limits; without it, the statuses your query's issues use, grouped by Jira's status
    category. Credentials: JIRA_EMAIL and JIRA_TOKEN (Cloud) or JIRA_TOKEN (Data Center).
    """
    # Imported here so that `flowdeck --help` never loads the jira library.
    from connectors.config import config_from_table
    from connectors.jira.calls import printable
    from connectors.jira.client import make_client
    from connectors.jira.settings import parse
    from connectors.jira.starter import draft, render
    from connectors.secrets import load_secrets

    if out.exists() and not force:
        raise ConfigError(f"{out} already exists; pass --force to overwrite it")
    settings = parse({"url": url, "jql": jql}, "flowdeck init jira")
    secrets = load_secrets(out.resolve().parent)
    client = make_client(settings, secrets)
    try:
        starter = draft(client, settings, board, source_name)
    finally:
        client.close()
    text = render(starter)
    # The file must load as it is written: check it with the same code `flowdeck` reads it with.
    config_from_table(tomllib.loads(text), out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, text)
    stages = printable(", ".join(s.name for s in starter.stages))
    click.echo(
        f"Wrote {out}: {len(starter.stages)} stages from the {starter.origin} of "
        f"{starter.deployment} ({stages}); start = {printable(starter.start)!r}, "
        f"done = {printable(starter.done)!r}."
    )
    click.echo(
        "Review the lines marked REVIEW in it, then run `flowdeck sync` and `flowdeck dashboard`."
    )


def register(main: click.Group, init: click.Group) -> None:
    init.add_command(init_jira)
