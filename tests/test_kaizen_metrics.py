"""Kaizen review (spec section 7) and the item explanation, on hand-built histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics.days import end_of_day
from metrics.errors import InputError
from metrics.explain import explain_item
from metrics.kaizen import (
    CHANGED,
    KAIZEN_COLUMNS,
    KAIZEN_METRICS,
    NO_CLEAR_CHANGE,
    TOO_FEW,
    flow_direction,
    kaizen_review,
    kaizen_table,
    kaizen_verdict,
    kaizen_windows,
    mann_whitney_p,
)
from metrics.report import flow_report
from tests.flowbuild import flow, workflow

CHANGE = pd.Timestamp("2024-03-01")


def item_rows(item: str, start: pd.Timestamp, days: int, review_hours: int = 0) -> list[tuple]:
    """Backlog the day before; Dev at 09:00 on `start`; Review `review_hours` before the done
    moment; Done at 17:00 on day `start + days - 1` (a cycle time of `days`)."""
    done = start + pd.Timedelta(days=days - 1, hours=17)
    rows = [
        (item, f"{start - pd.Timedelta(days=1):%Y-%m-%d} 08:00", "Backlog"),
        (item, f"{start:%Y-%m-%d} 09:00", "Dev"),
    ]
    if review_hours:
        rows.append((item, f"{done - pd.Timedelta(hours=review_hours):%Y-%m-%d %H:%M}", "Review"))
    rows.append((item, f"{done:%Y-%m-%d %H:%M}", "Done"))
    return rows


def history(before: int = 12, after: int = 12, blocked: bool = True):
    """`before` items of 5 days each, all inside 2024-02-16..29, and `after` items of 2 days
    inside 2024-03-01..14 (the two 14-day windows around 2024-03-01)."""
    rows: list[tuple] = []
    for n in range(before):
        rows += item_rows(f"B-{n}", pd.Timestamp("2024-02-16") + pd.Timedelta(days=n % 10), 5, 8)
    for n in range(after):
        rows += item_rows(f"A-{n}", CHANGE + pd.Timedelta(days=n % 13), 2)
    if blocked and after:
        # A-0 is in progress on 03-01 and 03-02: blocked across both days.
        rows += [("A-0", "2024-03-01 12:00", "", "blocked"), ("A-0", "2024-03-02 10:00", "",
                                                                  "unblocked")]  # fmt: skip
    return flow(*rows)


def review_of(data, as_of_day: str = "2024-03-31", days: int = 14, change=CHANGE):
    wf = workflow()
    as_of = end_of_day(pd.Timestamp(as_of_day).date(), wf.timezone)
    report = flow_report(data, wf, as_of)
    return kaizen_review(report, wf, change, days)


def metric(review, name: str, side: str) -> float:
    return float(review.table.set_index("metric").loc[name, side])


def test_a_change_with_a_known_effect():
    review = review_of(history())
    assert review.before.first == pd.Timestamp("2024-02-16")
    assert review.before.last == pd.Timestamp("2024-02-29")
    assert (review.after.first, review.after.last) == (CHANGE, pd.Timestamp("2024-03-14"))
    assert review.table.columns.tolist() == KAIZEN_COLUMNS
    assert review.table["metric"].tolist() == [*KAIZEN_METRICS, "mann_whitney_p"]
    assert metric(review, "delivered", "before") == 12 == metric(review, "delivered", "after")
    assert metric(review, "throughput_per_week", "before") == 6.0  # 12 items in 2 weeks
    assert metric(review, "cycle_time_p50", "before") == 5.0
    assert metric(review, "cycle_time_p85", "before") == 5.0
    assert metric(review, "cycle_time_p50", "after") == 2.0
    assert metric(review, "cycle_time_p85", "after") == 2.0
    assert float(review.table.set_index("metric").loc["cycle_time_p50", "change"]) == -3.0
    # Before: Dev 09:00 day 1 to 09:00 day 5 (96 h active), then 8 h in Review (waiting).
    assert metric(review, "flow_efficiency_avg", "before") == round(96 / 104, 4)
    assert metric(review, "flow_efficiency_avg", "after") == 1.0
    assert metric(review, "blocked_days_avg", "before") == 0.0
    assert metric(review, "blocked_days_avg", "after") == round(2 / 12, 4)
    # Nothing after took longer than the old SLE (5 days); before, nothing took longer either.
    assert metric(review, "over_before_sle", "after") == 0.0
    assert metric(review, "over_before_sle", "before") == 0.0
    # Each before item is in progress on 5 whole days, each after item on 2, all inside.
    assert metric(review, "wip_avg", "before") == round(12 * 5 / 14, 4)
    assert metric(review, "wip_avg", "after") == round(12 * 2 / 14, 4)
    assert review.p < 0.05
    assert review.verdict.label == CHANGED
    assert "5 days before, 2 days after" in review.verdict.text
    assert "shorter" in review.verdict.text
    assert review.over_old_sle.empty
    direction = flow_direction(review.table).tolist()
    assert direction[KAIZEN_METRICS.index("cycle_time_p50")] == "better"
    assert direction[KAIZEN_METRICS.index("delivered")] == "same"
    assert direction[KAIZEN_METRICS.index("blocked_days_avg")] == "worse"
    assert direction[KAIZEN_METRICS.index("wip_avg")] == "better"
    assert direction[-1] == ""


def test_items_beyond_the_old_sle_are_listed():
    data = history()
    rows = item_rows("SLOW", CHANGE + pd.Timedelta(days=2), 9)
    slow = flow(*rows)
    data = type(data)(
        items=pd.concat([data.items, slow.items], ignore_index=True),
        events=pd.concat([data.events, slow.events.assign(seq=slow.events["seq"] + 10_000)],
                         ignore_index=True),
    )  # fmt: skip
    review = review_of(data)
    assert review.over_old_sle.index.tolist() == ["SLOW"]
    assert metric(review, "over_before_sle", "after") == round(1 / 13, 4)


def test_too_few_items_on_a_side():
    review = review_of(history(before=12, after=9))
    assert metric(review, "delivered", "after") == 9
    assert review.verdict.label == TOO_FEW
    assert "12 items delivered before, 9 after" in review.verdict.text


def test_after_window_cut_at_as_of():
    # As of 2024-03-05: the after side has 5 days, and only the items done by then.
    review = review_of(history(), as_of_day="2024-03-05")
    assert (review.after.first, review.after.last) == (CHANGE, pd.Timestamp("2024-03-05"))
    assert review.after.days == 5
    # A-n starts on 03-01 + n and is done a day later: A-0..A-3 are done by 03-05.
    assert metric(review, "delivered", "after") == 4
    assert metric(review, "throughput_per_week", "after") == round(4 / 5 * 7, 4)
    assert review.verdict.label == TOO_FEW


def test_change_after_the_as_of_day_is_refused():
    wf = workflow()
    as_of = end_of_day(pd.Timestamp("2024-03-05").date(), wf.timezone)
    with pytest.raises(InputError, match="after the as-of day 2024-03-05"):
        kaizen_windows(pd.Timestamp("2024-03-06"), as_of, wf.timezone)
    with pytest.raises(InputError, match="at least 1 day"):
        kaizen_windows(CHANGE, as_of, wf.timezone, days=0)
    # The as-of day itself is allowed: a one-day after side.
    before, after = kaizen_windows(pd.Timestamp("2024-03-05"), as_of, wf.timezone)
    assert after.days == 1 and before.days == 42


def test_windows_are_local_days():
    # 23:30 UTC on 03-05 is already 03-06 in Sydney: the as-of day there is 03-06.
    as_of = pd.Timestamp("2024-03-05 23:30", tz="UTC")
    _, after = kaizen_windows(pd.Timestamp("2024-03-06"), as_of, "Australia/Sydney", days=7)
    assert after.last == pd.Timestamp("2024-03-06")
    with pytest.raises(InputError):
        kaizen_windows(pd.Timestamp("2024-03-06"), as_of, "UTC")


def test_no_delivery_at_all_is_too_few():
    data = flow(("X", "2024-02-20 09:00", "Backlog"), ("X", "2024-02-21 09:00", "Dev"))
    review = review_of(data)
    assert metric(review, "delivered", "before") == 0
    assert np.isnan(metric(review, "cycle_time_p50", "after"))
    assert np.isnan(review.p)
    assert review.verdict.label == TOO_FEW
    assert flow_direction(review.table).iloc[KAIZEN_METRICS.index("cycle_time_p50")] == ""


def test_verdict_branches():
    same = pd.Series([3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 5, 5])
    p = mann_whitney_p(same, same)
    assert p == 1.0
    assert kaizen_verdict(same, same, p).label == NO_CLEAR_CHANGE
    longer = same + 10
    p = mann_whitney_p(same, longer)
    verdict = kaizen_verdict(same, longer, p)
    assert verdict.label == CHANGED and "longer" in verdict.text
    assert "5 days before, 15 days after" in verdict.text
    assert kaizen_verdict(same[:9], longer, p).label == TOO_FEW
    assert np.isnan(mann_whitney_p(pd.Series(dtype=float), same))


def test_kaizen_table_keeps_a_tiny_p_readable():
    values = pd.Series(1.0, index=KAIZEN_METRICS)
    table = kaizen_table(values, values * 2, 1.234567e-7)
    assert table["change"].iloc[-1] == pytest.approx(1.235e-7)
    assert table["change"].iloc[0] == 1.0
    assert np.isnan(table["before"].iloc[-1])


# ---- explain ---------------------------------------------------------------------------------


def explained(data, item: str, as_of_day: str = "2024-03-31"):
    wf = workflow()
    as_of = end_of_day(pd.Timestamp(as_of_day).date(), wf.timezone)
    report = flow_report(data, wf, as_of)
    return explain_item(data.events, report, wf, item), report


def test_explain_backward_moves_and_a_reopen():
    data = flow(
        ("X", "2024-03-01 09:00", "Backlog"),
        ("X", "2024-03-02 09:00", "Dev"),  # first start: undone by the move back to Backlog
        ("X", "2024-03-03 09:00", "To Do"),
        ("X", "2024-03-04 09:00", "In Progress"),  # the clock starts here
        ("X", "2024-03-05 09:00", "Review"),
        ("X", "2024-03-05 15:00", "Dev"),  # back within progress: no restart
        ("X", "2024-03-06 09:00", "Done"),
        ("X", "2024-03-07 09:00", "Dev"),  # reopened
        ("X", "2024-03-07 10:00", "Parked"),  # unmapped
        ("X", "2024-03-08 09:00", "Closed"),  # done_at: the final delivery
        ("X", "2024-03-08 09:30", "Done"),  # same stage: no move
    )
    x, report = explained(data, "X")
    facts = report.items.loc["X"]
    marks = x.timeline.set_index("mark")
    assert marks.loc["started_at", "changed_at"] == facts["started_at"]
    assert marks.loc["done_at", "changed_at"] == facts["done_at"]
    assert facts["started_at"] == pd.Timestamp("2024-03-04 09:00", tz="UTC")
    assert facts["done_at"] == pd.Timestamp("2024-03-08 09:00", tz="UTC")
    notes = x.timeline["note"].tolist()
    assert notes[0] == "created in 'Backlog'"
    assert "before the commitment point" in notes[2]
    assert notes[5] == "moved back to 'Dev'"
    assert notes[7].startswith("reopened")
    assert "not in the workflow" in notes[8] and "stays in 'Dev'" in notes[8]
    assert notes[10] == "no move: already in 'Done'"
    text = " ".join(x.lines)
    assert "An earlier start does not count" in text
    assert "2 later move(s) back" in text
    assert "reopened 1 time(s)" in text
    assert "Cycle time = 2024-03-08 - 2024-03-04 + 1 = 5 days" in text
    # In progress from 03-04 09:00 to 03-08 09:00 less the day in Done: 72 h, 6 h in Review.
    assert x.stage_hours.set_index("stage")["hours"].to_dict() == {"Dev": 66.0, "Review": 6.0}
    assert f"{facts['flow_efficiency']:.0%}" == "92%"
    assert "66.0 / 72.0 hours" in text


def test_explain_jump_to_done_blocked_and_unknown_ids():
    data = flow(
        ("J", "2024-03-01 09:00", "Backlog"),
        ("J", "2024-03-02 09:00", "Done"),
        ("W", "2024-03-01 09:00", "Dev"),
        ("W", "2024-03-02 09:00", "", "blocked"),
    )
    x, _ = explained(data, "J")
    assert x.timeline["mark"].tolist() == ["", "started_at, done_at"]
    assert "started_at = done_at" in " ".join(x.lines)
    w, report = explained(data, "w")  # ids match ignoring case when only one fits
    assert w.item_id == "W"
    text = " ".join(w.lines)
    assert "done_at: none" in text and "Age = 2024-03-31 - 2024-03-01 + 1 = 31 days" in text
    assert f"Blocked days = {report.items.loc['W', 'blocked_days']}" in text
    assert w.blocked["open"].tolist() == [True]
    with pytest.raises(InputError, match="did you mean J"):
        explained(data, "J1")
