"""End to end: `flowdeck init github`, then `flowdeck sync` with the issue's example source
(`status_from = "project"`, `deployments = "releases"`) against the fake GitHub, into a real
SQLite store; a re-sync; and a failing sync that keeps the stored data."""

from __future__ import annotations

import pytest

from connectors.demo import demo_flow_data
from connectors.store import open_store
from flowdeck.cli import main
from metrics.frames import FlowData
from tests.fake_github import TOKEN, FakeGithub, repo_from_flow_data
from tests.fake_github.harness import need_schema


@pytest.fixture
def fake(tmp_path, monkeypatch):
    need_schema()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    data = demo_flow_data()
    keep = set(data.items["item_id"].iloc[:150])
    world = FlowData(
        items=data.items[data.items["item_id"].isin(keep)],
        events=data.events[data.events["item_id"].isin(keep)],
        deployments=data.deployments,
        shipped=data.shipped,
    )
    with FakeGithub() as server:
        repo, numbers = repo_from_flow_data(world, mode="project")
        server.add_repo(repo)
        server.world, server.numbers = world, numbers
        yield server


def test_init_then_sync_then_resync(fake, tmp_path, capsys):
    assert main(["init", "github", "--repo", "acme/web", "--project", "3",
                 "--api-url", fake.url]) == 0  # fmt: skip
    text = (tmp_path / "flowdeck.toml").read_text()
    (tmp_path / "flowdeck.toml").write_text(
        text.replace('deployments = "none"', 'deployments = "releases"')
    )
    fake.reset_counts()

    code = main(["sync"])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "web:" in out
    first_requests = len(fake.requests)
    assert first_requests <= 4  # two pages of 100 issues (+ releases, board in the same requests)
    store_path = tmp_path / ".flowdeck" / "flowdeck.db"
    with open_store(store_path) as store:
        data = store.read_flow_data()
        cursor = store.source_cursor("web")
    assert len(data.items) == 150
    assert set(data.items["source"]) == {"web"}
    releases = fake.world.deployments
    assert len(data.deployments) == int(
        ((releases["environment"] == "production") & (releases["status"] == "success")).sum()
    )
    number = fake.numbers[fake.world.items["item_id"].iloc[3]]
    stored = data.events[data.events["item_id"] == f"github:acme/web#{number}"]
    world = fake.world.events[fake.world.events["item_id"] == fake.world.items["item_id"].iloc[3]]
    assert sorted(stored["changed_at"]) == sorted(world["changed_at"])
    assert cursor == max(i.updated_at for i in fake.repos["acme/web"].items.values())

    fake.reset_counts()
    assert main(["sync"]) == 0
    assert len(fake.requests) <= 3

    # a failing sync (revoked token) is one line naming the variable; the store keeps its data
    capsys.readouterr()
    fake.token = "ghp_rotated"
    assert main(["sync"]) == 1
    err = capsys.readouterr()
    assert "GITHUB_TOKEN" in err.out + err.err and TOKEN not in err.out + err.err
    with open_store(store_path) as store:
        assert len(store.read_flow_data().items) == 150
        assert store.source_cursor("web") == cursor
