"""The settings of one `kind = "github"` source, validated into a frozen object.

Every key is documented in docs/github.md; unknown keys are refused with a suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from metrics.errors import ConfigError
from metrics.schema import check_keys, get_bool, get_int, get_str, get_str_list, get_str_map

ITEMS = ("issues", "pulls", "both")
STATUS_FROM = ("project", "labels", "state")
DEPLOYMENTS = ("none", "deployments", "releases", "workflow_runs")

KEYS = (
    "repo",
    "items",
    "status_from",
    "project",
    "project_owner",
    "status_field",
    "label_prefix",
    "blocked_labels",
    "type_labels",
    "deployments",
    "environment",
    "prereleases",
    "workflow",
    "branch",
    "api_url",
    "token_env",
    "page_size",
    "timeout",
    "retries",
    "backoff",
    "max_wait",
)

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class GithubSettings:
    repo: str
    items: str = "issues"
    status_from: str = "state"
    project: int | None = None
    project_owner: str = ""
    status_field: str = "Status"
    label_prefix: str = "status: "
    blocked_labels: tuple[str, ...] = ("blocked",)
    type_labels: Mapping[str, str] = field(default_factory=dict)
    deployments: str = "none"
    environment: str = "production"
    prereleases: bool = False
    workflow: str = ""
    branch: str = "main"
    api_url: str = DEFAULT_API_URL
    token_env: str = "GITHUB_TOKEN"
    page_size: int = 100
    timeout: int = 30
    retries: int = 5
    backoff: float = 1.0
    """Seconds: the first wait before retrying a 5xx or a timeout; it doubles each retry."""
    max_wait: float = 300.0
    """Seconds: the longest wait for a rate limit; a longer one stops the sync (resumable)."""

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.repo.split("/", 1)[1]

    @property
    def board_owner(self) -> str:
        return self.project_owner or self.owner

    def item_id(self, number: int) -> str:
        return f"github:{self.repo}#{number}"


def _get_seconds(table: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}.{key} = {value!r}: expected a number of seconds >= 0")
    return float(value)


def parse_settings(table: Mapping[str, Any], where: str) -> GithubSettings:
    """Validate one `[[sources]]` table (without `name` and `kind`)."""
    check_keys(table, KEYS, where)
    repo = get_str(table, "repo", where).strip()
    if not _REPO.match(repo):
        raise ConfigError(f"{where}.repo = {repo!r}: expected OWNER/NAME, for example 'acme/web'")
    status_from = get_str(table, "status_from", where, default="state", choices=STATUS_FROM)
    project = get_int(table, "project", where, default=None)
    if status_from == "project" and project is None:
        raise ConfigError(
            f"{where}: status_from = 'project' needs project = N "
            "(the number in the board's URL, .../projects/N)"
        )
    deployments = get_str(table, "deployments", where, default="none", choices=DEPLOYMENTS)
    workflow = get_str(table, "workflow", where, default="")
    if deployments == "workflow_runs" and not workflow:
        raise ConfigError(
            f"{where}: deployments = 'workflow_runs' needs workflow = 'FILE.yml' "
            "(the workflow file name under .github/workflows/)"
        )
    api_url = get_str(table, "api_url", where, default=DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise ConfigError(
            f"{where}.api_url = {api_url!r}: expected a URL such as 'https://api.github.com' "
            "or 'https://HOST/api/v3' for GitHub Enterprise Server"
        )
    label_prefix = table.get("label_prefix", "status: ")
    if not isinstance(label_prefix, str) or not label_prefix.strip():
        raise ConfigError(f"{where}.label_prefix = {label_prefix!r}: expected a non-empty text")
    page_size = get_int(table, "page_size", where, default=100)
    if page_size > 100:
        raise ConfigError(f"{where}.page_size = {page_size}: GitHub allows at most 100")
    return GithubSettings(
        repo=repo,
        items=get_str(table, "items", where, default="issues", choices=ITEMS),
        status_from=status_from,
        project=project,
        project_owner=get_str(table, "project_owner", where, default=""),
        status_field=get_str(table, "status_field", where, default="Status"),
        label_prefix=label_prefix,
        blocked_labels=get_str_list(table, "blocked_labels", where, default=("blocked",)),
        type_labels=get_str_map(table, "type_labels", where),
        deployments=deployments,
        environment=get_str(table, "environment", where, default="production"),
        prereleases=get_bool(table, "prereleases", where, default=False),
        workflow=workflow,
        branch=get_str(table, "branch", where, default="main"),
        api_url=api_url,
        token_env=get_str(table, "token_env", where, default="GITHUB_TOKEN"),
        page_size=page_size,
        timeout=get_int(table, "timeout", where, default=30),
        retries=get_int(table, "retries", where, default=5, minimum=0),
        backoff=_get_seconds(table, "backoff", where, 1.0),
        max_wait=_get_seconds(table, "max_wait", where, 300.0),
    )
