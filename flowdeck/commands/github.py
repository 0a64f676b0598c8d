"""`flowdeck init github`: a starter flowdeck.toml from a GitHub repository's own board."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from connectors.config import DEFAULT_CONFIG, config_from_table
from metrics.errors import ConfigError


@click.command("github")
@click.option("--repo", required=True, metavar="OWNER/NAME", help="The repository, e.g. acme/web.")
@click.option(
    "--project",
    type=int,
    default=None,
    metavar="N",
    help="Projects (v2) board number (from its URL .../projects/N).",
)
@click.option(
    "--status-from",
    "status_from",
    type=click.Choice(["project", "labels", "state"]),
    default=None,
    help="Where statuses come from (default: project with --project, else state).",
)
@click.option(
    "--project-owner",
    default="",
    metavar="LOGIN",
    help="Owner of the board when it is not the repository owner.",
)
@click.option(
    "--label-prefix",
    default="status: ",
    show_default=True,
    help="Prefix of the status labels (labels mode).",
)
@click.option(
    "--items",
    type=click.Choice(["issues", "pulls", "both"]),
    default="issues",
    show_default=True,
    help="Issues, pull requests, or both.",
)
@click.option(
    "--api-url",
    default="https://api.github.com",
    show_default=True,
    help="GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3).",
)
@click.option(
    "--token-env",
    default="GITHUB_TOKEN",
    show_default=True,
    help="Environment variable holding the token.",
)
@click.option(
    "--out",
    default=DEFAULT_CONFIG,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="File to write.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def init_github(
    repo: str,
    project: int | None,
    status_from: str | None,
    project_owner: str,
    label_prefix: str,
    items: str,
    api_url: str,
    token_env: str,
    out: str,
    force: bool,
) -> None:
    """Write a starter flowdeck.toml whose stages are the board's own statuses, in order."""
    # Imported here: PyGithub loads only when a GitHub command runs.
    from connectors.github.client import make_client
    from connectors.github.settings import parse_settings
    from connectors.github.starter import read_board, starter_toml, write_new_file
    from connectors.secrets import load_secrets, printable

    path = Path(out)
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    mode = status_from or ("project" if project is not None else "state")
    table: dict = {
        "repo": repo,
        "status_from": mode,
        "items": items,
        "label_prefix": label_prefix,
        "api_url": api_url,
        "token_env": token_env,
    }
    if project is not None:
        table["project"] = project
    if project_owner:
        table["project_owner"] = project_owner
    settings = parse_settings(table, "flowdeck init github")
    directory = path.resolve().parent
    client = make_client(settings, load_secrets(directory))
    board = read_board(client)
    text = starter_toml(settings, board)
    write_new_file(path, text, force)
    workflow = config_from_table(tomllib.loads(text)).workflow
    names = workflow.stage_names
    # The board's title and option names come from GitHub: no terminal escapes from them.
    click.echo(
        f"wrote {path}: {len(names)} stages from {printable(board.origin)}, start "
        f"'{printable(names[workflow.start])}', done '{printable(names[workflow.done])}'; review "
        "them and the WIP limits, then run `flowdeck sync`"
    )


def register(main: click.Group, init: click.Group) -> None:
    init.add_command(init_github)
