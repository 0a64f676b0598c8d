"""Property-based tests over random event logs: the vectorized daily series agree with a
brute-force replay of each item's history, and the spec's invariants hold.

Times span the March 2024 clock change in Europe/London, so local days are exercised too.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.report import flow_report
from metrics.workflow import workflow_from_table
from tests.flowbuild import SIMPLE

WF = workflow_from_table({**SIMPLE, "timezone": "Europe/London"})
TZ = WF.timezone
BASE = pd.Timestamp("2024-03-28 00:00", tz="UTC")
STATUSES = ["Backlog", "To Do", "Dev", "In Progress", "Review", "Done", "Dropped", "Limbo"]
AS_OF = BASE + pd.Timedelta(days=8, hours=7)

event_row = st.tuples(
    st.integers(0, 5),  # item
    st.integers(0, 8 * 24 * 60),  # minutes after BASE
    st.sampled_from(STATUSES + ["<blocked>", "<unblocked>"]),
)


def build(rows):
    records = []
    for item, minute, status in rows:
        kind = status.strip("<>") if status.startswith("<") else "status"
        records.append(
            {
                "item_id": f"I{item}",
                "changed_at": BASE + pd.Timedelta(minutes=minute),
                "event": kind,
                "status": "" if kind != "status" else status,
            }
        )
    from metrics.frames import FlowData, conform_events, conform_items

    events = conform_events(pd.DataFrame(records))
    items = conform_items(pd.DataFrame({"item_id": events["item_id"].unique()}))
    return FlowData(items=items, events=events)


def replay(data):
    """Per item, the (position, entered, left) intervals, by a plain loop over its events."""
    lookup = WF.status_positions()
    out = {}
    ev = data.events[(data.events["event"] == "status") & (data.events["changed_at"] <= AS_OF)]
    ev = ev.sort_values(["item_id", "changed_at", "seq"], kind="stable")
    for item, group in ev.groupby("item_id", sort=False):
        intervals = []
        for when, status in zip(group["changed_at"], group["status"], strict=True):
            pos = lookup.get(status.strip().casefold())
            if pos is None or (intervals and intervals[-1][0] == pos):
                continue
            if intervals:
                intervals[-1][2] = when
            intervals.append([pos, when, AS_OF])
        out[item] = intervals
    return out


def local_midnight(day: pd.Timestamp) -> pd.Timestamp:
    return day.tz_localize(TZ).tz_convert("UTC")


@settings(max_examples=40)
@given(st.lists(event_row, min_size=1, max_size=40))
def test_daily_series_match_a_brute_force_replay(rows):
    data = build(rows)
    report = flow_report(data, WF, AS_OF)
    daily, cfd = report.daily, report.cfd
    history = replay(data)
    for day in daily.index:
        start, end = local_midnight(day), local_midnight(day + pd.Timedelta(days=1))
        eod = min(end - pd.Timedelta(1, "ns"), AS_OF)
        counts = [0] * len(WF.stages)
        wip = 0
        for intervals in history.values():
            at_end = [p for p, a, b in intervals if a <= eod < b or (b == AS_OF and a <= eod)]
            if at_end and at_end[-1] >= 0:
                counts[at_end[-1]] += 1
            if any(
                WF.start <= p < WF.done and max(a, start) < min(b, end) for p, a, b in intervals
            ):
                wip += 1
        assert daily.loc[day, WF.stage_names].tolist() == counts, day
        assert daily.loc[day, "wip"] == wip, day
        present = sum(
            1 for iv in history.values() if iv and iv[0][1] <= eod
        )  # items created by the end of the day
        assert wip <= present
        assert cfd.loc[day].iloc[0] == sum(counts)
    assert (daily[WF.stage_names] >= 0).all().all()


@settings(max_examples=40)
@given(st.lists(event_row, min_size=1, max_size=40))
def test_invariants(rows):
    report = flow_report(build(rows), WF, AS_OF)
    daily, cfd, items = report.daily, report.cfd, report.items
    assert cfd["Done"].iloc[-1] == daily["throughput"].sum()
    delivered = items[items["done_at"].notna()]
    assert (delivered["cycle_time_days"] >= 1).all()
    assert (delivered["cycle_time_hours"] >= 0).all()
    assert (delivered["started_at"] <= delivered["done_at"]).all()
    assert daily["arrivals"].sum() == items["started_at"].notna().sum()
    in_progress = items[items["in_progress"]]
    assert daily["wip"].iloc[-1] >= len(in_progress)
    assert (in_progress["age_days"] >= 1).all()
    eff = delivered["flow_efficiency"].dropna()
    assert ((eff >= 0) & (eff <= 1)).all()
    assert (items["blocked_days"] >= 0).all()
    assert (cfd.diff(axis=1).iloc[:, 1:] <= 0).all().all()  # bands never cross
