"""`flowdeck init jira` and `flowdeck sync` of a Jira source, through the CLI, against the fake."""

from __future__ import annotations

import tomllib

import pytest

from connectors.config import load_config
from connectors.store import open_store
from flowdeck.cli import main
from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import small_flow

BOARD = [
    ("Backlog", ["Backlog", "To Do", "Open"]),
    ("Doing", ["In Progress", "开发中"], 3),
    ("Review", ["Code Review"], 2),
    ("Waiting for release", []),
    ("Done", ["Done", "已完成", "Won't Do"]),
]


@pytest.fixture
def world():
    world = world_from_flow(small_flow())
    world.status_id("Won't Do", "done")
    world.add_board(12, "ABC board", BOARD)
    return world


@pytest.fixture(params=["cloud", "datacenter"])
def site(request, world, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("JIRA_EMAIL", "JIRA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with FakeJira(world, mode=request.param) as fake:
        for name, value in fake.secrets.items():
            monkeypatch.setenv(name, value)
        yield fake


def _init(fake: FakeJira, out, *extra: str) -> int:
    return main(["init", "jira", "--url", fake.url, "--jql", "project = ABC", "--out", str(out),
                 *extra])  # fmt: skip


def test_init_from_board_follows_its_columns(site, tmp_path, capsys):
    out = tmp_path / "flowdeck.toml"
    assert _init(site, out, "--board", "12") == 0
    said = capsys.readouterr().out
    assert "4 stages from the board 12" in said and "REVIEW" in said
    config = load_config(out)
    workflow = config.workflow
    assert [s.name for s in workflow.stages] == ["Backlog", "Doing", "Review", "Done"]
    assert workflow.stages[1].statuses == ("In Progress", "开发中")
    assert [s.wip_limit for s in workflow.stages] == [None, 3, 2, None]
    assert workflow.stage_names[workflow.start] == "Doing"
    assert workflow.stage_names[workflow.done] == "Done"
    assert workflow.discarded == ("Won't Do",)
    assert workflow.timezone == "Europe/Berlin"  # the Jira user's zone
    text = out.read_text(encoding="utf-8")
    assert "'Waiting for release' has no statuses" in text
    assert site.token not in text and site.email not in text
    (source,) = config.sources
    assert (source.name, source.kind) == ("abc", "jira")
    assert source.settings.url == site.url and source.settings.jql == "project = ABC"


def test_init_from_issues_groups_by_category(site, tmp_path):
    out = tmp_path / "flowdeck.toml"
    assert _init(site, out, "--name", "team") == 0
    workflow = load_config(out).workflow
    names = workflow.stage_names
    # To Do category first, then In Progress, then one Done stage holding every done status
    assert set(names[:3]) == {"Backlog", "To Do", "Open"}
    assert set(names[3:6]) == {"In Progress", "Code Review", "开发中"}
    assert names.index("In Progress") < names.index("Code Review")  # ordered by the issues
    assert names[6:] == ["Done"]
    assert set(workflow.stages[-1].statuses) == {"Done", "已完成"}
    assert workflow.stage_names[workflow.done] == "Done"
    assert workflow.stage_names[workflow.start] in {"In Progress", "开发中"}
    text = out.read_text(encoding="utf-8")
    assert "# --- Jira category: In Progress ---" in text
    assert 'name = "team"' in text


def test_init_notes_statuses_missing_from_the_board(site, world, tmp_path):
    world.add_board(13, "Partial", [("Todo", ["Backlog", "To Do"]), ("Done", ["Done"])])
    out = tmp_path / "flowdeck.toml"
    assert _init(site, out, "--board", "13") == 0
    text = out.read_text(encoding="utf-8")
    assert "on no column" in text
    for status in ("Open", "In Progress", "Code Review", "开发中", "已完成"):
        assert status in text.split("on no column")[1].splitlines()[0]


def test_init_never_overwrites_without_force(site, tmp_path, capsys):
    out = tmp_path / "flowdeck.toml"
    out.write_text("# mine\n", encoding="utf-8")
    assert _init(site, out) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--force" in err and err.count("\n") == 1
    assert out.read_text(encoding="utf-8") == "# mine\n"
    assert site.count() == 0  # refused before any request
    assert _init(site, out, "--force") == 0
    assert "[workflow]" in out.read_text(encoding="utf-8")


def test_init_errors_are_one_line(site, tmp_path, capsys, monkeypatch):
    out = tmp_path / "flowdeck.toml"
    assert _init(site, out, "--board", "99") == 1
    err = capsys.readouterr().err
    assert "(404)" in err and "Board does not exist" in err and err.count("\n") == 1
    assert main(["init", "jira", "--url", site.url, "--jql", "project = ABC AND status = Nope",
                 "--out", str(out)]) == 1  # fmt: skip
    assert "finds no issues" in capsys.readouterr().err
    monkeypatch.setenv("JIRA_TOKEN", "not-the-token")
    assert _init(site, out) == 1
    err = capsys.readouterr().err
    assert "(401)" in err and "not-the-token" not in err
    assert not out.exists()


def test_flowdeck_sync_of_a_jira_source(site, tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "flowdeck.toml"
    db = tmp_path / "flowdeck.db"
    assert _init(site, out, "--board", "12") == 0
    site.now = pd.Timestamp("2024-01-12T12:00", tz="UTC")
    assert main(["sync", "--config", str(out), "--db", str(db)]) == 0
    with open_store(db) as store:
        flow = store.read_flow_data()
        assert store.source_cursor("abc") == "2024-01-12T12:00:00+00:00"
    assert set(flow.items["item_id"]) == {f"jira:ABC-{i}" for i in range(1, 6)}
    assert len(flow.events) == len(small_flow().events)
    assert len(flow.deployments) == 2 and len(flow.shipped) == 3
    # the second sync asks only for what changed since the cursor
    site.reset_counts()
    assert main(["sync", "--config", str(out), "--db", str(db)]) == 0
    assert any('updated >= "2024/01/12 12:55"' in jql for jql in site.jqls)
    with open_store(db) as store:
        again = store.read_flow_data()
    assert len(again.events) == len(flow.events)
    assert tomllib.loads(out.read_text(encoding="utf-8"))["sources"][0]["kind"] == "jira"


def test_credentials_from_streamlit_secrets(site, tmp_path, monkeypatch):
    out = tmp_path / "flowdeck.toml"
    assert _init(site, out, "--board", "12") == 0
    secrets_file = tmp_path / ".streamlit" / "secrets.toml"
    secrets_file.parent.mkdir()
    secrets_file.write_text(
        "".join(f'{k} = "{v}"\n' for k, v in site.secrets.items()), encoding="utf-8"
    )
    for name in site.secrets:
        monkeypatch.delenv(name)
    assert main(["sync", "--config", str(out), "--db", str(tmp_path / "f.db")]) == 0
    with open_store(tmp_path / "f.db") as store:
        assert len(store.read_flow_data().items) == 5


def test_failed_sync_keeps_data_and_cursor_and_next_sync_resumes(site, tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "flowdeck.toml"
    db = tmp_path / "flowdeck.db"
    assert _init(site, out, "--board", "12") == 0
    with out.open("a", encoding="utf-8") as stream:  # [[sources]] is the last table
        stream.write("retries = 1\nretry_wait = 0.01\n")
    site.now = pd.Timestamp("2024-01-12T12:00", tz="UTC")
    assert main(["sync", "--config", str(out), "--db", str(db)]) == 0
    site.now = pd.Timestamp("2024-01-13T12:00", tz="UTC")
    site.fail("/search", 503, times=2)  # the first try and the one retry
    capsys.readouterr()
    assert main(["sync", "--config", str(out), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "1 of 1 sources failed" in err
    with open_store(db) as store:
        assert store.source_cursor("abc") == "2024-01-12T12:00:00+00:00"
        assert len(store.read_flow_data().items) == 5
        status = store.sources_status()
    assert "503" in " ".join(str(v) for v in status.to_dict("records")[0].values())
    assert main(["sync", "--config", str(out), "--db", str(db)]) == 0
    with open_store(db) as store:
        assert store.source_cursor("abc") == "2024-01-13T12:00:00+00:00"


def test_hostile_names_stay_text(site, world, tmp_path, capsys):
    hostile = "Doing\x1b[31m\n[[sources]]"
    world.add_board(14, "Evil\nboard", [("Todo", ["Backlog", "To Do", "Open"]),
                                         (hostile, ["In Progress", "开发中", "Code Review"]),
                                         ("Done", ["Done", "已完成"])])  # fmt: skip
    out = tmp_path / "flowdeck.toml"
    assert _init(site, out, "--board", "14") == 0
    said = capsys.readouterr().out
    assert "\x1b" not in said
    config = load_config(out)  # the name cannot break out of its TOML string
    assert config.workflow.stages[1].name == hostile
    assert len(config.sources) == 1
