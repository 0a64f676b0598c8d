"""Many teams in one deployment: a portfolio file that lists the teams' workflow files.

```toml
[[teams]]
name = "search"
workflow = "teams/search.toml"

[[teams]]
name = "payments"
workflow = "teams/payments.toml"
```

Each team's workflow file is an ordinary `flowdeck.toml` (its stages, limits, time zone and
`[[sources]]`), so a single team keeps working exactly as before, and any team's file can be
used on its own. The portfolio shares one store (beside the portfolio file, or `--db`); a
source named in two teams' files is one source, fetched once, and must be defined the same way
in both. Validated into frozen objects; every problem is one line naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.config import Config, SourceConfig, load_config
from metrics.errors import ConfigError
from metrics.schema import check_keys, get_str

TOP_KEYS = ("teams",)
TEAM_KEYS = ("name", "workflow")
#: Team names travel in URLs (`?team=NAME`) and on command lines: letters, digits, `-`, `_`, `.`.
_TEAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Team:
    name: str
    config: Config
    """The team's own workflow file, read and validated."""

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.config.sources)


@dataclass(frozen=True)
class Portfolio:
    path: Path
    teams: tuple[Team, ...]

    @property
    def directory(self) -> Path:
        """Where the shared store lives by default (`.flowdeck/flowdeck.db` here)."""
        return self.path.parent

    def team(self, name: str) -> Team:
        for team in self.teams:
            if team.name == name:
                return team
        known = ", ".join(t.name for t in self.teams)
        raise ConfigError(f"{self.path}: no team named '{name}' (teams: {known})")


def read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None


def is_portfolio(path: Path | None) -> bool:
    """Whether the file is a portfolio (it has `[[teams]]` and no `[workflow]`)."""
    if path is None or not path.is_file():
        return False
    data = read_toml(path)
    return "teams" in data and "workflow" not in data


def load_portfolio(path: Path | str) -> Portfolio:
    """Read a portfolio file and every team's workflow file; one-line `ConfigError`s."""
    path = Path(path).expanduser().resolve()
    data = read_toml(path)
    where = str(path)
    check_keys(data, TOP_KEYS, where)
    raw = data.get("teams")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: expected one or more [[teams]] tables")
    teams: list[Team] = []
    for i, table in enumerate(raw):
        at = f"{where}: teams[{i}]"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{at}: expected a table")
        check_keys(table, TEAM_KEYS, at)
        name = get_str(table, "name", at)
        if not _TEAM_NAME.match(name):
            raise ConfigError(
                f"{at}.name = {name!r}: use letters, digits, '-', '_' and '.' (it goes in URLs)"
            )
        if any(t.name == name for t in teams):
            raise ConfigError(f"{at}.name = {name!r}: team names must be unique")
        file = path.parent / get_str(table, "workflow", at)
        if not file.is_file():
            raise ConfigError(f"{at}.workflow = {str(table['workflow'])!r}: file not found")
        if is_portfolio(file):
            raise ConfigError(f"{at}.workflow: {file} is a portfolio, not a team's workflow file")
        teams.append(Team(name=name, config=load_config(file)))
    _check_shared_sources(path, teams)
    return Portfolio(path=path, teams=tuple(teams))


def _check_shared_sources(path: Path, teams: list[Team]) -> None:
    """A source in two teams' files is one source in the store: it must be the same source."""
    seen: dict[str, tuple[Team, SourceConfig]] = {}
    for team in teams:
        for source in team.config.sources:
            if source.name not in seen:
                seen[source.name] = (team, source)
                continue
            other_team, other = seen[source.name]
            if _bound(other, other_team) != _bound(source, team):
                raise ConfigError(
                    f"{path}: source '{source.name}' is defined differently by teams "
                    f"'{other_team.name}' and '{team.name}'; a shared source must be the same "
                    "in both files (or give one of them another name)"
                )


def _bound(source: SourceConfig, team: Team) -> tuple[str, Any, str]:
    """What decides the rows a source gives: its settings, with a file source's paths resolved
    from its workflow file's folder, and the time zone naive times are read in. (The rest of
    the workflow, limits above all, differs between teams without changing the rows.)"""
    settings = source.settings
    if (
        dataclasses.is_dataclass(settings)
        and not isinstance(settings, type)
        and hasattr(settings, "path")
    ):
        files = {
            key: str(settings.path(value)) if isinstance(value, str) else value
            for key in ("events", "stage_dates", "deployments")
            if hasattr(settings, key) and (value := getattr(settings, key)) is not None
        }
        settings = dataclasses.replace(settings, **files)
        if hasattr(settings, "base_dir"):
            settings = dataclasses.replace(settings, base_dir=None)
    return source.kind, settings, team.config.workflow.timezone


def sync_plan(portfolio: Portfolio, team: str | None = None) -> list[tuple[Team, list[str]]]:
    """Which team's file syncs which sources: each source once, by the first team naming it
    (`team`: that team's sources only)."""
    teams = [portfolio.team(team)] if team is not None else list(portfolio.teams)
    done: set[str] = set()
    plan: list[tuple[Team, list[str]]] = []
    for member in teams:
        names = [n for n in member.source_names if n not in done]
        done.update(names)
        if names:
            plan.append((member, names))
    return plan
