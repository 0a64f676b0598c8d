"""Many teams in one deployment: the portfolio file, a source shared by two teams fetched once,
and `--team` on sync and on the analysing commands, on both store engines."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from connectors.portfolio import load_portfolio, sync_plan
from connectors.sync import sync_portfolio
from flowdeck.cli import cli, main
from metrics.errors import ConfigError
from tests import test_dashboard_limits

# Where the dashboard listens (editing needs loopback without a password).
listen = test_dashboard_limits.listen

WORKFLOW = """
[workflow]
timezone = "{tz}"
start = "Dev"
done = "Done"

[[workflow.stages]]
name = "Backlog"

[[workflow.stages]]
name = "Dev"
wip_limit = {limit}

[[workflow.stages]]
name = "Done"
"""


def source(name: str, events: str) -> str:
    return f'\n[[sources]]\nname = "{name}"\nkind = "csv"\nevents = "{events}"\n'


def events_csv(path: Path, ids: range, day: int = 1) -> None:
    rows = ["item_id,changed_at,status,title"]
    for i in ids:
        rows += [f"{i},2024-03-{day:02d}T09:00:00Z,Backlog,Item {i}",
                 f"{i},2024-03-{day + 1:02d}T09:00:00Z,Dev,",
                 f"{i},2024-03-{day + 2 + i % 3:02d}T09:00:00Z,Done,"]  # fmt: skip
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def portfolio(tmp_path) -> Path:
    """Two teams with a source each and a platform source both of them name."""
    (tmp_path / "teams").mkdir()
    events_csv(tmp_path / "teams" / "a.csv", range(1, 5))
    events_csv(tmp_path / "teams" / "b.csv", range(1, 8), day=3)
    events_csv(tmp_path / "teams" / "platform.csv", range(1, 3), day=5)
    shared = source("platform", "platform.csv")
    (tmp_path / "teams" / "alpha.toml").write_text(
        WORKFLOW.format(tz="UTC", limit=3) + source("a", "a.csv") + shared, encoding="utf-8"
    )
    (tmp_path / "teams" / "beta.toml").write_text(
        WORKFLOW.format(tz="UTC", limit=5) + source("b", "b.csv") + shared, encoding="utf-8"
    )
    path = tmp_path / "portfolio.toml"
    path.write_text(
        '[[teams]]\nname = "alpha"\nworkflow = "teams/alpha.toml"\n\n'
        '[[teams]]\nname = "beta"\nworkflow = "teams/beta.toml"\n',
        encoding="utf-8",
    )
    return path


def test_a_portfolio_lists_the_teams_and_a_shared_source_is_fetched_once(portfolio, db):
    loaded = load_portfolio(portfolio)
    assert [t.name for t in loaded.teams] == ["alpha", "beta"]
    assert loaded.team("beta").config.workflow.timezone == "UTC"
    assert [(t.name, names) for t, names in sync_plan(loaded)] == [
        ("alpha", ["a", "platform"]), ("beta", ["b"])
    ]  # fmt: skip
    results = sync_portfolio(loaded, db)
    assert [(r.name, r.ok) for r in results] == [("a", True), ("platform", True), ("b", True)]
    assert [r.name for r in sync_portfolio(loaded, db, team="beta")] == ["b", "platform"]


def test_team_exports_read_the_teams_own_workflow_and_sources(portfolio, db, tmp_path, capsys):
    base = ["--config", str(portfolio), "--db", db]
    assert main(["sync", *base]) == 0
    out = capsys.readouterr().out
    assert out.count("platform: ") == 1  # fetched once for both teams
    for team, own, items in (("alpha", "a", 4 + 2), ("beta", "b", 7 + 2)):
        report = tmp_path / f"report-{team}"
        assert main(["export", *base, "--team", team, "--as-of", "2024-03-31",
                     "--out", str(report)]) == 0  # fmt: skip
        exported = pd.read_csv(report / "items.csv")
        assert len(exported) == items
        assert {i.split(":")[1] for i in exported["item_id"]} == {own, "platform"}
    capsys.readouterr()

    # Without --team a portfolio is refused with the names of its teams, in one line.
    assert main(["export", *base, "--out", str(tmp_path / "x")]) == 1
    assert "portfolio of teams (alpha, beta): pass --team NAME" in capsys.readouterr().err
    assert main(["export", *base, "--team", "gamma", "--out", str(tmp_path / "x")]) == 1
    assert "no team named 'gamma' (teams: alpha, beta)" in capsys.readouterr().err
    single = portfolio.parent / "teams" / "alpha.toml"
    assert main(["export", "--config", str(single), "--team", "alpha", "--db", db,
                 "--out", str(tmp_path / "x")]) == 1  # fmt: skip
    assert "is not a portfolio file" in capsys.readouterr().err


def test_every_analysing_command_takes_team():
    from flowdeck.inputs import INPUT_KEYS

    assert "team" in INPUT_KEYS
    for name, command in cli.commands.items():
        params = {p.name for p in command.params}
        if "events" in params and "as_of" in params:  # the input_options commands
            assert "team" in params, name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[teams]]\nname = "a"\nworkflow = "teams/alpha.toml"\nwip = 3\n', "unknown key 'wip'"),
        ('[[teams]]\nname = "a b"\nworkflow = "teams/alpha.toml"\n', "it goes in URLs"),
        ('[[teams]]\nname = "a"\nworkflow = "teams/alpha.toml"\n'
         '[[teams]]\nname = "a"\nworkflow = "teams/beta.toml"\n', "team names must be unique"),
        ('[[teams]]\nname = "a"\nworkflow = "teams/none.toml"\n', "file not found"),
        ('[[teams]]\nname = "a"\n', "missing required key 'workflow'"),
        ("teams = 3\n", r"expected one or more \[\[teams\]\] tables"),
        ('[[team]]\nname = "a"\n', "unknown key 'team'; did you mean 'teams'"),
    ],
)  # fmt: skip
def test_bad_portfolio_files_are_one_line_errors(portfolio, text, message):
    portfolio.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_portfolio(portfolio)
    assert str(portfolio) in str(err.value) and "\n" not in str(err.value)


def test_a_shared_source_must_be_the_same_in_both_teams(portfolio):
    beta = portfolio.parent / "teams" / "beta.toml"
    beta.write_text(beta.read_text().replace('events = "platform.csv"', 'events = "b.csv"'))
    with pytest.raises(ConfigError, match="source 'platform' is defined differently by teams"):
        load_portfolio(portfolio)


# ---- the dashboard: a team picker, the team in the URL --------------------------------------


def test_the_dashboard_picks_a_team_from_the_url_and_keeps_it_there(portfolio, db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard_app import APP, PAGES, TIMEOUT, metric

    sync_portfolio(load_portfolio(portfolio), db)
    monkeypatch.chdir(portfolio.parent)
    monkeypatch.setenv("FLOWDECK_CONFIG", str(portfolio))
    monkeypatch.setenv("FLOWDECK_DB", db)
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["team"] = "beta"
    at.switch_page(PAGES[4])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="team").value == "beta"
    assert metric(at, "Items") == str(7 + 2)  # beta's own source and the shared one
    at.selectbox(key="team").set_value("alpha").run()
    assert not at.exception and at.query_params["team"] == "alpha"
    assert metric(at, "Items") == str(4 + 2)


def test_the_portfolio_page_has_a_row_per_team_with_a_link_to_its_board(portfolio, db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard_app import APP, TIMEOUT

    sync_portfolio(load_portfolio(portfolio), db)
    monkeypatch.chdir(portfolio.parent)
    monkeypatch.setenv("FLOWDECK_CONFIG", str(portfolio))
    monkeypatch.setenv("FLOWDECK_DB", db)
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("app_pages/portfolio.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["link"]) == ["./?team=alpha", "./?team=beta"]
    assert list(table["wip_limit"]) == [3, 5]
    assert all(len(trend) == 12 for trend in table["throughput_trend"])
    assert table["last_sync"].notna().all()
    # The teams' data ended in March 2024: each row is its 12 weeks to that last day, as the
    # team's board shows it, not 12 idle weeks to today.
    assert list(table["data_ends"]) == ["2024-03-09", "2024-03-09"]
    assert (table["throughput_per_week"] > 0).all()
    assert [sum(trend) for trend in table["throughput_trend"]] == [6, 9]
    assert at.dataframe[0].proto.placeholder == "", "a missing number must show as an empty cell"


def test_the_dashboard_command_opens_a_portfolio(portfolio, db):
    from flowdeck.commands.serve import CONFIG_ENV_VAR, app_environment

    env = app_environment(str(portfolio), db, None)
    assert env[CONFIG_ENV_VAR] == str(portfolio.resolve())


def test_a_teams_limits_never_read_as_hand_edits_of_another_teams(portfolio, db, tmp_path):
    """alpha limits Dev to 3, beta to 5, in one shared store: reading one team after the other
    records nothing; a hand edit of beta's file is recorded once, in beta's history only."""
    from connectors.store import open_store

    base = ["--config", str(portfolio), "--db", db, "--as-of", "2024-03-31"]
    assert main(["sync", "--config", str(portfolio), "--db", db]) == 0
    for team in ("alpha", "beta", "alpha"):
        assert main(["export", *base, "--team", team, "--out", str(tmp_path / team)]) == 0
    with open_store(db) as store:
        assert store.wip_limit_changes("alpha").empty and store.wip_limit_changes("beta").empty
    beta = portfolio.parent / "teams" / "beta.toml"
    beta.write_text(beta.read_text().replace("wip_limit = 5", "wip_limit = 4"))
    for team in ("beta", "alpha", "beta"):
        assert main(["export", *base, "--team", team, "--out", str(tmp_path / team)]) == 0
    with open_store(db) as store:
        assert store.wip_limit_changes("alpha").empty and store.wip_limit_changes().empty
        edits = store.wip_limit_changes("beta")
    assert edits[["stage", "old_limit", "new_limit", "who"]].values.tolist() == [
        ["Dev", 5, 4, "flowdeck.toml"]
    ]


def test_limits_of_one_team_are_set_and_listed_apart(portfolio, db, capsys):
    """`flowdeck limits --team NAME [set ...]`: that team's file and history only, in the
    portfolio's store; a kaizen pack of the team carries its own history."""
    base = ["limits", "--config", str(portfolio), "--db", db]
    alpha = portfolio.parent / "teams" / "alpha.toml"
    beta_before = (portfolio.parent / "teams" / "beta.toml").read_text()
    assert main([*base, "--team", "alpha", "set", "dev", "2", "--why", "pairs finish sooner",
                 "--who", "Ana"]) == 0  # fmt: skip
    assert "Dev's WIP limit: 3 -> 2 (written to alpha.toml)" in capsys.readouterr().out
    assert "wip_limit = 2" in alpha.read_text()
    assert (portfolio.parent / "teams" / "beta.toml").read_text() == beta_before
    assert main([*base, "--team", "alpha"]) == 0
    out = capsys.readouterr().out
    assert "team alpha" in out and "Dev: 3 -> 2  by Ana: pairs finish sooner" in out
    assert main([*base, "--team", "beta"]) == 0
    out = capsys.readouterr().out
    assert "No change recorded yet" in out and "pairs finish sooner" not in out
    # Without --team the portfolio is refused in one line; --team needs a portfolio.
    assert main(base) == 1
    assert "portfolio of teams (alpha, beta): pass --team NAME" in capsys.readouterr().err
    assert main(["limits", "--config", str(alpha), "--db", db, "--team", "alpha"]) == 1
    assert "is not a portfolio file" in capsys.readouterr().err
    assert main([*base, "--team", "gamma", "set", "Dev", "2", "--why", "x"]) == 1
    assert "no team named 'gamma'" in capsys.readouterr().err

    # The review pack of a team carries that team's history, from the portfolio's store.
    assert main(["sync", "--config", str(portfolio), "--db", db]) == 0
    beta_own = "the limit in the workflow file (no change recorded)"
    for team, expected in (("alpha", ["pairs finish sooner"]), ("beta", [beta_own])):
        out = portfolio.parent / f"{team}.zip"
        pack_args = ["--as-of", "2024-03-31", "--change", "2024-03-06", "--out", str(out)]
        assert main(["kaizen", "--config", str(portfolio), "--db", db, "--team", team,
                     *pack_args]) == 0  # fmt: skip
        with zipfile.ZipFile(out) as pack:
            limits = pd.read_csv(pack.open("wip_limits.csv"))
        assert limits["why"].dropna().tolist() == expected, team


def test_the_dashboard_sets_a_limit_for_the_chosen_team(portfolio, db, monkeypatch, listen):
    from streamlit.testing.v1 import AppTest

    from connectors.store import open_store
    from tests.test_dashboard_app import APP, TIMEOUT
    from tests.test_dashboard_limits import fill_form

    sync_portfolio(load_portfolio(portfolio), db)
    monkeypatch.chdir(portfolio.parent)
    monkeypatch.setenv("FLOWDECK_CONFIG", str(portfolio))
    monkeypatch.setenv("FLOWDECK_DB", db)
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    monkeypatch.delenv("FLOWDECK_EDITOR_PASSWORD", raising=False)
    listen("127.0.0.1")  # editing without a password: loopback only
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["team"] = "beta"
    at.switch_page("app_pages/limits.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    fill_form(at, "Dev", "4", "Bo", "smaller batches through review")
    assert not at.error, [e.value for e in at.error]
    assert "wip_limit = 4" in (portfolio.parent / "teams" / "beta.toml").read_text()
    assert "wip_limit = 3" in (portfolio.parent / "teams" / "alpha.toml").read_text()
    with open_store(db) as store:
        beta, alpha = store.wip_limit_changes("beta"), store.wip_limit_changes("alpha")
    assert beta[["stage", "old_limit", "new_limit", "who"]].values.tolist() == [["Dev", 5, 4, "Bo"]]
    assert alpha.empty
    # The page shows beta's history; alpha's page shows none; the Portfolio page the new limit.
    assert at.dataframe[-1].value["why"].tolist() == ["smaller batches through review"]
    at.selectbox(key="team").set_value("alpha").run()
    assert not at.exception and "smaller batches" not in str(at.dataframe[-1].value)
    at.switch_page("app_pages/portfolio.py").run()
    assert list(at.dataframe[0].value["wip_limit"]) == [3, 4]
