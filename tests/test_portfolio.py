"""The Portfolio page's fast path: each team's numbers (`metrics.portfolio.team_numbers` on one
split read of the store) are the numbers of that team's own export for the same days, on both
store engines; and the split read gives each source what reading it alone gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.generate import WORKFLOW_TOML, generated_event_log
from connectors.portfolio import load_portfolio
from connectors.store import open_store
from connectors.sync import sync_portfolio
from flowdeck.cli import main
from metrics.days import end_of_day
from metrics.frames import FlowData
from metrics.portfolio import TEAM_NUMBERS, combine, team_numbers
from metrics.workflow import workflow_from_table

AS_OF = "2025-06-25"  # inside the logs: later events exist and must be left out
WEEKS = 12


def _recent(prefix: str) -> pd.DataFrame:
    """Hand-made items of the last weeks before `AS_OF`: deliveries, and the blocked cases
    (still blocked; blocked and unblocked; blocked twice and unblocked after `AS_OF`; blocked
    when delivered)."""
    rows = []
    for k in range(24):
        begin = pd.Timestamp("2025-04-02T08:00:00Z") + pd.Timedelta(days=3 * k)
        rows += [(f"{prefix}-r{k}", begin, "status", "In Progress"),
                 (f"{prefix}-r{k}", begin + pd.Timedelta(days=k % 5, hours=3), "status",
                  "Done")]  # fmt: skip
    cases = {
        "still": [("06-05", "status", "In Progress"), ("06-10", "blocked", "")],
        "freed": [("06-02", "status", "In Progress"), ("06-03", "blocked", ""),
                  ("06-04", "unblocked", "")],
        "twice": [("06-02", "status", "In Progress"), ("06-03", "blocked", ""),
                  ("06-05", "blocked", ""), ("06-28", "unblocked", "")],
        "shipped": [("06-01", "status", "In Progress"), ("06-02", "blocked", ""),
                    ("06-10", "status", "Done")],
    }  # fmt: skip
    for case, steps in cases.items():
        rows += [(f"{prefix}-{case}", pd.Timestamp(f"2025-{day}T10:00:00Z"), event, status)
                 for day, event, status in steps]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["item_id", "changed_at", "event", "status"])
    frame["changed_at"] = frame["changed_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame.assign(title="", type="")


def _deployments(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-01-01", "2025-07-10", freq="D", tz="UTC")
    chosen = np.sort(rng.choice(len(days), size=90, replace=False))
    pd.DataFrame({
        "deploy_id": [f"d{i}" for i in range(len(chosen))],
        "deployed_at": (days[chosen] + pd.Timedelta(hours=22, minutes=30)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "environment": rng.choice(["production", "Production ", "staging"], len(chosen)),
        "status": rng.choice(["success", "success", "failure"], len(chosen)),
    }).to_csv(path, index=False)  # fmt: skip


@pytest.fixture
def portfolio(tmp_path) -> Path:
    """Two teams of seeded boards (blocked spells, rework, discarded items) with a deployments
    feed each; alpha also reads a platform board."""
    teams = tmp_path / "teams"
    teams.mkdir()
    for name, items, seed in (("a", 700, 11), ("b", 500, 12), ("platform", 200, 13)):
        log = pd.concat([generated_event_log(items, seed=seed), _recent(name)])
        log.to_csv(teams / f"{name}.csv", index=False)
    for name, seed in (("a", 21), ("b", 22)):
        _deployments(teams / f"{name}-deploys.csv", seed)

    def source(name: str, deployments: bool = True) -> str:
        extra = f'deployments = "{name}-deploys.csv"\n' if deployments else ""
        return f'\n[[sources]]\nname = "{name}"\nkind = "csv"\nevents = "{name}.csv"\n{extra}'

    platform = source("platform", deployments=False)
    (teams / "alpha.toml").write_text(WORKFLOW_TOML + source("a") + platform, encoding="utf-8")
    # beta: another time zone (so it cannot share the platform board: naive times would read
    # differently) and another commitment point.
    beta = WORKFLOW_TOML.replace('timezone = "Europe/Berlin"', 'timezone = "America/New_York"')
    beta = beta.replace('start = "In Progress"', 'start = "Ready"')
    (teams / "beta.toml").write_text(beta + source("b"), encoding="utf-8")
    path = tmp_path / "portfolio.toml"
    path.write_text(
        '[[teams]]\nname = "alpha"\nworkflow = "teams/alpha.toml"\n\n'
        '[[teams]]\nname = "beta"\nworkflow = "teams/beta.toml"\n',
        encoding="utf-8",
    )
    return path


def _export(base: list[str], team: str, first: pd.Timestamp, last: pd.Timestamp, out: Path):
    assert main(["export", *base, "--team", team, "--as-of", AS_OF, "--from", str(first.date()),
                 "--to", str(last.date()), "--out", str(out)]) == 0  # fmt: skip
    summary = pd.read_csv(out / "summary.csv")
    return dict(zip(summary["metric"], summary["value"], strict=True)), pd.read_csv(
        out / "daily.csv"
    )


def test_each_teams_numbers_are_its_exports_numbers(portfolio, db, tmp_path):
    folio = load_portfolio(portfolio)
    assert all(r.ok for r in sync_portfolio(folio, db))
    last = pd.Timestamp(AS_OF)
    first = last - pd.Timedelta(days=7 * WEEKS - 1)
    names = ["a", "b", "platform"]
    with open_store(db) as store:
        by_source = store.read_flow_data_by_source(names, attributes=False)
    base = ["--config", str(portfolio), "--db", db]
    for member in folio.teams:
        workflow = member.config.workflow
        data = combine([by_source[s] for s in member.source_names])
        got = team_numbers(data, workflow, end_of_day(AS_OF, workflow.timezone), first, last)
        assert list(got.index) == TEAM_NUMBERS
        summary, daily = _export(base, member.name, first, last, tmp_path / member.name)
        earlier = first - pd.Timedelta(days=7 * WEEKS)
        before, _ = _export(base, member.name, earlier, first - pd.Timedelta(days=1),
                            tmp_path / f"{member.name}-before")  # fmt: skip
        weekly = daily["throughput"].to_numpy().reshape(WEEKS, 7).sum(axis=1)
        # The data are rich enough for every number to mean something.
        assert summary["items_in_progress"] > 10 and summary["items_blocked_now"] >= 2
        assert summary["items_over_sle"] > 0 and weekly.sum() > 20
        assert summary["deploy_frequency_per_week"] > 0
        assert got["wip"] == summary["items_in_progress"]
        assert got["throughput_per_week"] == summary["throughput_per_week"]
        assert got["throughput_trend"] == weekly.tolist()
        assert got["cycle_time_p85"] == summary["cycle_time_p85"]
        assert got["cycle_time_p85_before"] == before["cycle_time_p85"]
        assert got["over_sle"] == summary["items_over_sle"]
        assert got["blocked"] == summary["items_blocked_now"]
        assert got["deploys_per_week"] == summary["deploy_frequency_per_week"]


def test_one_split_read_gives_each_source_what_reading_it_alone_gives(portfolio, db):
    assert all(r.ok for r in sync_portfolio(load_portfolio(portfolio), db))
    with open_store(db) as store:
        split = store.read_flow_data_by_source(["platform", "a"])
        assert list(split) == ["platform", "a"]
        for name, got in split.items():
            alone = store.read_flow_data([name])
            for frame in ("items", "events", "deployments", "shipped", "pull_requests"):
                pd.testing.assert_frame_equal(getattr(got, frame), getattr(alone, frame))
        lean = store.read_flow_data_by_source(["a"], attributes=False)["a"]
        pd.testing.assert_frame_equal(lean.events, split["a"].events)
        assert lean.items["item_id"].tolist() == split["a"].items["item_id"].tolist()
        assert set(lean.items["title"]) == {""}
        assert store.read_flow_data_by_source([]) == {}


def test_a_team_without_data_has_zeros_and_no_percentiles():
    workflow = workflow_from_table(
        {"start": "Dev", "done": "Done", "stages": [{"name": "Dev"}, {"name": "Done"}]}
    )
    got = team_numbers(FlowData(), workflow, end_of_day("2025-03-31", "UTC"),
                       pd.Timestamp("2025-03-18"), pd.Timestamp("2025-03-31"))  # fmt: skip
    assert got["wip"] == 0 and got["blocked"] == 0 and got["over_sle"] == 0
    assert got["throughput_trend"] == [0, 0] and got["throughput_per_week"] == 0
    assert np.isnan(got["cycle_time_p85"]) and np.isnan(got["cycle_time_p85_before"])
    assert got["deploys_per_week"] == 0
