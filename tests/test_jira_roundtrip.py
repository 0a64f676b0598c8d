"""Property: any canonical history (blocked spells' reasons included), served by the fake Jira
in either mode, whatever the embedded changelog cap, page size and time zone, comes back from
the connector unchanged."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.frames import FlowData, conform_events, conform_items
from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.harness import sync

STATUSES = ["Backlog", "In Progress", "Code Review", "Done", "开发中", "已完成", "Won't Do"]
ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "Europe/London"]
BASE = pd.Timestamp("2024-03-01T00:00:00", tz="UTC")
# A blocked spell's reason travels as the flag's comment; "" is a flag set without one.
REASONS = ["", "Waiting on vendor API", "等待产品决定", "=1+1 <b>x</b>"]


@st.composite
def flows(draw) -> FlowData:
    n_items = draw(st.integers(1, 6))
    rows = []
    for i in range(1, n_items + 1):
        item = f"ABC-{i}"
        t = BASE + pd.Timedelta(milliseconds=draw(st.integers(0, 10**9)))
        status = draw(st.sampled_from(STATUSES))
        rows.append((item, t, "status", status))
        blocked = False
        for _ in range(draw(st.integers(0, 12))):
            # Jira keeps milliseconds; equal times are allowed (order kept by history id)
            t += pd.Timedelta(milliseconds=draw(st.integers(0, 3 * 86_400_000)))
            if draw(st.integers(0, 4)) == 0:
                blocked = not blocked
                reason = draw(st.sampled_from(REASONS)) if blocked else ""
                rows.append((item, t, "blocked" if blocked else "unblocked", reason))
            else:
                new = draw(st.sampled_from([s for s in STATUSES if s != status]))
                rows.append((item, t, "status", new))
                status = new
    events = pd.DataFrame(rows, columns=["item_id", "changed_at", "event", "status"])
    events["seq"] = events.groupby("item_id").cumcount()
    items = conform_items(pd.DataFrame({"item_id": sorted({r[0] for r in rows})}))
    return FlowData(items=items, events=conform_events(events))


def _key(events: pd.DataFrame) -> list[tuple]:
    return sorted(
        zip(events["item_id"], events["changed_at"], events["event"], events["status"],
            strict=True)
    )  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flow=flows(),
    mode=st.sampled_from(["cloud", "datacenter"]),
    cap=st.integers(1, 6),
    page=st.integers(1, 4),
    zone=st.sampled_from(ZONES),
)
def test_histories_survive_the_trip_through_jira(flow, mode, cap, page, zone):
    world = world_from_flow(flow, zone=zone)
    with FakeJira(world, mode=mode, embedded_cap=cap, page_cap=page, zone=zone) as fake:
        result = sync(fake, page_size=page)
    expected = flow.events.assign(item_id="jira:" + flow.events["item_id"])
    assert _key(result.events) == _key(expected)
    assert result.quality("incomplete_history") == 0
    # within an item, events come in history order
    for _, group in result.events.groupby("item_id"):
        assert group["changed_at"].is_monotonic_increasing
