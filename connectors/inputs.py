"""Choosing what to analyse: the demo world, CSV files named on the command line, or the store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from connectors.config import Config
from connectors.csv_files import read_deployments, read_event_log, read_stage_dates
from metrics.frames import FlowData


def combine(parts: list[FlowData]) -> FlowData:
    """Several FlowData into one (later parts' item attributes win on the same id)."""
    if not parts:
        return FlowData()
    if len(parts) == 1:
        return parts[0]

    def cat(name: str) -> pd.DataFrame:
        frames = [getattr(p, name) for p in parts if len(getattr(p, name))]
        return pd.concat(frames, ignore_index=True) if frames else getattr(parts[0], name)

    items = cat("items").drop_duplicates("item_id", keep="last").reset_index(drop=True)
    events = cat("events")
    if len(events):
        events = events.assign(seq=range(len(events)))
    return FlowData(
        items=items,
        events=events,
        deployments=cat("deployments"),
        shipped=cat("shipped"),
        pull_requests=cat("pull_requests"),
    )


def read_csv_inputs(
    config: Config,
    events: Path | None = None,
    stage_dates: Path | None = None,
    deployments: Path | None = None,
    mapping: Mapping[str, str] | None = None,
) -> FlowData:
    """FlowData from CSV files (any of the three formats), read in the workflow's time zone."""
    tz = config.workflow.timezone
    parts: list[FlowData] = []
    if events is not None:
        parts.append(read_event_log(events, tz, mapping))
    if stage_dates is not None:
        parts.append(read_stage_dates(stage_dates, config.workflow))
    if deployments is not None:
        parts.append(read_deployments(deployments, tz))
    return combine(parts)
