"""All of a flow report's tables from one pass: the export files and the dashboard read this.

`flow_report` computes the stage intervals once and derives everything else from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.cycle_time import (
    DEFAULT_WINDOW_DAYS,
    PERCENTILES,
    SLE_PERCENTILE,
    cycle_time_percentiles,
    delivered_in,
    pace,
    pace_band,
)
from metrics.daily import cumulative_flow, daily_flow
from metrics.days import local_day, local_days
from metrics.delivery import (
    delivery_summary,
    deployment_rework,
    deployment_table,
    rework_rate,
    shipped_items,
)
from metrics.errors import InputError
from metrics.forecast import likely_done_by
from metrics.frames import FlowData
from metrics.intervals import stage_intervals, unmapped_statuses
from metrics.items import in_progress_runs, item_facts
from metrics.pull_requests import pull_request_flow
from metrics.stability import littles_law
from metrics.stage_time import time_in_stage
from metrics.workflow import Workflow


@dataclass(frozen=True)
class FlowReport:
    as_of: pd.Timestamp
    first_day: pd.Timestamp
    last_day: pd.Timestamp
    intervals: pd.DataFrame
    """Stage intervals (see `metrics.intervals.stage_intervals`)."""
    items: pd.DataFrame
    """`item_facts` plus `pace`, `pace_band` and `likely_done_by_85` (local day) for items in
    progress."""
    daily: pd.DataFrame
    cfd: pd.DataFrame
    stage_times: pd.DataFrame
    deployments: pd.DataFrame
    shipped_items: pd.DataFrame
    rework: pd.DataFrame
    pull_requests: pd.DataFrame
    """Merged pull requests with their waits (`metrics.pull_requests.pull_request_flow`)."""
    """Per successful production deployment with known items: rework or not
    (`metrics.delivery.deployment_rework`)."""
    percentiles: pd.Series
    """Cycle-time percentiles (50/70/85/95) of the reference delivered items."""
    summary: pd.DataFrame
    """`metric`, `value` rows."""
    unmapped: pd.DataFrame


def resolve_days(
    events: pd.DataFrame,
    timezone: str,
    as_of: pd.Timestamp,
    first: pd.Timestamp | None,
    last: pd.Timestamp | None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The days of the daily tables: `--from`/`--to`, by default the first event's day to
    `as_of`'s day. Raises `InputError` when `first` is after `last`."""
    as_of_day = local_day(as_of, timezone)
    known = events["changed_at"][events["changed_at"].le(as_of)]
    if first is None:
        first = local_day(known.min(), timezone) if len(known) else as_of_day
    if last is None:
        last = as_of_day
    if first > last:
        raise InputError(
            f"--from {first.date()} is after --to {last.date()} (or after the as-of day)"
        )
    return first, last


def flow_report(
    data: FlowData,
    workflow: Workflow,
    as_of: pd.Timestamp,
    first: pd.Timestamp | None = None,
    last: pd.Timestamp | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> FlowReport:
    """Every table of the export for `data` as of `as_of` (UTC).

    `first`/`last` (local days) choose the days of the daily tables and the averages of the
    summary; percentiles use the items delivered in that range when it is given, else the
    `window_days` days before `as_of`. Empty data -> a report of empty tables.
    """
    tz = workflow.timezone
    range_given = first is not None or last is not None
    first, last = resolve_days(data.events, tz, as_of, first, last)
    events = data.events
    kept = events["changed_at"].le(as_of).to_numpy(dtype=bool)
    if not kept.all():  # a log ending before `as_of` (the usual case) is not copied
        events = events[kept]
    intervals = stage_intervals(events, workflow, as_of)
    facts = item_facts(data.items, events, intervals, workflow, as_of)
    runs = in_progress_runs(intervals, workflow)
    daily = daily_flow(facts, intervals, runs, workflow, first, last)
    cfd = cumulative_flow(daily[workflow.stage_names])

    if range_given:
        reference = delivered_in(facts, tz, as_of, first, last)
    else:
        reference = delivered_in(facts, tz, as_of, window_days=window_days)
    bands = cycle_time_percentiles(reference["cycle_time_days"], PERCENTILES)
    ages = facts["age_days"]
    facts = facts.assign(
        pace=pace(ages, reference["cycle_time_days"]),
        pace_band=pace_band(ages, bands),
        likely_done_by_85=likely_done_by(
            ages, local_days(facts["started_at"], tz), reference["cycle_time_days"]
        ),
    )

    deployments = data.deployments[data.deployments["deployed_at"].le(as_of)]
    shipped = shipped_items(deployments, data.shipped, facts)
    table = deployment_table(deployments, data.shipped, shipped)
    rework = deployment_rework(table, shipped, facts["type"], workflow.rework_types)
    summary = _summary(facts, daily, bands, table, shipped, tz, first, last, reference)
    summary = _with_row(summary, "rework_rate", rework_rate(rework, tz, first, last))
    return FlowReport(
        as_of=as_of,
        first_day=first,
        last_day=last,
        intervals=intervals,
        items=facts,
        daily=daily,
        cfd=cfd,
        stage_times=time_in_stage(intervals, workflow),
        deployments=table,
        shipped_items=shipped,
        rework=rework,
        pull_requests=pull_request_flow(
            data.pull_requests[data.pull_requests["merged_at"].le(as_of)],
            deployments,
            shipped,
            facts,
        ),
        percentiles=bands,
        summary=summary,
        unmapped=unmapped_statuses(events, workflow),
    )


def _summary(facts, daily, bands, table, shipped, tz, first, last, reference) -> pd.DataFrame:
    days = len(daily)
    in_progress = facts[facts["in_progress"]]
    sle = bands.get(SLE_PERCENTILE, np.nan)
    delivered = facts[facts["done_at"].notna()]
    done_day = local_days(delivered["done_at"], tz)
    waiting_to_ship = int((~delivered.index.isin(shipped["item_id"])).sum()) if len(table) else 0
    rows: dict[str, float] = {
        "cycle_time_p50": bands.get(50, np.nan),
        "cycle_time_p70": bands.get(70, np.nan),
        "cycle_time_p85": bands.get(85, np.nan),
        "cycle_time_p95": bands.get(95, np.nan),
        "sle_days": sle,
        "throughput_per_week": daily["throughput"].mean() * 7 if days else np.nan,
        "arrivals_per_week": daily["arrivals"].mean() * 7 if days else np.nan,
        "wip_avg": daily["wip"].mean() if days else np.nan,
        "items_in_progress": float(len(in_progress)),
        "items_over_sle": float((in_progress["age_days"] > sle).sum()) if sle == sle else 0.0,
        "items_blocked_now": float(facts["blocked_now"].sum()),
        "items_delivered_in_range": float(((done_day >= first) & (done_day <= last)).sum()),
        "reference_items_for_percentiles": float(len(reference)),
        "flow_efficiency_avg": float(reference["flow_efficiency"].mean())
        if len(reference)
        else np.nan,
        "waiting_to_ship": float(waiting_to_ship),
    }
    rows.update(delivery_summary(table, shipped, tz, first, last))
    in_range = delivered[((done_day >= first) & (done_day <= last)).to_numpy()]
    check = littles_law(daily, in_range["cycle_time_days"])
    rows["littles_law_ratio"] = check.ratio
    rows["arrivals_per_departure"] = check.arrivals_per_departure
    order = [
        "cycle_time_p50", "cycle_time_p85", "cycle_time_p95", "throughput_per_week", "wip_avg",
        "items_in_progress", "deploy_frequency_per_week", "batch_size_avg", "change_failure_rate",
    ]  # fmt: skip
    names = order + [k for k in rows if k not in order]
    values = [float(rows[k]) if rows[k] is not None else np.nan for k in names]
    return pd.DataFrame({"metric": names, "value": np.round(values, 4)})


def _with_row(summary: pd.DataFrame, metric: str, value: float) -> pd.DataFrame:
    """The summary with one more `metric, value` row at the end (NaN kept as missing)."""
    row = pd.DataFrame({"metric": [metric], "value": [round(float(value), 4)]})
    return pd.concat([summary, row], ignore_index=True)
