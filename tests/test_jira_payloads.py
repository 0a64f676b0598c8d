"""The connector on real Jira payloads (tests/api_samples), and the fake's payloads
against the real shapes; plus the pure helpers: settings, cursor and JQL."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from connectors.config import config_from_table
from connectors.jira import KIND
from connectors.jira.cursor import updated_clause
from connectors.jira.issues import BlockSignals, frames
from connectors.jira.jql import compose_jql, projects_in_jql, without_order_by
from connectors.jira.versions import release_time
from metrics.errors import ConfigError
from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import small_flow

SAMPLES = Path(__file__).resolve().parent / "api_samples"  # see SOURCE.md there


def _samples(name: str) -> list[dict]:
    path = SAMPLES / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_real_issue_with_changelog():
    issues = {i["key"]: i for i in _samples("jira-issues-with-changelog.jsonl")}
    ee1 = issues["EE-1"]
    histories = {"EE-1": ee1["changelog"]["histories"]}  # newest first, as Jira sends them
    items, events = frames([ee1], histories, BlockSignals(), "https://merico.atlassian.net")
    assert items.loc[0, "item_id"] == "jira:EE-1"
    assert items.loc[0, "labels"] == "frontEnd;Saas"
    assert items.loc[0, "url"] == "https://merico.atlassian.net/browse/EE-1"
    status = events[events["event"] == "status"]
    assert list(status["status"]) == [
        "Inbox", "Ready for Dev", "In Development", "Open", "Closed", "已完成",
    ]  # fmt: skip
    # created 2020-06-12T08:13:13.360+0800 is 00:13:13.360 UTC
    assert status.iloc[0]["changed_at"] == pd.Timestamp("2020-06-12T00:13:13.360", tz="UTC")
    assert status["changed_at"].is_monotonic_increasing
    assert list(events["seq"]) == list(range(len(events)))


def test_real_issue_without_status_history():
    issues = {i["key"]: i for i in _samples("jira-issues-with-changelog.jsonl")}
    k52 = issues["K5-2"]
    _, events = frames([k52], {"K5-2": k52["changelog"]["histories"]}, BlockSignals(), "u")
    assert list(events["status"]) == ["To Do"]  # the current status, at creation


def test_real_paged_changelog_entries():
    histories = _samples("jira-issue-changelog-pages.jsonl")
    issue = {"key": "EE-9", "fields": {"created": histories[0]["created"],
                                        "status": {"name": "已完成"}}}  # fmt: skip
    _, events = frames([issue], {"EE-9": histories}, BlockSignals(), "u")
    moves = [i for h in histories for i in h["items"] if i["field"] == "status"]
    assert len(events) == len(moves) + 1
    assert (
        events.iloc[0]["status"]
        == sorted(
            ((h["created"], i) for h in histories for i in h["items"] if i["field"] == "status"),
            key=lambda pair: pd.Timestamp(pair[0]),
        )[0][1]["fromString"]
    )


def _keys(value) -> set[str]:
    return set(value) if isinstance(value, dict) else set()


def test_fake_payloads_use_the_real_field_names():
    real = _samples("jira-issues-with-changelog.jsonl")[0]
    real_history = real["changelog"]["histories"][1]
    real_item = next(i for h in real["changelog"]["histories"] for i in h["items"]
                     if i["field"] == "status")  # fmt: skip
    real_status = _samples("jira-statuses.jsonl")[0]
    with FakeJira(world_from_flow(small_flow()), mode="cloud") as fake:
        fake_issue = fake.issue_json(fake.world.issues["ABC-1"], ["*all"], "changelog")
        fake_status = fake.status_json("Done")
    assert _keys(fake_issue) <= _keys(real) | {"expand"}
    assert _keys(fake_issue["changelog"]) == _keys(real["changelog"])
    fake_history = fake_issue["changelog"]["histories"][0]
    assert _keys(fake_history) <= _keys(real_history)
    assert _keys(fake_history["items"][0]) <= _keys(real_item) | {"fieldId"}
    assert _keys(fake_status) == _keys(real_status)
    assert _keys(fake_status["statusCategory"]) <= _keys(real_status["statusCategory"])
    for name in ("summary", "status", "labels", "issuetype", "created", "updated", "fixVersions"):
        assert name in real["fields"] and name in fake_issue["fields"]
    # same time format: milliseconds and a +hhmm offset
    assert len(fake_issue["fields"]["created"]) == len(real["fields"]["created"])


# --- settings ------------------------------------------------------------------------------


def test_settings_defaults_and_types():
    settings = KIND.parse({"url": "https://acme.atlassian.net/", "jql": "project = ABC"}, "s")
    assert settings.url == "https://acme.atlassian.net"
    assert (settings.email_env, settings.token_env) == ("JIRA_EMAIL", "JIRA_TOKEN")
    assert settings.deployment == "auto" and settings.use_flags and settings.releases
    assert settings.page_size == 100 and settings.overlap_minutes == 5
    with pytest.raises(AttributeError):
        settings.url = "x"  # frozen


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"url": "https://a.b", "jql": "x", "jlq": "y"}, "did you mean 'jql'"),
        ({"jql": "project = A"}, "missing required key 'url'"),
        ({"url": "acme.atlassian.net", "jql": "x"}, "expected the site address"),
        ({"url": "https://a.b"}, "missing required key 'jql'"),
        ({"url": "https://a.b", "jql": "x", "deployment": "server"}, "'cloud'"),
        ({"url": "https://a.b", "jql": "x", "retry_wait": -1}, "retry_wait = -1"),
        ({"url": "https://a.b", "jql": "x", "token_env": "MY TOKEN"}, "environment variable"),
        ({"url": "https://a.b", "jql": "x", "blocked_labels": "blocked"}, "list"),
        ({"url": "https://a.b", "jql": "x", "page_size": 0}, "page_size = 0"),
    ],
)
def test_settings_errors_name_the_key(table, message):
    with pytest.raises(ConfigError, match=message):
        KIND.parse(table, "flowdeck.toml: sources[0]")


def test_a_jira_source_in_flowdeck_toml():
    config = config_from_table(
        {
            "workflow": {"stages": [{"name": "To Do"}, {"name": "Done"}]},
            "sources": [{"name": "abc", "kind": "jira", "url": "https://acme.atlassian.net",
                         "jql": "project = ABC", "blocked_labels": ["blocked"]}],
        }
    )  # fmt: skip
    assert config.sources[0].settings.blocked_labels == ("blocked",)


# --- cursor and JQL ------------------------------------------------------------------------


def test_updated_clause_in_user_zone_across_dst():
    since = pd.Timestamp("2024-03-31T01:30:00", tz="UTC")  # London just moved to BST
    clause = updated_clause(since, ZoneInfo("Europe/London"), 5)
    assert clause == 'updated >= "2024/03/31 02:25"'
    clause = updated_clause(since, ZoneInfo("UTC"), 0)
    assert clause == 'updated >= "2024/03/31 01:30"'


def test_compose_jql_drops_the_users_order_by():
    assert without_order_by("project = A ORDER BY rank ASC") == "project = A"
    assert compose_jql("project = A order by created", 'updated >= "x"') == (
        '(project = A) AND updated >= "x" ORDER BY key ASC'
    )
    assert (
        compose_jql("project = A OR project = B") == "(project = A OR project = B) ORDER BY key ASC"
    )


def test_projects_named_in_jql():
    assert projects_in_jql("project = ABC AND issuetype != Epic") == {"ABC"}
    assert projects_in_jql('project in (ABC, "DEF") OR project="xy"') == {"ABC", "DEF", "XY"}
    assert projects_in_jql("filter = 123") == set()


def test_release_at_end_of_local_day():
    assert release_time("2024-07-10", ZoneInfo("Asia/Shanghai")) == pd.Timestamp(
        "2024-07-10T15:59:59", tz="UTC"
    )
