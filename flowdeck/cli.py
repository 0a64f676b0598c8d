"""The `flowdeck` console script.

Errors the user can fix (`FlowdeckError`) print as one line on stderr with exit code 1; any other
failure prints one line too, and the traceback only with `--debug`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

import click

from connectors.secrets import scrub, scrub_logs, strip_controls
from flowdeck import commands
from metrics.errors import FlowdeckError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the full traceback when something fails.")
@click.version_option(package_name="flowdeck")
def cli(debug: bool) -> None:
    """Flowdeck: Kanban and lean flow metrics from GitHub, Jira or CSV files."""


@cli.group()
def init() -> None:
    """Write a starter flowdeck.toml for a source (reviews the board's own stages)."""


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(cli, init)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    scrub_logs()
    try:
        cli.main(args=args, prog_name="flowdeck", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except FlowdeckError as exc:
        if debug:
            return _traceback()
        click.echo(f"error: {strip_controls(exc)}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # the last line of defence: one line, traceback only on request
        if debug:
            return _traceback()
        click.echo(
            f"error: unexpected {type(exc).__name__}: {strip_controls(exc)} (run with --debug "
            "for details)",
            err=True,
        )
        return 1
    return 0


def _traceback() -> int:
    # Printed by us rather than by Python so that it is scrubbed like every other output.
    click.echo(scrub(traceback.format_exc()).rstrip("\n"), err=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
