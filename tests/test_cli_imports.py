"""What the `flowdeck` command loads: `--help`, `--version`, `init` and `status` must not import
pandas, plotly or streamlit, and a workflow file that names GitHub and Jira sources imports only
their settings modules, not PyGithub or jira, for a command that merely reads it.

Each command runs in a fresh interpreter (the test process has imported everything already) that
reports its `sys.modules` after the command returned.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.demo import DEMO_WORKFLOW_TOML
from tests.fake_github import TOKEN, FakeGithub, FakeItem, FakeProject, FakeRepo
from tests.fake_github.harness import need_schema
from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import small_flow

REPO = Path(__file__).resolve().parents[1]
HEAVY = {"pandas", "numpy", "plotly", "streamlit", "scipy", "pyarrow"}
PROBE = """
import json, sys
from flowdeck.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def probe(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, set, str]:
    """What `flowdeck ARGS` returned in a fresh interpreter, the modules it then held, and what
    it printed (stdout and stderr)."""
    report = tmp_path / "modules.json"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(report.read_text())
    return result["code"], set(result["modules"]), run.stdout + run.stderr


def loaded(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter holds after running `flowdeck ARGS` successfully."""
    code, modules, output = probe(tmp_path, *args, env=env)
    assert code == 0, output
    return modules


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def clean_env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDECK_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["init", "--help"]])
def test_help_and_version_load_no_heavy_library(tmp_path, args):
    modules = loaded(tmp_path, *args, env=clean_env())
    assert not roots(modules) & (HEAVY | {"github", "jira", "rich"}), sorted(roots(modules) & HEAVY)
    assert "flowdeck.commands.export" in modules  # the probe did build the whole CLI


def test_init_github_loads_pygithub_but_no_pandas(tmp_path):
    need_schema()
    with FakeGithub() as fake:
        repo = fake.add_repo(FakeRepo(owner="acme", name="web"))
        repo.project = FakeProject(number=3, owner="acme", title="Board",
                                   options=["Todo", "Doing", "Done"])  # fmt: skip
        modules = loaded(
            tmp_path, "init", "github", "--repo", "acme/web", "--project", "3",
            "--api-url", fake.url, env=clean_env(GITHUB_TOKEN=TOKEN),
        )  # fmt: skip
    assert (tmp_path / "flowdeck.toml").is_file()
    assert "github" in roots(modules)
    assert not roots(modules) & (HEAVY | {"jira"}), sorted(roots(modules) & (HEAVY | {"jira"}))


def test_init_jira_loads_jira_but_no_pandas(tmp_path):
    with FakeJira(world_from_flow(small_flow()), mode="cloud") as fake:
        modules = loaded(
            tmp_path, "init", "jira", "--url", fake.url, "--jql", "project = ABC",
            env=clean_env(**fake.secrets),
        )  # fmt: skip
    assert (tmp_path / "flowdeck.toml").is_file()
    assert "jira" in roots(modules)
    assert not roots(modules) & (HEAVY | {"github"}), sorted(roots(modules) & (HEAVY | {"github"}))


def test_a_workflow_file_imports_only_the_settings_of_its_kinds(tmp_path):
    """`status` reads the workflow file and the store, and connects to nothing."""
    (tmp_path / "flowdeck.toml").write_text(
        DEMO_WORKFLOW_TOML
        + '\n[[sources]]\nname = "web"\nkind = "github"\nrepo = "acme/web"\n'
        + '\n[[sources]]\nname = "abc"\nkind = "jira"\nurl = "https://acme.atlassian.net"\n'
        + 'jql = "project = ABC"\n',
        encoding="utf-8",
    )
    from connectors.store import open_store

    open_store(tmp_path / "s.db").close()
    modules = loaded(tmp_path, "status", "--db", str(tmp_path / "s.db"), env=clean_env())
    assert {"connectors.github.settings", "connectors.jira.settings"} <= modules
    kinds = {m for m in modules if m.startswith(("connectors.github", "connectors.jira"))}
    assert kinds == {
        "connectors.github", "connectors.github.settings",
        "connectors.jira", "connectors.jira.settings",
    }  # fmt: skip
    assert not roots(modules) & {"github", "jira", "plotly", "streamlit"}


def test_status_of_a_synced_store_loads_no_heavy_library(tmp_path, db):
    """The store (on each engine) holds a synced GitHub source; status shows it, with pandas,
    the frame readers and the sync loop left unloaded."""
    need_schema()
    from connectors.config import load_config
    from connectors.sync import sync_sources

    with FakeGithub() as fake:
        repo = fake.add_repo(FakeRepo(owner="acme", name="web"))
        for n in (1, 2, 3):
            repo.add(FakeItem(n, f"Issue {n}", f"2026-03-0{n}T09:00:00Z"))
        config = tmp_path / "flowdeck.toml"
        config.write_text(
            DEMO_WORKFLOW_TOML
            + '\n[[sources]]\nname = "web"\nkind = "github"\nrepo = "acme/web"\n'
            + f'api_url = "{fake.url}"\nretries = 0\n',
            encoding="utf-8",
        )
        (result,) = sync_sources(load_config(config), db, secrets={"GITHUB_TOKEN": TOKEN})
    assert result.ok, result.error
    code, modules, output = probe(tmp_path, "status", "--db", db, env=clean_env())
    assert code == 0, output
    (row,) = [line.split("│") for line in output.splitlines() if line.startswith("web ")]
    source, kind, last_sync, outcome, items = (cell.strip() for cell in row[:5])
    # What status read from the store: the source, its kind, when and how it synced, its items.
    assert (source, kind, outcome, items) == ("web", "github", "ok", "3"), output
    assert last_sync.startswith("20"), output
    assert not roots(modules) & (HEAVY | {"github", "jira"}), sorted(roots(modules) & HEAVY)
    assert "connectors.sync" not in modules


def test_status_without_a_store_loads_no_heavy_library(tmp_path, engine, request):
    """No store yet: one line that says how to make one, and nothing heavy loaded for it."""
    if engine == "sqlite":
        where, expected = str(tmp_path / "none.db"), "no Flowdeck store at"
    else:
        where, expected = request.getfixturevalue("pg_url"), "no Flowdeck store in"
    code, modules, output = probe(tmp_path, "status", "--db", where, env=clean_env())
    assert code == 1 and expected in output and "Traceback" not in output, output
    assert not roots(modules) & HEAVY, sorted(roots(modules) & HEAVY)


@pytest.mark.parametrize(
    "command, library, name",
    [
        ("kaizen", "kaizen", "DEFAULT_KAIZEN_DAYS"),
        ("forecast", "forecast", "DEFAULT_SEED"),
        ("forecast", "forecast", "DEFAULT_TRIALS"),
        ("forecast", "forecast", "DEFAULT_WINDOW_DAYS"),
    ],
)
def test_a_default_the_cli_shows_is_the_metrics_default(command, library, name):
    """The commands repeat a few defaults of metrics/ so that --help need not import it."""
    import importlib

    shown = getattr(importlib.import_module(f"flowdeck.commands.{command}"), name)
    assert shown == getattr(importlib.import_module(f"metrics.{library}"), name)
