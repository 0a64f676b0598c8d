"""`flowdeck limits` and `flowdeck limits set`: the file rewritten in place (one line of diff),
the history recorded with who and why, hand edits noticed once, and every bad input refused with
one line, exit 1 and nothing changed in the file or the store."""

from __future__ import annotations

import difflib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from connectors.config import load_config
from connectors.limits import rewrite_limit, set_limit
from connectors.store import open_store
from flowdeck.cli import main
from metrics.errors import ConfigError, FlowdeckError, InputError

WORKFLOW = """\
# Our team's flow. Limits reviewed every retrospective.
[workflow]
timezone = "Europe/London"   # local days
start = "Dev"
done = "Done"
wip_limit = 9                # all work in progress

[[workflow.stages]]
name = "Backlog"

[[workflow.stages]]
name = "Dev"
statuses = ["Dev", "In Progress"]
wip_limit = 4   # two pairs

[[workflow.stages]]
name = "Review"     # code review
waiting = true


[[workflow.stages]]
name = "Done"

[[sources]]
name = "team"
kind = "csv"
events = "events.csv"
"""


@pytest.fixture
def team(tmp_path) -> Path:
    path = tmp_path / "flowdeck.toml"
    path.write_text(WORKFLOW, encoding="utf-8")
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def history(path: Path):
    with open_store(path.parent / ".flowdeck" / "flowdeck.db", create=False) as store:
        return store.wip_limit_changes()


def test_set_rewrites_the_one_value_and_records_who_and_why(team, capsys):
    code, out, err = run(capsys, "limits", "--config", str(team), "set", "dev", "3",
                         "--why", "we expect review waits to halve", "--who", "Ana")  # fmt: skip
    assert (code, err) == (0, "")
    assert "Dev's WIP limit: 4 -> 3" in out
    after = team.read_text(encoding="utf-8")
    # Byte for byte the same file but for the one value; its comment stays.
    assert after == WORKFLOW.replace("wip_limit = 4   # two pairs", "wip_limit = 3   # two pairs")
    changes = history(team)
    assert changes[["stage", "old_limit", "new_limit", "who", "why"]].values.tolist() == [
        ["Dev", 4, 3, "Ana", "we expect review waits to halve"]
    ]
    assert load_config(team).workflow.stages[1].wip_limit == 3


def test_a_new_limit_is_one_added_line_and_none_is_one_removed_line(team, capsys):
    assert run(capsys, "limits", "--config", str(team), "set", "Review", "2", "--why", "try",
               "--who", "Bo")[0] == 0  # fmt: skip
    added = team.read_text(encoding="utf-8")
    assert changed_lines(WORKFLOW, added) == ["+wip_limit = 2"]
    assert load_config(team).workflow.stages[2].wip_limit == 2
    assert run(capsys, "limits", "--config", str(team), "set", "total", "none", "--why",
               "stage limits are enough", "--who", "Bo")[0] == 0  # fmt: skip
    removed = team.read_text(encoding="utf-8")
    assert changed_lines(added, removed) == ["-wip_limit = 9                # all work in progress"]
    assert load_config(team).workflow.wip_limit is None
    assert history(team)["stage"].tolist() == ["Review", "total"]


def test_the_same_limit_changes_nothing(team, capsys):
    code, out, _ = run(capsys, "limits", "--config", str(team), "set", "Dev", "4", "--why", "x")
    assert code == 0 and "already 4; nothing changed" in out
    assert team.read_text(encoding="utf-8") == WORKFLOW
    assert not (team.parent / ".flowdeck").exists()


def test_a_byte_order_mark_crlf_and_inline_tables_survive(tmp_path):
    text = (
        '\ufeff[workflow]\r\nstart = "Dev"\r\n'
        'stages = [{ name = "To Do" }, { name = "Dev", wip_limit = 3 }, { name = "Done" }]\r\n'
    )
    config_path = tmp_path / "flowdeck.toml"
    config_path.write_bytes(text.encode("utf-8"))
    config = load_config(config_path)
    out = rewrite_limit(text, config, "Dev", 2)
    assert out == text.replace("wip_limit = 3", "wip_limit = 2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "Deploy", "3", "--why", "x"], "unknown stage 'Deploy' for a WIP limit; "
         "expected one of 'Backlog', 'Dev', 'Review', 'total'"),
        (["set", "Dev", "0", "--why", "x"], "WIP limit '0': expected a whole number of at least 1"),
        (["set", "Dev", "two", "--why", "x"], "WIP limit 'two'"),
        (["set", "Dev", "3"], "--why is required"),
        (["set", "Dev", "3", "--why", "   "], "--why is required"),
        (["set", "Dev", "3", "--why", "x" * 1001], "why is 1001 characters; at most 1000"),
        (["set", "Dev", "3", "--why", "x", "--who", "y" * 101], "who is 101 characters"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_1_and_nothing_changes(team, capsys, args, message):
    with open_store(team.parent / ".flowdeck" / "flowdeck.db") as store:
        store.reconcile_wip_limits({"Dev": 4})  # a store that exists and has seen the file
    code, out, err = run(capsys, "limits", "--config", str(team), *args)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert team.read_bytes() == WORKFLOW.encode("utf-8")
    assert history(team).empty


def test_an_unknown_workflow_file_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "limits", "--config", str(tmp_path / "no.toml"), "set", "Dev",
                       "3", "--why", "x")  # fmt: skip
    assert code == 1 and "workflow file not found" in err


def test_an_unwritable_file_changes_nothing(capsys):
    folder = Path(tempfile.mkdtemp(prefix="flowdeck-limits-"))
    try:
        config_path = folder / "flowdeck.toml"
        config_path.write_text(WORKFLOW, encoding="utf-8")
        args = ["limits", "--config", str(config_path), "set", "Dev", "3", "--why", "try"]
        if os.geteuid() == 0:
            # Root may write anything: run the command as an unprivileged user instead.
            os.chmod(folder, 0o755)
            result = subprocess.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                 sys.executable, "-m", "flowdeck.cli", *args],
                capture_output=True, text=True, cwd=Path(__file__).parents[1], check=False,
                env={**os.environ, "HOME": str(folder)},
            )  # fmt: skip
            code, err = result.returncode, result.stderr
        else:
            os.chmod(config_path, 0o444)
            os.chmod(folder, 0o555)
            code, _, err = run(capsys, *args)
        assert code == 1
        assert "cannot write the workflow file (permission denied); nothing changed" in err, err
        assert len(err.strip().splitlines()) == 1
        assert config_path.read_text(encoding="utf-8") == WORKFLOW
        assert not (folder / ".flowdeck").exists()
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)


def test_a_locked_store_leaves_the_file_as_it_was(team):
    db = team.parent / ".flowdeck" / "flowdeck.db"
    open_store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(FlowdeckError, match="locked by another process"):
            set_limit(team, "Dev", 3, "Ana", "try")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert team.read_text(encoding="utf-8") == WORKFLOW
    assert history(team).empty


def test_a_hand_edit_is_recorded_once_when_flowdeck_next_reads_the_file(team, capsys):
    assert run(capsys, "limits", "--config", str(team), "set", "Dev", "3", "--why", "try",
               "--who", "Ana")[0] == 0  # fmt: skip
    team.write_text(
        team.read_text(encoding="utf-8").replace("wip_limit = 3   #", "wip_limit = 5   #"),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "limits", "--config", str(team))
    assert code == 0
    assert "Dev: 3 -> 5  by flowdeck.toml: edited by hand" in out
    run(capsys, "limits", "--config", str(team))
    changes = history(team)
    assert changes["who"].tolist() == ["Ana", "flowdeck.toml"]  # recorded once
    assert changes["new_limit"].tolist() == [3, 5]


def test_the_listing_shows_todays_limits_and_the_history(team, capsys):
    code, out, _ = run(capsys, "limits", "--config", str(team))
    assert code == 0
    assert [line.split() for line in out.splitlines()[1:4]] == [["Dev", "4"], ["Review", "none"],
                                                                 ["total", "(all", "work", "in",
                                                                  "progress)", "9"]]  # fmt: skip
    assert "No change recorded yet" in out
    code, out, _ = run(capsys, "limits", "--demo")
    assert code == 0 and "In Progress: 8 -> 4  by Team lead: Kaizen" in out


def test_a_limit_is_added_inside_an_inline_table_and_bad_calls_are_refused(tmp_path):
    text = '[workflow]\nstart = "Dev"\nstages = [{ name = "To Do" }, { name = "Dev" }]\n'
    config_path = tmp_path / "flowdeck.toml"
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)
    assert rewrite_limit(text, config, "Dev", 2).count("wip_limit = 2") == 1
    with pytest.raises(InputError):
        set_limit(config_path, "Dev", 0, "a", "b")
    with pytest.raises(ConfigError, match="workflow file not found"):
        set_limit(tmp_path / "missing.toml", "Dev", 2, "a", "b")


def test_a_busy_store_does_not_stop_a_reader_and_the_edit_is_recorded_later(team):
    from connectors.limits import reconcile_if_possible

    db = team.parent / ".flowdeck" / "flowdeck.db"
    with open_store(db) as store:
        store.reconcile_wip_limits({"Dev": 4, "Review": None, "total": 9})
    team.write_text(WORKFLOW.replace("wip_limit = 4   #", "wip_limit = 2   #"), encoding="utf-8")
    config = load_config(team)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a sync holding the write lock
    try:
        with open_store(db, create=False, timeout=0.2) as store:
            assert reconcile_if_possible(config, store) is None
            assert store.wip_limit_changes().empty
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with open_store(db, create=False) as store:
        recorded = reconcile_if_possible(config, store)
    assert recorded[["stage", "old_limit", "new_limit", "who"]].values.tolist() == [
        ["Dev", 4, 2, "flowdeck.toml"]
    ]
