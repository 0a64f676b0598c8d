"""Changing a WIP limit: the workflow file rewritten in place, and the change in the store's
history (spec section 6). `flowdeck limits set` and the dashboard's WIP limits page both call
`set_limit`, so both refuse the same inputs with the same words.

The file is the one truth for today's limits: one `wip_limit` key is rewritten with tomlkit (the
user's comments, order and blank lines stay; the diff is that one line), the result is checked
by parsing it back, and it replaces the file atomically inside the store's write transaction, so
either both the file and the history change or neither does.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import tomlkit
from tomlkit.exceptions import TOMLKitError

from connectors.atomic_write import write_atomically
from connectors.config import Config, config_from_table
from connectors.secrets import scrub
from connectors.store import (
    NO_TEAM,
    Store,
    check_who_why,
    open_store,
    resolve_db_path,
)
from metrics.errors import ConfigError, FlowdeckError, InputError
from metrics.limits import TOTAL, configured_limits
from metrics.workflow import normalize_status

_BOM = "\ufeff"


@dataclass(frozen=True)
class LimitChange:
    """What `set_limit` did."""

    key: str
    """The stage's name as the workflow file spells it, or `TOTAL`."""
    old: int | None
    new: int | None
    changed: bool
    """False when the limit already had that value (nothing was written)."""
    path: Path

    def describe(self) -> str:
        where = "the total WIP limit" if self.key == TOTAL else f"{self.key}'s WIP limit"
        if not self.changed:
            return f"{where} is already {shown(self.new)}; nothing changed"
        return f"{where}: {shown(self.old)} -> {shown(self.new)} (written to {self.path.name})"


def shown(limit: int | None) -> str:
    return "none" if limit is None else str(limit)


def limit_keys(config: Config) -> list[str]:
    """What a limit can be set on: every stage before the delivery point, then `total`."""
    return [s.name for s in config.workflow.stages[: config.workflow.done]] + [TOTAL]


def resolve_key(config: Config, name: str) -> str:
    """A stage name (any case, outer spaces ignored) or `total` -> the history's key. Raises
    `InputError` naming the valid choices."""
    wanted = normalize_status(str(name))
    if wanted == TOTAL:
        return TOTAL
    for key in limit_keys(config)[:-1]:
        if normalize_status(key) == wanted:
            return key
    valid = ", ".join(f"'{k}'" for k in limit_keys(config))
    raise InputError(f"unknown stage {name!r} for a WIP limit; expected one of {valid}")


def current_limit(config: Config, key: str) -> int | None:
    """The limit the workflow file holds for `key` (a stage's name or `TOTAL`)."""
    if key == TOTAL:
        return config.workflow.wip_limit
    return config.workflow.stages[config.workflow.stage_names.index(key)].wip_limit


def parse_limit(value: object) -> int | None:
    """`none` -> None; an integer >= 1 -> itself; anything else is an `InputError`."""
    text = str(value).strip()
    if text.casefold() == "none":
        return None
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or isinstance(value, bool) or number < 1:
        raise InputError(
            f"WIP limit {text!r}: expected a whole number of at least 1, or 'none' to remove it"
        )
    return number


def rewrite_limit(text: str, config: Config, key: str, new: int | None) -> str:
    """The workflow file's text with one `wip_limit` set to `new` (None removes the key) and
    nothing else changed. Raises `ConfigError` when the result would not read back as the same
    workflow with only that limit changed (a layout tomlkit cannot edit safely)."""
    bom = text.startswith(_BOM)
    body = text[1:] if bom else text
    try:
        doc = tomlkit.parse(body)
        table = doc["workflow"] if key == TOTAL else _stage_table(doc, config, key)
        if new is None:
            if "wip_limit" in table:
                del table["wip_limit"]
        else:
            table["wip_limit"] = new
        result = doc.as_string()
    except (TOMLKitError, KeyError, IndexError, TypeError) as exc:
        raise ConfigError(f"{config.path}: cannot rewrite wip_limit in place ({exc})") from None
    _check_one_change(body, result, config, key, new)
    return (_BOM if bom else "") + result


def _stage_table(doc: Any, config: Config, key: str) -> Any:
    stages = doc["workflow"]["stages"]
    index = config.workflow.stage_names.index(key)
    return stages[index]


def _check_one_change(before: str, after: str, config: Config, key: str, new: int | None) -> None:
    expected = tomllib.loads(before)
    workflow = expected["workflow"]
    table = workflow if key == TOTAL else workflow["stages"][config.workflow.stage_names.index(key)]
    if new is None:
        table.pop("wip_limit", None)
    else:
        table["wip_limit"] = new
    try:
        actual = tomllib.loads(after)
    except tomllib.TOMLDecodeError:
        actual = None
    if actual != expected:
        raise ConfigError(
            f"{config.path}: rewriting wip_limit in place would change more than that key; "
            "edit the file by hand (Flowdeck records the change the next time it reads it)"
        )


def reconcile(config: Config, store: Store, team: str = NO_TEAM) -> pd.DataFrame:
    """Record hand edits of the workflow file's limits in `team`'s history (once each);
    returns the rows recorded. The demo's workflow (no file) records nothing."""
    if config.path is None:
        return store.wip_limit_changes(team).iloc[:0]
    return store.reconcile_wip_limits(configured_limits(config.workflow), team=team)


def reconcile_if_possible(config: Config, store: Store, team: str = NO_TEAM) -> pd.DataFrame | None:
    """`reconcile` for readers (an export, the dashboard): when the store cannot be written
    right now (a sync holds it, a read-only file), the hand edit is recorded on a later read
    instead of failing the read. None when it could not be recorded."""
    try:
        return reconcile(config, store, team)
    except FlowdeckError as exc:
        logging.getLogger("flowdeck").warning("hand edits of WIP limits not recorded yet: %s", exc)
        return None


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: workflow file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the workflow file ({exc.strerror})") from None


def _config_of(text: str, path: Path) -> Config:
    try:
        data = tomllib.loads(text[1:] if text.startswith(_BOM) else text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return config_from_table(data, path)


def _write(path: Path, text: str, mode: int) -> None:
    write_atomically(path, text)
    # The temporary file is created private; the workflow file keeps its own mode.
    os.chmod(path, mode)


def _check_writable(path: Path) -> None:
    # The file is replaced by a new one in the same folder: both must be writable.
    if not os.access(path, os.W_OK):
        raise FlowdeckError(
            f"{path}: cannot write the workflow file (permission denied); nothing changed"
        )
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise FlowdeckError(
            f"{path}: cannot write in its folder {path.parent} (permission denied), which an "
            "atomic rewrite needs; nothing changed"
        )


def set_limit(
    config_path: str | os.PathLike,
    stage: str,
    limit: object,
    who: str,
    why: str,
    db: str | os.PathLike | None = None,
    team: str = NO_TEAM,
) -> LimitChange:
    """Set one WIP limit (`stage` a stage name or `total`; `limit` a number >= 1 or `none`):
    the workflow file rewritten in place and the change recorded in the store (created beside
    the file when missing), or nothing at all. Every refusal is one `FlowdeckError` line:
    unknown stage, bad limit, missing or too long who/why, unwritable file or store.

    `team`: the team of a portfolio whose workflow file `config_path` is; its history is kept
    apart from the other teams' (`db` is then the portfolio's store)."""
    path = Path(config_path).expanduser().resolve()
    text = _read_text(path)
    config = _config_of(text, path)
    key = resolve_key(config, stage)
    new = parse_limit(limit)
    # A credential typed into the reason by mistake is never stored (nor shown from the store).
    who, why = check_who_why(scrub(who or ""), scrub(why or ""))
    old = current_limit(config, key)
    if old == new:
        return LimitChange(key, old, new, changed=False, path=path)
    new_text = rewrite_limit(text, config, key, new)
    _check_writable(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    written = False

    def apply() -> None:
        nonlocal written
        if _read_text(path) != text:
            raise FlowdeckError(
                f"{path}: the workflow file changed while the limit was being set; try again"
            )
        try:
            _write(path, new_text, mode)
        except OSError as exc:
            raise FlowdeckError(
                f"{path}: cannot write the workflow file ({exc.strerror}); nothing changed"
            ) from None
        written = True

    with open_store(resolve_db_path(config, db), create=True) as store:
        # A hand edit made before this change is recorded first, under its own name.
        reconcile(config, store, team)
        try:
            store.record_wip_limit_change(key, old, new, who=who, why=why, apply=apply, team=team)
        except BaseException:
            if written:  # the commit failed after the file was replaced: put it back
                _write(path, text, mode)
            raise
    return LimitChange(key, old, new, changed=True, path=path)
