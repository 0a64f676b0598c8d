"""`flowdeck limits` (today's WIP limits and their history) and `flowdeck limits set`.

`set` goes through `connectors.limits.set_limit`, the code the dashboard's WIP limits page
calls. The history's `who` and `why` are untrusted text: printed plainly, never as markup.
"""

from __future__ import annotations

import getpass

import click

from metrics.errors import ConfigError, InputError


def _config_path(path: str | None):
    from connectors.config import DEFAULT_CONFIG, find_config_path

    found = find_config_path(path)
    if found is None:
        raise ConfigError(
            f"no workflow file: {DEFAULT_CONFIG} is not in this folder; pass --config PATH"
        )
    return found


def _workflow_and_store(config_path: str | None, db: str | None, team: str | None):
    """The workflow file's config and its store; with `--team`, the team's own workflow file
    of the portfolio `config_path` and the portfolio's shared store."""
    from connectors.config import load_config
    from flowdeck.inputs import resolve_team, store_location

    if team is None:
        config = load_config(_config_path(config_path))
        return config, store_location(config, db)
    config, store_dir = resolve_team(config_path, team)
    return config, store_location(config, db, store_dir)


def _default_who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return ""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def register(main: click.Group, init: click.Group) -> None:
    @main.group("limits", invoke_without_command=True)
    @click.option("--config", "config_path", type=click.Path(dir_okay=False),
                  help="Workflow file (default: ./flowdeck.toml).")  # fmt: skip
    @click.option("--db", help="Store holding the history (default: beside the config).")
    @click.option(
        "--team", metavar="NAME", help="With a portfolio file as --config: that team's limits."
    )
    @click.option("--demo", is_flag=True, help="Show the built-in demo team's limits.")
    @click.pass_context
    def limits(ctx, config_path, db, team, demo):
        """Today's WIP limits (from the workflow file) and the history of every change."""
        ctx.ensure_object(dict)
        ctx.obj.update(config_path=config_path, db=db, team=team)
        if demo and team is not None:
            raise InputError("--team reads a portfolio's store: drop --demo")
        if ctx.invoked_subcommand is not None:
            return
        from connectors.limits import reconcile, shown
        from connectors.store import NO_TEAM, open_store, store_exists
        from metrics.limits import TOTAL, configured_limits

        history = None
        if demo:
            from connectors.demo import demo_config, demo_wip_limit_changes

            config, history, where = demo_config(), demo_wip_limit_changes(), "the demo"
        else:
            config, path = _workflow_and_store(config_path, db, team)
            where = str(config.path) if team is None else f"team {team} ({config.path})"
            if store_exists(path):
                with open_store(path, create=False) as store:
                    reconcile(config, store, team or NO_TEAM)
                    history = store.wip_limit_changes(team or NO_TEAM)
        click.echo(f"WIP limits in {where}:")
        for key, limit in configured_limits(config.workflow).items():
            label = "total (all work in progress)" if key == TOTAL else key
            click.echo(f"  {_one_line(label):<32} {shown(limit)}")
        if history is None or history.empty:
            click.echo("No change recorded yet (`flowdeck limits set STAGE N --why TEXT`).")
            return
        plural = "" if len(history) == 1 else "s"
        click.echo(
            f"History ({len(history)} change{plural}, oldest first, times in "
            f"{config.workflow.timezone}):"
        )
        local = history["changed_at"].dt.tz_convert(config.workflow.timezone)
        for when, row in zip(local, history.itertuples(index=False), strict=True):
            click.echo(
                f"  {when:%Y-%m-%d %H:%M}  {_one_line(row.stage)}: {shown(_int(row.old_limit))} "
                f"-> {shown(_int(row.new_limit))}  by {_one_line(row.who)}: {_one_line(row.why)}"
            )

    @limits.command("set")
    @click.argument("stage")
    @click.argument("limit", metavar="N")
    @click.option("--why", help="The hypothesis, e.g. 'we expect review waits to halve' "
                  "(required).")  # fmt: skip
    @click.option("--who", help="Who decided (default: your user name).")
    @click.pass_context
    def set_(ctx, stage, limit, why, who):
        """Set STAGE's WIP limit to N (`total` for the workflow's limit, `none` to remove one).

        Rewrites that one key in the workflow file, keeping its comments and layout, and records
        the change with who and why in the store's history."""
        from connectors.limits import set_limit
        from connectors.store import NO_TEAM

        if why is None or not why.strip():
            raise InputError(
                "--why is required: say what you expect the change to do (the experiment's "
                "hypothesis); nothing changed"
            )
        team = ctx.obj.get("team")
        if team is None:
            config_path, db = _config_path(ctx.obj.get("config_path")), ctx.obj.get("db")
        else:
            config, db = _workflow_and_store(ctx.obj.get("config_path"), ctx.obj.get("db"), team)
            config_path = config.path
        change = set_limit(
            config_path, stage, limit, who if who is not None else _default_who(), why,
            db=db, team=team or NO_TEAM,
        )  # fmt: skip
        click.echo(change.describe())


def _int(value) -> int | None:
    import pandas as pd

    return None if pd.isna(value) else int(value)
