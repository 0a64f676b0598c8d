"""The registry of source kinds: `kind = "..."` in a `[[sources]]` table -> its module.

Each module named here exposes `KIND: connectors.base.SourceKind`. Modules are imported only
when a source of that kind is used, so a CSV-only user never imports PyGithub or jira.
"""

from __future__ import annotations

import difflib
import importlib

from connectors.base import SourceKind
from metrics.errors import ConfigError

KIND_MODULES = {
    "csv": "connectors.csv_source",
    "github": "connectors.github",
    "jira": "connectors.jira",
}


def source_kind(kind: str, where: str) -> SourceKind:
    module_name = KIND_MODULES.get(kind)
    if module_name is None:
        close = difflib.get_close_matches(kind, list(KIND_MODULES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        valid = ", ".join(f"'{k}'" for k in KIND_MODULES)
        raise ConfigError(f"{where}.kind = {kind!r}: unknown source kind (valid: {valid}){hint}")
    return importlib.import_module(module_name).KIND
