"""Reading `flowdeck.toml`: the `[workflow]` table and the `[[sources]]` tables.

Both are validated into frozen objects; unknown keys anywhere are errors with a suggestion.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from connectors.kinds import parse_source_settings
from metrics.errors import ConfigError
from metrics.schema import check_keys, get_str
from metrics.workflow import Workflow, rework_types_from_table, workflow_from_table

TOP_KEYS = ("workflow", "delivery", "sources", "dashboard")
DASHBOARD_KEYS = ("allowed_hosts",)
#: The workflow file every command looks for in the working directory when none is named.
DEFAULT_CONFIG = "flowdeck.toml"
SOURCE_COMMON_KEYS = ("name", "kind")


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    settings: Any
    """The kind's own frozen settings object (see each connector's `parse`)."""


@dataclass(frozen=True)
class Config:
    workflow: Workflow
    sources: tuple[SourceConfig, ...] = ()
    path: Path | None = None
    allowed_hosts: tuple[str, ...] = ()
    """`[dashboard] allowed_hosts`: more host names `flowdeck dashboard` answers to."""

    @property
    def directory(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(f"'{s.name}'" for s in self.sources) or "none"
        raise ConfigError(f"no source named '{name}' in {self.path} (sources: {known})")


def parse_sources(raw: Any, where: str = "sources") -> tuple[SourceConfig, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected [[sources]] tables")
    sources: list[SourceConfig] = []
    for i, table in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{at}: expected a table, got {table!r}")
        name = get_str(table, "name", at)
        kind_name = get_str(table, "kind", at)
        if any(s.name == name for s in sources):
            raise ConfigError(f"{at}.name = {name!r}: source names must be unique")
        own = {k: v for k, v in table.items() if k not in SOURCE_COMMON_KEYS}
        settings = parse_source_settings(kind_name, own, at)
        sources.append(SourceConfig(name=name, kind=kind_name, settings=settings))
    return tuple(sources)


def config_from_table(data: Mapping[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path is not None else DEFAULT_CONFIG
    if "teams" in data and "workflow" not in data:
        names = ", ".join(str(t.get("name", "?")) for t in data["teams"] if isinstance(t, Mapping))
        raise ConfigError(
            f"{where} is a portfolio of teams ({names}): pass --team NAME (docs/teams.md)"
        )
    check_keys(data, TOP_KEYS, where)
    if "workflow" not in data:
        raise ConfigError(f"{where}: missing the [workflow] table")
    workflow = workflow_from_table(data["workflow"], f"{where}: workflow")
    rework = rework_types_from_table(data.get("delivery"), f"{where}: delivery")
    workflow = replace(workflow, rework_types=rework)
    sources = parse_sources(data.get("sources"), f"{where}: sources")
    allowed_hosts = parse_dashboard(data.get("dashboard"), f"{where}: dashboard")
    return Config(workflow=workflow, sources=sources, path=path, allowed_hosts=allowed_hosts)


def parse_dashboard(raw: Any, where: str) -> tuple[str, ...]:
    """The `[dashboard]` table: only `allowed_hosts`, a list of host names."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a [dashboard] table")
    check_keys(raw, DASHBOARD_KEYS, where)
    hosts = raw.get("allowed_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h.strip() for h in hosts):
        raise ConfigError(f"{where}.allowed_hosts: expected a list of host names, got {hosts!r}")
    return tuple(h.strip() for h in hosts)


def find_config_path(path: str | Path | None) -> Path | None:
    """The workflow file to use: `path` when given, else `./flowdeck.toml` if it exists."""
    if path is not None:
        return Path(path).expanduser().resolve()
    default = Path(DEFAULT_CONFIG)
    return default.resolve() if default.is_file() else None


def load_config(path: Path | str) -> Config:
    """Read and validate a workflow file; every problem is a one-line `ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: workflow file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    return config_from_table(data, path.resolve())
