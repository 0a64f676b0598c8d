"""Deployments from each of the three kinds (Deployments API, releases, workflow runs) and which
merged pull requests each one shipped."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.frames import FlowData, conform_deployments, conform_events, conform_items
from tests.fake_github import FakeGithub, FakeRelease, repo_from_flow_data
from tests.fake_github.harness import need_schema, settings_for, sync

DONE = {"Merged"}


def world() -> FlowData:
    """Six pull requests merged over two weeks, four production deployments (one failed) and
    a staging one; deploy 2 shipped PRs A and B, deploy 4 C and D, E and F wait to ship."""
    rows, items = [], []
    merged = {"A": "02", "B": "03", "C": "09", "D": "10", "E": "12", "F": "13"}
    for key, day in merged.items():
        items.append({"item_id": key, "title": f"Change {key}", "lines_changed": 40})
        rows.append((key, "2026-03-01T09:00:00Z", "status", "Open"))
        rows.append((key, f"2026-03-{day}T09:00:00Z", "status", "Merged"))
    deployments = conform_deployments(
        pd.DataFrame(
            [
                ("d1", "2026-03-01T15:00:00Z", "production", "success", "v1.0.0"),
                ("d2", "2026-03-04T15:00:00Z", "production", "success", "v1.1.0"),
                ("s1", "2026-03-05T15:00:00Z", "staging", "success", "rc"),
                ("d3", "2026-03-11T15:00:00Z", "production", "failure", "v1.2.0"),
                ("d4", "2026-03-11T18:00:00Z", "production", "success", "v1.2.1"),
            ],
            columns=["deploy_id", "deployed_at", "environment", "status", "version"],
        )
    )
    shipped = pd.DataFrame(
        [("d2", "A"), ("d2", "B"), ("d4", "C"), ("d4", "D")], columns=["deploy_id", "item_id"]
    )
    return FlowData(
        items=conform_items(pd.DataFrame(items)),
        events=conform_events(
            pd.DataFrame(rows, columns=["item_id", "changed_at", "event", "status"])
        ),
        deployments=deployments,
        shipped=shipped,
    )


@pytest.fixture
def fake():
    need_schema()
    with FakeGithub() as server:
        repo, numbers = repo_from_flow_data(
            world(),
            mode="state",
            pulls="ABCDEF",
            state_of=lambda s: "closed" if s in DONE else "open",
        )
        server.add_repo(repo)
        server.numbers = numbers
        yield server


WORLD_ORDER = ["d1", "d2", "s1", "d3", "d4"]


def _name(deploy_id: str) -> str:
    """The world's name of a deployment: fake ids end in 1000+n (deployments) or 90000+n (runs),
    n counting the world's deployments in time order; releases are named by their tag."""
    last = deploy_id.rsplit("/", 1)[-1]
    return WORLD_ORDER[int(last) % 1000 - 1] if last.isdigit() else last


def _shipped(result, numbers) -> set[tuple[str, str]]:
    names = {f"github:acme/web#{n}": k for k, n in numbers.items()}
    return {
        (_name(d), names[i])
        for d, i in zip(result.shipped["deploy_id"], result.shipped["item_id"], strict=True)
    }


def test_deployments_api(fake):
    settings = settings_for(fake, items="pulls", deployments="deployments")

    result = sync(fake, settings)

    deps = result.deployments.sort_values("deployed_at")
    assert list(deps["status"]) == ["success", "success", "failure", "success"]
    assert set(deps["environment"]) == {"production"}
    assert list(deps["deployed_at"].dt.strftime("%d %H")) == ["01 15", "04 15", "11 15", "11 18"]
    assert all(d.startswith("github:acme/web/deployments/") for d in deps["deploy_id"])
    assert [_name(d) for d in deps["deploy_id"]] == ["d1", "d2", "d3", "d4"]
    assert _shipped(result, fake.numbers) == {("d2", "A"), ("d2", "B"), ("d4", "C"), ("d4", "D")}
    assert result.requests == 2  # one page (pulls + deployments), one batch of commit ranges
    assert not fake.invalid_queries


def test_deployments_api_counts_unfinished_ones_and_other_environments(fake):
    repo = fake.repos["acme/web"]
    running = repo.deployments[-1]
    running.statuses = running.statuses[:2]  # queued, in progress
    settings = settings_for(fake, items="pulls", deployments="deployments", environment="staging")

    staging = sync(fake, settings)
    assert list(staging.deployments["environment"]) == ["staging"]

    production = sync(fake, settings_for(fake, items="pulls", deployments="deployments"))
    assert len(production.deployments) == 3
    assert production.quality["deployment_not_finished"] == 1


def test_releases_skip_drafts_and_prereleases_unless_asked(fake):
    repo = fake.repos["acme/web"]
    last = repo.commits[-1].oid
    repo.releases.append(
        FakeRelease(
            9001,
            "v2.0.0-rc1",
            "2026-03-12T10:00:00Z",
            "2026-03-12T10:00:00Z",
            last,
            prerelease=True,
        )
    )
    repo.releases.append(
        FakeRelease(9002, "v2.0.0", "2026-03-13T10:00:00Z", None, last, draft=True)
    )

    result = sync(fake, settings_for(fake, items="both", deployments="releases"))
    assert sorted(result.deployments["version"]) == ["v1.0.0", "v1.1.0", "v1.2.1"]
    assert set(result.deployments["status"]) == {"success"}
    assert result.quality["prerelease_skipped"] == 1
    assert {("v1.1.0", "A"), ("v1.1.0", "B"), ("v1.2.1", "C"), ("v1.2.1", "D")} == _shipped(
        result, fake.numbers
    )

    with_pre = sync(
        fake, settings_for(fake, items="both", deployments="releases", prereleases=True)
    )
    assert "v2.0.0-rc1" in set(with_pre.deployments["version"])


def test_workflow_runs_through_rest_with_link_pagination(fake):
    repo = fake.repos["acme/web"]
    # more runs than one REST page (PyGithub asks for 100 a page): 150 extra on another branch
    from tests.fake_github import FakeRun

    for i in range(150):
        repo.runs.append(
            FakeRun(
                70000 + i,
                500 + i,
                "abc",
                "feature",
                "2026-02-01T00:00:00Z",
                "2026-02-01T00:05:00Z",
                "success",
            )
        )
    for i in range(120):
        repo.runs.append(
            FakeRun(
                80000 + i,
                700 + i,
                "abc",
                "main",
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:05:00Z",
                "cancelled",
            )
        )
    settings = settings_for(fake, items="pulls", deployments="workflow_runs", workflow="deploy.yml")

    result = sync(fake, settings)

    deps = result.deployments.sort_values("deployed_at")
    assert list(deps["status"]) == ["success", "success", "failure", "success"]
    assert all(v.startswith("run ") for v in deps["version"])
    assert result.quality["workflow_run_skipped"] == 120
    rest = [p for m, p in fake.requests[-result.requests :] if m == "GET"]
    # two pages of the workflow's runs on main (following the Link header): no request per run
    assert rest == ["/repos/acme/web/actions/workflows/deploy.yml/runs"] * 2
    assert _shipped(result, fake.numbers) == {("d2", "A"), ("d2", "B"), ("d4", "C"), ("d4", "D")}

    # incremental: only runs created since a day before the cursor are asked for
    again = sync(fake, settings, since="2026-03-11T12:00:00Z")
    assert sorted(again.deployments["version"]) == ["run 3", "run 4"]


def test_workflow_that_does_not_exist(fake):
    settings = settings_for(fake, items="pulls", deployments="workflow_runs", workflow="nope.yml")
    from metrics.errors import FlowdeckError

    with pytest.raises(FlowdeckError, match="not found"):
        sync(fake, settings)
