"""The registry of source kinds: `kind = "..."` in a `[[sources]]` table -> its module.

Each module named in KIND_MODULES exposes `KIND: connectors.base.SourceKind`; it is imported only
when a source of that kind is synced, so a CSV-only user never imports PyGithub or jira. Reading
a workflow file needs only a kind's settings parser: SETTINGS_PARSERS names it for the kinds
whose module is heavy, so that naming a GitHub source in `flowdeck.toml` imports neither PyGithub
nor pandas for a command that merely reads the file (`status`, `init`).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from metrics.errors import ConfigError

if TYPE_CHECKING:
    from connectors.base import SourceKind

KIND_MODULES = {
    "csv": "connectors.csv_source",
    "github": "connectors.github",
    "jira": "connectors.jira",
}
#: kind -> (module, function) of its settings parser, the same function as its `KIND.parse`.
SETTINGS_PARSERS = {
    "github": ("connectors.github.settings", "parse_settings"),
    "jira": ("connectors.jira.settings", "parse"),
}


def _check_kind(kind: str, where: str) -> str:
    module_name = KIND_MODULES.get(kind)
    if module_name is None:
        close = difflib.get_close_matches(kind, list(KIND_MODULES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        valid = ", ".join(f"'{k}'" for k in KIND_MODULES)
        raise ConfigError(f"{where}.kind = {kind!r}: unknown source kind (valid: {valid}){hint}")
    return module_name


def source_kind(kind: str, where: str) -> SourceKind:
    return importlib.import_module(_check_kind(kind, where)).KIND


def parse_source_settings(kind: str, table: Mapping[str, Any], where: str) -> Any:
    """A `[[sources]]` table's own keys validated into the kind's frozen settings."""
    _check_kind(kind, where)
    parser = SETTINGS_PARSERS.get(kind)
    if parser is None:
        return source_kind(kind, where).parse(table, where)
    module_name, function = parser
    return getattr(importlib.import_module(module_name), function)(table, where)
