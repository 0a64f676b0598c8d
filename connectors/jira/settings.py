"""The `[[sources]]` table of a Jira source, validated into frozen `JiraSettings`.

Every option is documented in docs/jira.md; unknown keys are refused with a suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from metrics.errors import ConfigError
from metrics.schema import check_keys, get_bool, get_int, get_str, get_str_list

DEPLOYMENTS = ("auto", "cloud", "datacenter")

KEYS = (
    "url",
    "jql",
    "deployment",
    "email_env",
    "token_env",
    "flag_field",
    "use_flags",
    "blocked_labels",
    "releases",
    "projects",
    "page_size",
    "overlap_minutes",
    "retries",
    "retry_wait",
    "max_retry_wait",
    "timeout",
)


@dataclass(frozen=True)
class JiraSettings:
    url: str
    """The site, e.g. https://acme.atlassian.net or https://jira.acme.com/jira (no trailing /)."""
    jql: str
    """The issues to pull; an ORDER BY clause is dropped (the connector orders by `updated`)."""
    deployment: str = "auto"
    """`auto` (ask serverInfo), `cloud` or `datacenter`."""
    email_env: str = "JIRA_EMAIL"
    token_env: str = "JIRA_TOKEN"
    flag_field: str = "Flagged"
    """The name (not id) of the field whose value marks an issue as blocked."""
    use_flags: bool = True
    blocked_labels: tuple[str, ...] = ()
    """Labels whose presence also marks an issue as blocked."""
    releases: bool = True
    """Released fix versions become deployments."""
    projects: tuple[str, ...] = ()
    """Project keys whose released versions are read; default: the projects of the issues."""
    page_size: int = 100
    overlap_minutes: int = 5
    retries: int = 5
    retry_wait: float = 2.0
    """Seconds before the first retry; doubled at each further retry."""
    max_retry_wait: float = 60.0
    """Upper bound on any single wait, including a server's Retry-After."""
    timeout: float = 60.0


def _get_float(table: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}.{key} = {value!r}: expected a number of seconds >= 0")
    return float(value)


def _get_url(table: Mapping[str, Any], where: str) -> str:
    url = get_str(table, "url", where).strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"{where}.url = {url!r}: expected the site address, "
            "for example 'https://acme.atlassian.net' or 'https://jira.acme.com'"
        )
    return url


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _get_env_name(table: Mapping[str, Any], key: str, where: str, default: str) -> str:
    name = get_str(table, key, where, default=default)
    if not _ENV_NAME.match(name):
        raise ConfigError(f"{where}.{key} = {name!r}: expected an environment variable name")
    return name


def parse(table: Mapping[str, Any], where: str) -> JiraSettings:
    """Validate a Jira `[[sources]]` table (without `name` and `kind`)."""
    check_keys(table, KEYS, where)
    jql = get_str(table, "jql", where).strip()
    return JiraSettings(
        url=_get_url(table, where),
        jql=jql,
        deployment=get_str(table, "deployment", where, default="auto", choices=DEPLOYMENTS),
        email_env=_get_env_name(table, "email_env", where, "JIRA_EMAIL"),
        token_env=_get_env_name(table, "token_env", where, "JIRA_TOKEN"),
        flag_field=get_str(table, "flag_field", where, default="Flagged").strip(),
        use_flags=get_bool(table, "use_flags", where, default=True),
        blocked_labels=get_str_list(table, "blocked_labels", where),
        releases=get_bool(table, "releases", where, default=True),
        projects=tuple(p.strip().upper() for p in get_str_list(table, "projects", where)),
        page_size=get_int(table, "page_size", where, default=100),
        overlap_minutes=get_int(table, "overlap_minutes", where, default=5, minimum=0),
        retries=get_int(table, "retries", where, default=5, minimum=0),
        retry_wait=_get_float(table, "retry_wait", where, 2.0),
        max_retry_wait=_get_float(table, "max_retry_wait", where, 60.0),
        timeout=_get_float(table, "timeout", where, 60.0),
    )
