"""The sidebar's filters applied to the canonical frames: plain functions, no Streamlit.

Item filters (types, labels, sources) choose items before any metric is computed, so every
number on every page describes the same chosen items. The date range does not remove items: it
chooses the days of the daily tables and the delivered items behind the percentiles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from metrics.frames import FlowData


@dataclass(frozen=True)
class Filters:
    """What the sidebar chose. Empty tuples mean "all"."""

    first: dt.date | None = None
    last: dt.date | None = None
    types: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def narrows_items(self) -> bool:
        return bool(self.types or self.labels or self.sources)


def split_labels(labels: pd.Series) -> pd.Series:
    """`;`-joined label cells -> one row per (item row, label), blanks dropped."""
    parts = labels.fillna("").astype(str).str.split(";").explode().str.strip()
    return parts[parts.ne("")]


def filter_options(items: pd.DataFrame) -> dict[str, list[str]]:
    """The choices the sidebar offers: every type, label and source present, sorted."""
    return {
        "types": sorted(t for t in items["type"].dropna().astype(str).unique() if t),
        "labels": sorted(split_labels(items["labels"]).unique()),
        "sources": sorted(s for s in items["source"].dropna().astype(str).unique() if s),
    }


def item_mask(items: pd.DataFrame, filters: Filters) -> pd.Series:
    """Which rows of an items frame the filters keep (a label filter keeps items carrying any
    of the chosen labels)."""
    keep = pd.Series(True, index=items.index)
    if filters.types:
        keep &= items["type"].isin(filters.types)
    if filters.sources:
        keep &= items["source"].isin(filters.sources)
    if filters.labels:
        labels = split_labels(items["labels"])
        hit = labels[labels.isin(filters.labels)].index.unique()
        keep &= items.index.isin(hit)
    return keep


def filter_flow_data(data: FlowData, filters: Filters) -> FlowData:
    """The frames restricted to the chosen items. Deployments are kept whole unless sources are
    chosen (then those sources' deployments); `shipped` keeps the chosen items' rows."""
    if not filters.narrows_items:
        return data
    items = data.items[item_mask(data.items, filters)]
    ids = set(items["item_id"])
    events = data.events[data.events["item_id"].isin(ids)]
    deployments = data.deployments
    if filters.sources:
        deployments = deployments[deployments["source"].isin(filters.sources)]
    shipped = data.shipped[
        data.shipped["item_id"].isin(ids) & data.shipped["deploy_id"].isin(deployments["deploy_id"])
    ]
    return FlowData(
        items=items.reset_index(drop=True),
        events=events.reset_index(drop=True),
        deployments=deployments.reset_index(drop=True),
        shipped=shipped.reset_index(drop=True),
        pull_requests=data.pull_requests[data.pull_requests["item_id"].isin(ids)].reset_index(
            drop=True
        ),
    )


def day_range(
    filters: Filters,
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The date range as the local-day timestamps `flow_report` takes."""
    first = pd.Timestamp(filters.first) if filters.first is not None else None
    last = pd.Timestamp(filters.last) if filters.last is not None else None
    return first, last


def within_days(
    frame: pd.DataFrame, column: str, timezone: str, first: pd.Timestamp, last: pd.Timestamp
) -> pd.DataFrame:
    """Rows whose time `column` falls on a local day in [first, last]."""
    if frame.empty:
        return frame
    day = frame[column].dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    return frame[(day >= first) & (day <= last)]
