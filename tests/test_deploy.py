"""docs/compose.yaml runs the commands the tests run: each `flowdeck` command in it parses with
Flowdeck's own CLI, and the ones that matter for a deployment are there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from flowdeck.cli import cli

COMPOSE = Path(__file__).resolve().parents[1] / "docs" / "compose.yaml"


def compose_commands() -> list[list[str]]:
    """The `command: [...]` lists of the compose file (JSON arrays in YAML, maybe wrapped)."""
    text = COMPOSE.read_text(encoding="utf-8")
    found = re.findall(r"^\s+command: (\[.*?\])\s*$", text, flags=re.M | re.S)
    return [json.loads(" ".join(item.split())) for item in found]


def test_the_compose_files_commands_are_valid_flowdeck_commands():
    commands = compose_commands()
    assert [c[:2] for c in commands] == [
        ["flowdeck", "db"], ["flowdeck", "sync"], ["flowdeck", "dashboard"]
    ]  # fmt: skip
    for argv in commands:
        # Parse (without running) with the real CLI: an unknown option or a bad value fails.
        context = cli.make_context("flowdeck", argv[1:2], resilient_parsing=False)
        command = cli.get_command(context, argv[1])
        args = argv[2:]
        while isinstance(command, click.Group):
            command, args = command.get_command(context, args[0]), args[1:]
        command.make_context(argv[1], list(args))
    sync = next(c for c in commands if c[1] == "sync")
    assert "--every" in sync and "--db" not in sync  # the URL comes from FLOWDECK_DB
    dashboard = next(c for c in commands if c[1] == "dashboard")
    assert "--sync-every" not in dashboard and "0.0.0.0" in dashboard


def test_no_credential_is_written_into_the_compose_file():
    text = COMPOSE.read_text(encoding="utf-8")
    assert "env_file: flowdeck.env" in text
    assert not re.search(r"postgresql://\w+:(?!PASSWORD@)[^@\s]+@", text)
