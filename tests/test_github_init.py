"""`flowdeck init github`: a starter flowdeck.toml from the board's own statuses, through the CLI
against the fake GitHub; never over an existing file without --force."""

from __future__ import annotations

import pytest

from connectors.config import load_config
from flowdeck.cli import main
from tests.fake_github import TOKEN, FakeGithub, FakeItem, FakeProject, FakeRepo
from tests.fake_github.harness import need_schema


@pytest.fixture
def fake(tmp_path, monkeypatch):
    need_schema()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with FakeGithub() as server:
        repo = server.add_repo(FakeRepo(owner="acme", name="web"))
        repo.project = FakeProject(
            number=3,
            owner="acme",
            title="Web board",
            options=["Backlog", "Ready", "In Progress", "In Review", "Done"],
        )
        repo.repo_labels = ["bug", "status: Todo", "status: Doing", "Status: Done", "status:"]
        repo.add(FakeItem(1, "One", "2026-03-01T09:00:00Z"))
        yield server


def test_project_board_stages_in_order(fake, tmp_path, capsys):
    code = main(["init", "github", "--repo", "acme/web", "--project", "3", "--api-url", fake.url])

    assert code == 0, capsys.readouterr().err
    config = load_config(tmp_path / "flowdeck.toml")
    assert config.workflow.stage_names == ["Backlog", "Ready", "In Progress", "In Review", "Done"]
    assert config.workflow.stages[0].statuses == ("Backlog", "No Status")
    assert config.workflow.discarded == ("Removed from project",)
    (source,) = config.sources
    assert (source.name, source.kind) == ("web", "github")
    assert source.settings.status_from == "project" and source.settings.project == 3
    assert source.settings.api_url == fake.url
    out = capsys.readouterr().out
    assert "5 stages" in out and "'Web board'" in out
    assert len(fake.requests) == 1
    assert TOKEN not in (tmp_path / "flowdeck.toml").read_text()


def test_labels_mode_finds_the_prefixed_labels(fake, tmp_path):
    assert main(["init", "github", "--repo", "acme/web", "--status-from", "labels",
                 "--api-url", fake.url]) == 0  # fmt: skip

    config = load_config(tmp_path / "flowdeck.toml")
    assert config.workflow.stage_names == ["Todo", "Doing", "Done"]
    assert config.workflow.stages[0].statuses == ("Todo", "Open")
    assert config.workflow.stages[-1].statuses == ("Done", "Closed")
    assert config.sources[0].settings.label_prefix == "status: "


def test_state_mode_with_pull_requests(fake, tmp_path):
    assert main(["init", "github", "--repo", "acme/web", "--items", "both",
                 "--api-url", fake.url]) == 0  # fmt: skip

    workflow = load_config(tmp_path / "flowdeck.toml").workflow
    assert workflow.stage_names == ["Open", "In progress", "Closed"]
    assert workflow.stages[1].statuses == ("In progress", "In review")
    assert workflow.stages[2].statuses == ("Closed", "Merged")
    assert (workflow.start, workflow.done) == (1, 2)


def test_never_overwrites_without_force(fake, tmp_path, capsys):
    target = tmp_path / "flowdeck.toml"
    target.write_text("# mine\n")

    code = main(["init", "github", "--repo", "acme/web", "--api-url", fake.url])

    assert code == 1
    assert "already exists; pass --force" in capsys.readouterr().err
    assert target.read_text() == "# mine\n"
    assert fake.requests == []

    assert main(["init", "github", "--repo", "acme/web", "--api-url", fake.url, "--force"]) == 0
    assert load_config(target).workflow.stage_names == ["Open", "In progress", "Closed"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--repo", "acme/nope"], TOKEN, "acme/nope: not found"),
        (
            ["--repo", "acme/web", "--project", "8"],
            TOKEN,
            "Could not resolve to a ProjectV2 with the number 8",
        ),
        (
            ["--repo", "acme/web", "--status-from", "labels", "--label-prefix", "kanban/"],
            TOKEN,
            "no labels start with 'kanban/'",
        ),
        (["--repo", "acme/web"], "", "GITHUB_TOKEN is not set"),
        (["--repo", "acme/web"], "ghp_not_the_right_one", "refused the token in GITHUB_TOKEN"),
        (["--repo", "acme"], TOKEN, "expected OWNER/NAME"),
    ],
)
def test_problems_are_one_line_and_write_nothing(fake, tmp_path, monkeypatch, capsys, args, env,
                                                  message):  # fmt: skip
    monkeypatch.setenv("GITHUB_TOKEN", env)

    code = main(["init", "github", *args, "--api-url", fake.url])

    err = capsys.readouterr().err
    assert code == 1
    assert message in err and err.startswith("error: ") and err.count("\n") == 1
    assert "ghp_not_the_right_one" not in err
    assert not (tmp_path / "flowdeck.toml").exists()


def test_token_from_streamlit_secrets(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(f'GITHUB_TOKEN = "{TOKEN}"\n')

    assert main(["init", "github", "--repo", "acme/web", "--api-url", fake.url]) == 0
    assert (tmp_path / "flowdeck.toml").is_file()


def test_init_on_the_demo_board_guesses_start_done_and_discarded(tmp_path, monkeypatch):
    """The demo team's board: `done`, `start` and `discarded` come out right, so that a first
    sync and export give the demo's own WIP, not a board where everything is in progress."""
    from connectors.config import load_config
    from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data
    from metrics.report import flow_report
    from tests.fake_github import repo_from_flow_data
    from tests.fake_github.harness import need_schema

    need_schema()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    data = demo_flow_data()
    with FakeGithub() as server:
        repo, _ = repo_from_flow_data(data, mode="project")
        server.add_repo(repo)
        args = ["init", "github", "--repo", "acme/web", "--project", "3", "--api-url", server.url]
        assert main(args) == 0
    workflow = load_config(tmp_path / "flowdeck.toml").workflow
    names = workflow.stage_names
    assert names[workflow.done] == "Done" and names[workflow.start] == "In Progress"
    assert "Won't Do" in workflow.discarded and "Won't Do" not in names
    assert {s.name for s in workflow.stages if s.waiting} >= {"Ready", "Selected"}
    guessed = flow_report(data, workflow, DEMO_AS_OF).items["in_progress"].sum()
    demo = flow_report(data, demo_config().workflow, DEMO_AS_OF).items
    in_dev_or_later = demo["in_progress"] & (demo["stage"] != "Ready")
    assert guessed == in_dev_or_later.sum()  # start is In Progress here, Ready in the demo
