"""The `[[sources]]` table of a GitHub source: defaults, and one clear line for each mistake."""

from __future__ import annotations

import pytest

from connectors.config import config_from_table
from connectors.github import KIND
from metrics.errors import ConfigError

WHERE = "flowdeck.toml: sources[0]"


def parse(**table):
    return KIND.parse({"repo": "acme/web", **table}, WHERE)


def test_defaults():
    settings = parse()
    assert (settings.items, settings.status_from, settings.deployments) == (
        "issues",
        "state",
        "none",
    )
    assert settings.api_url == "https://api.github.com"
    assert settings.token_env == "GITHUB_TOKEN"
    assert settings.blocked_labels == ("blocked",)
    assert settings.item_id(12) == "github:acme/web#12"
    assert settings.board_owner == "acme"


def test_the_issue_example_loads_through_the_config():
    config = config_from_table(
        {
            "workflow": {"stages": [{"name": "Todo"}, {"name": "Done"}]},
            "sources": [
                {
                    "name": "web",
                    "kind": "github",
                    "repo": "acme/web",
                    "status_from": "project",
                    "project": 3,
                    "deployments": "releases",
                }
            ],
        }
    )
    settings = config.source("web").settings
    assert (settings.project, settings.deployments) == (3, "releases")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"statis_from": "labels"}, "unknown key 'statis_from'; did you mean 'status_from'?"),
        ({"repo": "acme"}, "repo = 'acme': expected OWNER/NAME"),
        ({"status_from": "board"}, "status_from = 'board': expected one of"),
        ({"status_from": "project"}, "status_from = 'project' needs project = N"),
        ({"deployments": "workflow_runs"}, "needs workflow = 'FILE.yml'"),
        ({"items": "prs"}, "items = 'prs': expected one of 'issues', 'pulls', 'both'"),
        ({"project": 0}, "project = 0: expected an integer >= 1"),
        ({"page_size": 500}, "page_size = 500: GitHub allows at most 100"),
        ({"api_url": "api.github.com"}, "api_url = 'api.github.com': expected a URL"),
        ({"blocked_labels": "blocked"}, "blocked_labels = 'blocked': expected a list"),
        ({"type_labels": {"bug": 1}}, "type_labels"),
        ({"max_wait": -1}, "max_wait = -1: expected a number of seconds"),
        ({"prereleases": "yes"}, "prereleases = 'yes': expected true or false"),
    ],
)
def test_mistakes_are_one_line_naming_the_key(table, message):
    with pytest.raises(ConfigError) as err:
        parse(**table)
    assert message in str(err.value)
    assert str(err.value).startswith(WHERE)
    assert "\n" not in str(err.value)
