"""The `csv` source kind: event-log, stage-date and deployments CSV files named in a
`[[sources]]` table, synced into the store like any other source.

```toml
[[sources]]
name = "team"
kind = "csv"
events = "data/events.csv"            # event log (spec 1.1), relative to the workflow file
stage_dates = "data/stages.csv"       # optional: stage-date file (spec 1.2)
deployments = "data/deployments.csv"  # optional: deployments file (spec 1.3)
map = { item_id = "Key", changed_at = "Date" }   # optional: event-log column names
```

At least one file is required. Ids are namespaced `csv:NAME:ID` (items and deployments); an
item id in a deployment's `items` that is already namespaced (`jira:ABC-7`, `github:o/r#12`,
`csv:other:7`) is kept as it is, so a deployments file can name another source's items.

The files are the whole truth of the source, so every sync that reads them replaces the source's
rows. The cursor is a fingerprint of the files' contents and of the settings that shape them
(time zone, column map): an unchanged set of files is not read again.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from connectors.base import Chunk, Progress, SourceKind
from connectors.csv_files import (
    EVENT_OPTIONAL,
    EVENT_REQUIRED,
    count_cut_titles,
    read_deployments,
    read_event_log,
    read_stage_dates,
)
from metrics.errors import ConfigError
from metrics.frames import FlowData, empty_shipped
from metrics.schema import check_keys, get_str, get_str_map
from metrics.workflow import Workflow

if TYPE_CHECKING:
    from connectors.config import Config

KEYS = ("events", "stage_dates", "deployments", "map")
FILE_KEYS = ("events", "stage_dates", "deployments")
NAMESPACES = ("csv:", "github:", "jira:")


@dataclass(frozen=True)
class CsvSettings:
    events: str | None = None
    stage_dates: str | None = None
    deployments: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    """Event-log column map, canonical name -> the file's column."""
    name: str = ""
    """The source's name (set by `bind`; ids are namespaced with it)."""
    base_dir: Path | None = None
    """The workflow file's folder, which relative paths start from (set by `bind`)."""
    workflow: Workflow | None = None

    def bind(self, config: Config, name: str) -> CsvSettings:
        """These settings with what only the whole configuration knows: the source's name,
        the folder relative paths start from, the workflow (time zone, stages)."""
        return dataclasses.replace(
            self, name=name, base_dir=config.directory, workflow=config.workflow
        )

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        if path.is_absolute() or self.base_dir is None:
            return path
        return self.base_dir / path

    def files(self) -> list[tuple[str, Path]]:
        return [(key, self.path(v)) for key in FILE_KEYS if (v := getattr(self, key)) is not None]

    @property
    def timezone(self) -> str:
        return self.workflow.timezone if self.workflow is not None else "UTC"


def parse(table: Mapping[str, Any], where: str) -> CsvSettings:
    check_keys(table, KEYS, where)
    files = {key: get_str(table, key, where, default=None) for key in FILE_KEYS}
    if not any(files.values()):
        raise ConfigError(
            f"{where}: a csv source needs at least one of 'events', 'stage_dates' or "
            "'deployments' (a path to a CSV file)"
        )
    mapping = get_str_map(table, "map", where)
    if mapping and not files["events"]:
        raise ConfigError(f"{where}.map: only applies to the 'events' file, which is not set")
    check_keys(mapping, EVENT_REQUIRED + EVENT_OPTIONAL, f"{where}.map")
    for key, column in mapping.items():
        if not column.strip():
            raise ConfigError(f"{where}.map.{key}: expected the name of a column, got ''")
    return CsvSettings(**files, mapping=tuple(sorted(mapping.items())))


def make_client(settings: CsvSettings, secrets: Mapping[str, str]) -> None:
    """Files need no client and no credentials."""
    return None


def fingerprint(settings: CsvSettings) -> str:
    """What the cursor records: the files' contents and the settings that shape their rows."""
    digest = hashlib.sha256()
    digest.update(f"tz={settings.timezone};map={settings.mapping}".encode())
    if settings.workflow is not None:
        digest.update(repr(settings.workflow.stage_names).encode())
    for key, path in settings.files():
        digest.update(f";{key}=".encode())
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            # The reader gives the clear error (file not found, not a file...).
            digest.update(b"<unreadable>")
    return "sha256:" + digest.hexdigest()


def read_file(kind: str, path: Path, settings: CsvSettings) -> FlowData:
    """One CSV file of the given kind, ids namespaced for this source."""
    if kind == "events":
        data = read_event_log(path, settings.timezone, dict(settings.mapping) or None)
    elif kind == "stage_dates":
        if settings.workflow is None:
            raise ConfigError(f"{path}: a stage-date file needs a workflow file (--config)")
        data = read_stage_dates(path, settings.workflow)
    elif kind == "deployments":
        data = read_deployments(path, settings.timezone)
    else:
        raise ValueError(f"unknown CSV kind {kind!r}")
    return namespaced(data, settings.name)


def namespaced(data: FlowData, name: str) -> FlowData:
    prefix = f"csv:{name}:"
    items = data.items.assign(item_id=prefix + data.items["item_id"].astype(str), source=name)
    events = data.events.assign(item_id=prefix + data.events["item_id"].astype(str))
    deployments = data.deployments.assign(
        deploy_id=prefix + data.deployments["deploy_id"].astype(str), source=name
    )
    shipped = data.shipped
    if len(shipped):
        ids = shipped["item_id"].astype(str)
        foreign = ids.str.startswith(NAMESPACES)
        shipped = pd.DataFrame(
            {
                "deploy_id": prefix + shipped["deploy_id"].astype(str),
                "item_id": ids.where(foreign, prefix + ids),
            }
        )
    else:
        shipped = empty_shipped()
    return FlowData(items=items, events=events, deployments=deployments, shipped=shipped)


def fetch(
    settings: CsvSettings, client: None, since: str | None, progress: Progress
) -> Iterator[Chunk]:
    """One chunk with everything in the files, or nothing when they have not changed since
    the cursor."""
    cursor = fingerprint(settings)
    if since == cursor:
        progress.update(0, 0, "files unchanged")
        return
    files = settings.files()
    parts: list[FlowData] = []
    rows = 0
    for done, (kind, path) in enumerate(files, start=1):
        progress.update(rows, None, f"reading {path.name}")
        data = read_file(kind, path, settings)
        parts.append(data)
        rows += len(data.events) + len(data.deployments)
        progress.update(rows, None, f"{done}/{len(files)} files")
    items = _concat([p.items for p in parts]).drop_duplicates("item_id", keep="last")
    events = _concat([p.events for p in parts])
    if len(events):
        # Files after one another: the order of same-instant events stays file order.
        events = events.assign(seq=range(len(events)))
    progress.update(rows, rows, f"{len(items)} items, {len(events)} events")
    cut = count_cut_titles(items)
    yield Chunk(
        items=items,
        events=events,
        deployments=_concat([p.deployments for p in parts]),
        shipped=_concat([p.shipped for p in parts]),
        cursor=cursor,
        quality={"truncated_titles": cut} if cut else {},
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0] if frames else pd.DataFrame()
    return pd.concat(filled, ignore_index=True)


KIND = SourceKind(name="csv", parse=parse, make_client=make_client, fetch=fetch)
