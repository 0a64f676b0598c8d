"""The generated data checked against the metric invariants, so a fast wrong answer is caught.

Two kinds of checks: the spec's invariants on the report (as in tests/test_metrics_properties.py)
and counts recomputed from the raw event log by a plain, independent route (an item is in
progress when its last status is an in-progress stage, delivered when it is Done).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.report import FlowReport
from metrics.workflow import Workflow


class CheckFailed(AssertionError):
    """A benchmark result contradicts an invariant."""


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise CheckFailed(what)


def check_report(report: FlowReport, log: pd.DataFrame, workflow: Workflow) -> None:
    """Raise `CheckFailed` naming the first invariant `report` breaks for the event log `log`
    (the text frame of `bench.generate.generated_event_log`, every event before as-of)."""
    daily, cfd, items = report.daily, report.cfd, report.items
    _check(len(items) == log["item_id"].nunique(), "one item fact per item of the log")
    _check(int(cfd[workflow.stage_names[-1]].iloc[-1]) == int(daily["throughput"].sum()),
           "the CFD's last band ends at the total throughput")  # fmt: skip
    delivered = items[items["done_at"].notna()]
    _check(bool((delivered["cycle_time_days"] >= 1).all()), "cycle times of at least one day")
    _check(bool((delivered["started_at"] <= delivered["done_at"]).all()), "started before done")
    _check(int(daily["arrivals"].sum()) == int(items["started_at"].notna().sum()),
           "arrivals add up to the started items")  # fmt: skip
    in_progress = items[items["in_progress"]]
    _check(int(daily["wip"].iloc[-1]) >= len(in_progress), "the last day's WIP covers today's")
    _check(bool((in_progress["age_days"] >= 1).all()), "ages of at least one day")
    efficiency = delivered["flow_efficiency"].dropna()
    _check(bool(((efficiency >= 0) & (efficiency <= 1)).all()), "flow efficiency in [0, 1]")
    _check(bool((items["blocked_days"] >= 0).all()), "blocked days never negative")
    _check(bool((cfd.diff(axis=1).iloc[:, 1:] <= 0).all().all()), "CFD bands never cross")

    # Independent counts from the raw log: the status of each item's last status row.
    status_rows = log[log["event"].eq("status")]
    last = status_rows.groupby("item_id", sort=False)["status"].last()
    stage_of = {s.casefold(): i for i, st in enumerate(workflow.stages) for s in st.statuses}
    position = last.str.casefold().map(stage_of)
    open_now = position.between(workflow.start, workflow.done - 1)
    _check(int(open_now.sum()) == len(in_progress),
           f"{len(in_progress)} items in progress, the log says {int(open_now.sum())}")  # fmt: skip
    done_now = position.ge(workflow.done)
    _check(int(done_now.sum()) == len(delivered),
           f"{len(delivered)} items delivered, the log says {int(done_now.sum())}")  # fmt: skip
    hours = report.stage_times.sum(axis=1)
    _check(bool(np.isfinite(hours).all() and (hours >= 0).all()), "stage hours finite")
