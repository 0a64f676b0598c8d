"""The architecture's rules, checked: import boundaries, no grab-bag modules, documented keys."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from metrics.workflow import DELIVERY_KEYS, STAGE_KEYS, WORKFLOW_KEYS

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_metrics_is_pure_and_independent():
    for path in python_files("metrics"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top not in {"connectors", "dashboard", "streamlit", "sqlite3", "github",
                               "jira", "requests", "plotly"}, f"{path} imports {name}"  # fmt: skip
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bopen\(|read_csv|to_csv|Timestamp\.now|datetime\.now", text), path


def test_streamlit_only_under_dashboard():
    # Product code only: the tests and the benchmark drive the app through Streamlit's AppTest.
    for folder in ("metrics", "connectors"):
        for path in python_files(folder):
            assert not any(n.split(".")[0] == "streamlit" for n in imports_of(path)), path


def test_no_grab_bag_modules():
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts:
            continue
        assert path.stem not in {"utils", "helpers", "misc", "common"}, path


def test_every_workflow_key_is_documented():
    doc = (ROOT / "docs" / "workflow.md").read_text(encoding="utf-8")
    for key in (*WORKFLOW_KEYS, *STAGE_KEYS, *DELIVERY_KEYS):
        assert re.search(rf"`{key}`", doc), f"docs/workflow.md does not document `{key}`"


def test_every_source_option_is_documented():
    """Each kind's keys appear as `key` in its doc: a new option without docs fails here."""
    from connectors import csv_source
    from connectors.github import settings as github_settings
    from connectors.jira import settings as jira_settings

    docs = {
        "store.md": csv_source.KEYS,
        "github.md": github_settings.KEYS,
        "jira.md": jira_settings.KEYS,
    }
    for name, keys in docs.items():
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        for key in ("name", "kind", *keys):
            assert f"`{key}`" in text, f"docs/{name} does not document `{key}`"


def test_every_command_has_help(capsys):
    import click

    from flowdeck.cli import cli, main

    def walk(group: click.Group, path: list[str]):
        for name, command in group.commands.items():
            yield [*path, name]
            if isinstance(command, click.Group):
                yield from walk(command, [*path, name])

    paths = list(walk(cli, []))
    assert {"export", "sync", "import", "status", "dashboard", "init"} <= {p[0] for p in paths}
    assert ["init", "github"] in paths and ["init", "jira"] in paths
    for path in paths:
        assert main([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert "Usage:" in out and len(out.splitlines()) > 3, path


def test_commands_named_in_docs_and_messages_exist():
    """Every `flowdeck WORD` in the docs, the README and the code names a real command."""
    from flowdeck.cli import cli

    prose = {"workflow", "store", "is", "and", "the", "reads", "writes"}
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    files += [
        p for f in ("metrics", "connectors", "dashboard", "flowdeck") for p in python_files(f)
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for word in re.findall(r"\bflowdeck (?:--debug )?([a-z][a-z-]+)\b", text):
            assert word in cli.commands or word in prose, f"{path.name}: `flowdeck {word}`"


def test_every_dashboard_key_is_documented():
    from connectors.config import DASHBOARD_KEYS

    doc = (ROOT / "docs" / "dashboard.md").read_text(encoding="utf-8")
    for key in ("[dashboard]", *DASHBOARD_KEYS):
        assert f"`{key}`" in doc, f"docs/dashboard.md does not document `{key}`"
