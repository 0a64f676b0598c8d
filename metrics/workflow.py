"""The workflow of `flowdeck.toml` (spec section 2) as frozen, typed objects.

`workflow_from_table` validates the parsed `[workflow]` table; reading the file is the caller's job
(metrics never does I/O). Status names match case-insensitively with surrounding white space
ignored; `status_positions` gives the lookup the metrics use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metrics.errors import ConfigError
from metrics.schema import check_keys, get_bool, get_int, get_str, get_str_list

WORKFLOW_KEYS = ("timezone", "start", "done", "discarded", "wip_limit", "stages")
STAGE_KEYS = ("name", "statuses", "wip_limit", "waiting")
DELIVERY_KEYS = ("rework_types",)
#: Item types whose deployments count as rework (DORA 2024), unless `[delivery] rework_types`.
DEFAULT_REWORK_TYPES = ("Bug", "Incident", "Hotfix")

#: Position code of a discarded item: below every stage, so "position >= start" excludes it.
DISCARDED = -1


def normalize_status(name: str) -> str:
    """The form in which status names are compared: case-folded, outer white space removed."""
    return name.strip().casefold()


@dataclass(frozen=True)
class Stage:
    name: str
    statuses: tuple[str, ...]
    wip_limit: int | None = None
    waiting: bool = False


@dataclass(frozen=True)
class Workflow:
    stages: tuple[Stage, ...]
    start: int
    """Index of the commitment point (the first in-progress stage)."""
    done: int
    """Index of the delivery point (the first stage that counts as done)."""
    timezone: str = "UTC"
    discarded: tuple[str, ...] = ()
    wip_limit: int | None = None
    rework_types: tuple[str, ...] = DEFAULT_REWORK_TYPES
    """Item types that make a deployment rework (`[delivery] rework_types`)."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    @property
    def in_progress_names(self) -> list[str]:
        return [s.name for s in self.stages[self.start : self.done]]

    def status_positions(self) -> dict[str, int]:
        """Normalized status -> stage index, or `DISCARDED`.

        A stage's own name also maps to it unless that name is listed as a status elsewhere,
        so a stage-date file (whose columns are stage names) always imports.
        """
        lookup: dict[str, int] = {}
        for i, stage in enumerate(self.stages):
            for status in stage.statuses:
                lookup[normalize_status(status)] = i
        for status in self.discarded:
            lookup[normalize_status(status)] = DISCARDED
        for i, stage in enumerate(self.stages):
            lookup.setdefault(normalize_status(stage.name), i)
        return lookup


def _stage_index(names: list[str], value: str, key: str, where: str) -> int:
    wanted = normalize_status(value)
    for i, name in enumerate(names):
        if normalize_status(name) == wanted:
            return i
    valid = ", ".join(f"'{n}'" for n in names)
    raise ConfigError(f"{where}.{key} = {value!r}: not a stage name; expected one of {valid}")


def workflow_from_table(table: Mapping[str, Any], where: str = "workflow") -> Workflow:
    """Validate a parsed `[workflow]` table into a `Workflow`.

    Raises `ConfigError` naming the key, the value and what would be valid.
    """
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table, got {table!r}")
    check_keys(table, WORKFLOW_KEYS, where)
    timezone = get_str(table, "timezone", where, default="UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}.timezone = {timezone!r}: not an IANA time zone name "
            "(for example 'UTC', 'Europe/London', 'America/New_York')"
        ) from None

    raw_stages = table.get("stages")
    if not isinstance(raw_stages, list) or len(raw_stages) < 2:
        raise ConfigError(
            f"{where}.stages: expected at least two [[workflow.stages]] tables in flow order"
        )
    stages: list[Stage] = []
    owner: dict[str, str] = {}
    for i, raw in enumerate(raw_stages):
        at = f"{where}.stages[{i}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{at}: expected a table, got {raw!r}")
        check_keys(raw, STAGE_KEYS, at)
        name = get_str(raw, "name", at).strip()
        if any(normalize_status(s.name) == normalize_status(name) for s in stages):
            raise ConfigError(f"{at}.name = {name!r}: stage names must be unique")
        statuses = get_str_list(raw, "statuses", at, default=(name,))
        if not statuses:
            raise ConfigError(f"{at}.statuses = []: expected at least one status")
        for status in statuses:
            key = normalize_status(status)
            if key in owner and owner[key] != name:
                raise ConfigError(
                    f"{at}.statuses: status {status!r} is already in stage '{owner[key]}'; "
                    "a status may belong to one stage only"
                )
            owner[key] = name
        stages.append(
            Stage(
                name=name,
                statuses=tuple(s.strip() for s in statuses),
                wip_limit=get_int(raw, "wip_limit", at, default=None),
                waiting=get_bool(raw, "waiting", at, default=False),
            )
        )

    names = [s.name for s in stages]
    start = (
        _stage_index(names, get_str(table, "start", where), "start", where)
        if "start" in table
        else 1
    )
    done = (
        _stage_index(names, get_str(table, "done", where), "done", where)
        if "done" in table
        else len(stages) - 1
    )
    if start > done:
        raise ConfigError(
            f"{where}.start = {names[start]!r} comes after {where}.done = {names[done]!r}; "
            "the commitment point must not come after the delivery point"
        )
    discarded = get_str_list(table, "discarded", where)
    for status in discarded:
        if normalize_status(status) in owner:
            raise ConfigError(
                f"{where}.discarded: status {status!r} is also a status of stage "
                f"'{owner[normalize_status(status)]}'; a discarded status must not be a stage "
                "status"
            )
    return Workflow(
        stages=tuple(stages),
        start=start,
        done=done,
        timezone=timezone,
        discarded=tuple(s.strip() for s in discarded),
        wip_limit=get_int(table, "wip_limit", where, default=None),
    )


def rework_types_from_table(table: Any, where: str = "delivery") -> tuple[str, ...]:
    """Validate a parsed `[delivery]` table; returns its `rework_types` (default
    `DEFAULT_REWORK_TYPES`). An empty list is allowed: no deployment then counts as rework."""
    if table is None:
        return DEFAULT_REWORK_TYPES
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table, got {table!r}")
    check_keys(table, DELIVERY_KEYS, where)
    types = get_str_list(table, "rework_types", where, default=DEFAULT_REWORK_TYPES)
    return tuple(t.strip() for t in types)
