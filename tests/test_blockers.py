"""What blocks the team: blocked days by stage, reason and week, shares, blocked now; and the
Blockers page and throughput by type on the demo."""

from __future__ import annotations

import pandas as pd

from connectors.demo import demo_flow_data
from metrics.blockers import (
    NO_REASON,
    blocked_days_by,
    blocked_days_per_week,
    blocked_item_days,
    blocked_now,
    blocked_share,
    spell_reasons,
)
from metrics.days import end_of_day
from metrics.report import flow_report
from tests.flowbuild import flow, workflow
from tests.test_dashboard_app import demo_env, demo_report, metric, run_page  # noqa: F401

# A: Dev from Mon 3 Jun, blocked (vendor) Tue 4 09:00 - Wed 5 12:00, Review from Thu 6, blocked
#    again (no reason) Fri 7 10:00 - Mon 10 09:00 (a weekend in between), done Tue 11.
# B: Dev from Mon 3 Jun, blocked for "decision" from Tue 11 08:00, still blocked at as-of.
# C: blocked while still in the backlog (does not count), then Dev and done in a day.
HISTORY = flow(
    ("A", "2024-06-03 09:00", "Dev"),
    ("A", "2024-06-04 09:00", "vendor", "blocked"),
    ("A", "2024-06-05 12:00", "", "unblocked"),
    ("A", "2024-06-06 09:00", "Review"),
    ("A", "2024-06-07 10:00", "", "blocked"),
    ("A", "2024-06-10 09:00", "", "unblocked"),
    ("A", "2024-06-11 09:00", "Done"),
    ("B", "2024-06-03 09:00", "Dev"),
    ("B", "2024-06-11 08:00", " decision ", "blocked"),
    ("C", "2024-06-01 09:00", "Backlog"),
    ("C", "2024-06-01 10:00", "", "blocked"),
    ("C", "2024-06-02 10:00", "", "unblocked"),
    ("C", "2024-06-12 09:00", "Dev"),
    ("C", "2024-06-12 15:00", "Done"),
    items=[
        {"item_id": "A", "title": "Pay", "type": "Story"},
        {"item_id": "B", "title": "Ship", "type": "Bug"},
        {"item_id": "C", "title": "Tidy", "type": "Chore"},
    ],
)
AS_OF = end_of_day("2024-06-13", "UTC")


def report():
    return flow_report(HISTORY, workflow(), AS_OF)


def test_blocked_days_split_by_stage_and_reason_add_up_to_blocked_days():
    rep = report()
    days = blocked_item_days(HISTORY.events, rep.intervals, workflow(), AS_OF)
    a = days[days["item_id"] == "A"]
    assert a[a["reason"] == "vendor"]["day"].dt.day.tolist() == [4, 5]
    assert set(a[a["reason"] == "vendor"]["stage"]) == {"Dev"}
    assert a[a["reason"] == NO_REASON]["day"].dt.day.tolist() == [7, 8, 9, 10]
    assert set(a[a["reason"] == NO_REASON]["stage"]) == {"Review"}
    b = days[days["item_id"] == "B"]
    assert b["day"].dt.day.tolist() == [11, 12, 13] and set(b["reason"]) == {"decision"}
    assert "C" not in set(days["item_id"])  # blocked only before it started
    per_item = days.drop_duplicates(["item_id", "day"]).groupby("item_id").size()
    assert per_item.to_dict() == rep.items["blocked_days"][lambda s: s > 0].to_dict()

    by_reason = blocked_days_by(days, "reason")
    assert by_reason.values.tolist() == [
        [NO_REASON, 4, 1], ["decision", 3, 1], ["vendor", 2, 1],
    ]  # fmt: skip
    by_stage = blocked_days_by(days, "stage")
    assert by_stage.values.tolist() == [["Dev", 5, 2], ["Review", 4, 1]]

    weeks = blocked_days_per_week(days, pd.Timestamp("2024-06-01"), pd.Timestamp("2024-06-13"))
    assert weeks.index.tolist() == [pd.Timestamp(d) for d in ("2024-05-27", "2024-06-03",
                                                               "2024-06-10")]  # fmt: skip
    # Week of 3 June: A on 4, 5, 7, 8, 9; week of 10 June: A on 10, B on 11, 12, 13.
    assert weeks["blocked_days"].tolist() == [0, 5, 4]
    assert weeks["items_blocked"].tolist() == [0, 1, 2]


def test_share_of_cycle_time_and_blocked_now():
    rep = report()
    shares = blocked_share(rep.items)
    # A: Mon 3 to Tue 11 is 9 days, 6 of them blocked; C: 1 day, none blocked.
    assert shares.loc["A", "blocked_days"] == 6 and shares.loc["A", "cycle_time_days"] == 9
    assert shares.loc["A", "blocked_share"] == round(6 / 9, 4)
    assert shares.loc["C", "blocked_share"] == 0 and "B" not in shares.index

    now = blocked_now(spell_reasons(HISTORY.events, AS_OF), rep.items, AS_OF, "UTC")
    assert now["item_id"].tolist() == ["B"]
    row = now.iloc[0]
    assert row["blocked_for_days"] == 3 and row["reason"] == "decision"
    assert row["stage"] == "Dev" and row["title"] == "Ship"


def test_empty_inputs_are_empty_frames():
    empty = flow(("A", "2024-06-03 09:00", "Backlog"))
    rep = flow_report(empty, workflow(), AS_OF)
    days = blocked_item_days(empty.events, rep.intervals, workflow(), AS_OF)
    assert days.empty and list(days.columns) == ["item_id", "stage", "reason", "day"]
    assert blocked_days_by(days, "reason").empty
    weeks = blocked_days_per_week(days, pd.Timestamp("2024-06-03"), pd.Timestamp("2024-06-09"))
    assert weeks["blocked_days"].tolist() == [0]
    assert blocked_share(rep.items).empty
    assert blocked_now(spell_reasons(empty.events, AS_OF), rep.items, AS_OF, "UTC").empty


def test_blockers_page_and_throughput_by_type_on_the_demo(demo_env):  # noqa: F811
    at = run_page("app_pages/blockers.py")
    cfg, rep = demo_report()
    done = rep.items[rep.items["done_at"].notna()]
    day = done["done_at"].dt.tz_convert(cfg.workflow.timezone).dt.tz_localize(None).dt.normalize()
    delivered = done[(day >= rep.first_day) & (day <= rep.last_day)]
    expected = delivered["blocked_days"].mean()
    assert metric(at, "Blocked days per delivered item") == f"{expected:.1f}"
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"by_reason", "by_stage", "weekly"} <= keys
    reasons = next(c for c in at.get("plotly_chart") if c.key == "by_reason").proto.spec
    days = blocked_item_days(demo_flow_data().events, rep.intervals, cfg.workflow, rep.as_of)
    days = days[(days["day"] >= rep.first_day) & (days["day"] <= rep.last_day)]
    expected_reasons = set(blocked_days_by(days, "reason")["reason"])
    assert expected_reasons and NO_REASON not in expected_reasons  # the demo gives reasons
    assert all(f'"{reason}"' in reasons for reason in expected_reasons)

    flow_page = run_page("app_pages/flow.py")
    chart = next(c for c in flow_page.get("plotly_chart") if c.key == "throughput_by_type")
    for kind in ("Story", "Bug", "Chore"):
        assert f'"name":"{kind}"' in chart.proto.spec.replace(" ", "")
