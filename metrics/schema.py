"""Validation helpers for settings tables (the workflow, `[[sources]]`): pure, no I/O.

Every error names the key (with its path in the file), the offending value and what would be
valid; an unknown key is an error that suggests the closest valid key, so a typo such as
`wip_limt` is never silently ignored.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from metrics.errors import ConfigError

_MISSING = object()


def check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Refuse any key of `table` not in `allowed`, suggesting the closest valid one."""
    allowed = list(allowed)
    for key in table:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(allowed)}"
        raise ConfigError(f"{where}: unknown key '{key}'{hint}")


def get_str(
    table: Mapping[str, Any], key: str, where: str, default: Any = _MISSING, choices=None
) -> Any:
    """A string value; required unless `default` is given; optionally one of `choices`."""
    value = table.get(key, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise ConfigError(f"{where}: missing required key '{key}'")
        return default
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} = {value!r}: expected a non-empty text")
    if choices is not None and value not in choices:
        valid = ", ".join(f"'{c}'" for c in choices)
        raise ConfigError(f"{where}.{key} = {value!r}: expected one of {valid}")
    return value


def get_int(
    table: Mapping[str, Any], key: str, where: str, default: Any = _MISSING, minimum: int = 1
) -> Any:
    """An integer >= `minimum`; required unless `default` is given."""
    value = table.get(key, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise ConfigError(f"{where}: missing required key '{key}'")
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}.{key} = {value!r}: expected an integer >= {minimum}")
    return value


def get_bool(table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key} = {value!r}: expected true or false")
    return value


def get_str_list(table: Mapping[str, Any], key: str, where: str, default=()) -> tuple[str, ...]:
    """A list of non-empty strings (a single string is refused: it is almost always a slip)."""
    value = table.get(key, _MISSING)
    if value is _MISSING:
        return tuple(default)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}.{key} = {value!r}: expected a list of non-empty texts")
    return tuple(value)


def get_str_map(table: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    """A table of text to text (for example a label-to-type mapping)."""
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(f"{where}.{key} = {value!r}: expected a table of text = text")
    return dict(value)
