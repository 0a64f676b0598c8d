"""Spec section 6 on hand-built frames: limits in force, adherence, suggested limits, the Little's
Law check with every flag, and XmR limits with both signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics.intervals import stage_intervals
from metrics.limits import (
    TOTAL,
    adherence,
    configured_limits,
    limit_at,
    limit_changes_on_days,
    limits_in_force,
    suggested_limits,
    suggestion_sentence,
)
from metrics.report import flow_report
from metrics.stability import (
    cycle_times_in_done_order,
    littles_law,
    mean_age_in_progress,
    report_littles_law,
    weekly_throughput,
    xmr,
    xmr_signals,
)
from tests.flowbuild import flow, ts, workflow

DAYS = pd.date_range("2024-03-01", "2024-03-06", freq="D", name="date")


def changes(*rows):
    return pd.DataFrame(
        [
            {"changed_at": ts(r[0]), "stage": r[1], "old_limit": r[2], "new_limit": r[3]}
            for r in rows
        ]
    ).astype({"old_limit": "Int64", "new_limit": "Int64"})


def test_the_limit_in_force_follows_the_history_day_by_day():
    history = changes(
        ("2024-03-03 23:30", "Dev", 4, 3),  # late on the 3rd: in force at the end of the 3rd
        ("2024-03-05 08:00", "Dev", 3, None),  # removed
        ("2024-03-02 10:00", TOTAL, None, 6),
    )
    frame = limits_in_force(DAYS, {"Dev": 3, "Review": 2, TOTAL: 6}, history, "UTC")
    assert list(frame.columns) == ["Dev", "Review", TOTAL]
    # Before the first change: that change's old limit.
    assert frame["Dev"].iloc[:4].tolist() == [4.0, 4.0, 3.0, 3.0]
    assert frame["Dev"].iloc[4:].isna().all()
    assert frame["Review"].tolist() == [2.0] * 6  # no history: the configured limit
    assert np.isnan(frame[TOTAL].iloc[0]) and frame[TOTAL].iloc[1:].tolist() == [6.0] * 5


def test_the_local_day_decides_when_a_change_takes_effect():
    # 03:00 UTC on the 4th is still the 3rd in New York: in force from the 3rd.
    history = changes(("2024-03-04 03:00", "Dev", 4, 3))
    frame = limits_in_force(DAYS, {"Dev": 3}, history, "America/New_York")
    assert frame["Dev"].tolist() == [4.0, 4.0, 3.0, 3.0, 3.0, 3.0]


def test_limit_at_a_moment_and_the_changes_to_mark():
    history = changes(("2024-03-03 12:00", "Dev", 4, 3))
    assert limit_at("Dev", 3, history, ts("2024-03-03 11:59")) == 4
    assert limit_at("Dev", 3, history, ts("2024-03-03 12:00")) == 3
    assert limit_at("Review", 2, history, ts("2024-03-03 12:00")) == 2
    assert limit_at("Dev", 5, None, ts("2024-03-03 12:00")) == 5
    marks = limit_changes_on_days(history, "Dev", "UTC", DAYS)
    assert marks["day"].tolist() == [pd.Timestamp("2024-03-03")]
    assert limit_changes_on_days(history, "Dev", "UTC", DAYS[3:]).empty


def test_configured_limits_name_every_in_progress_stage_and_the_total():
    assert configured_limits(workflow()) == {"Dev": 2, "Review": None, TOTAL: 3}


def test_adherence_counts_days_over_the_limit_in_force_that_day():
    daily = pd.DataFrame(
        {"wip": [3, 4, 5, 2, 2, 6], "Dev": [2, 3, 3, 1, 4, 2], "Review": [1, 1, 2, 1, 0, 4]},
        index=DAYS,
    )
    in_force = pd.DataFrame(
        {
            "Dev": [2, 2, 3, 3, np.nan, np.nan],  # limit removed on day 5
            "Review": np.nan,  # never limited: no row
            TOTAL: [4.0] * 6,
        },
        index=DAYS,
    )
    table = adherence(daily, in_force)
    assert list(table.index) == ["Dev", TOTAL]
    dev = table.loc["Dev"]
    # Over on day 2 (3 > 2) only; day 5 (4) has no limit.
    assert (dev["days_with_limit"], dev["days_over"]) == (4, 1)
    assert dev["share_over"] == pytest.approx(0.25)
    assert dev["average"] == pytest.approx(15 / 6)
    assert np.isnan(dev["limit_now"]) and dev["count_now"] == 2
    total = table.loc[TOTAL]
    assert (total["days_over"], total["share_over"]) == (2, pytest.approx(2 / 6))  # 5 and 6
    assert total["average"] == pytest.approx(22 / 6) and total["limit_now"] == 4


def test_adherence_of_nothing_limited_is_empty():
    daily = pd.DataFrame({"wip": [1], "Dev": [1]}, index=DAYS[:1])
    assert adherence(daily, pd.DataFrame({"Dev": [np.nan]}, index=DAYS[:1])).empty


def test_the_suggestion_is_throughput_times_target_split_by_time_in_stage():
    # 12 delivered in 30 days = 0.4 a day; target 8 days -> 3.2 -> 4 in total.
    hours = pd.DataFrame({"Dev": [30.0, 50.0], "Review": [10.0, np.nan], "Test": [0.0, 10.0]})
    table = suggested_limits(12, 30, 8, hours)
    assert list(table.index) == ["Dev", "Review", "Test", TOTAL]
    # Mean hours 40, 5, 5 -> shares 0.8, 0.1, 0.1; parts 3.2 -> 4, 0.4 -> 1, 0.4 -> 1.
    assert table["suggested"].tolist() == [4, 1, 1, 4]
    assert table["share_of_time"].tolist() == pytest.approx([0.8, 0.1, 0.1, 1.0])


def test_the_suggestion_is_not_fooled_by_floating_point_and_never_below_one():
    hours = pd.DataFrame({"Dev": [1.0]})
    # 3 / 30 x 30 = 3.0000000000000004 in floating point: still 3.
    assert suggested_limits(3, 30, 30, hours).loc[TOTAL, "suggested"] == 3
    assert suggested_limits(1, 90, 1, hours).loc[TOTAL, "suggested"] == 1


def test_no_delivery_means_no_suggestion_and_says_so():
    table = suggested_limits(0, 30, 5, pd.DataFrame({"Dev": []}))
    assert table["suggested"].isna().all()
    assert "widen the date range" in suggestion_sentence(0, 30, 5, None)
    sentence = suggestion_sentence(12, 30, 8, 4)
    assert "0.40 items a day" in sentence and "so 4 items in progress" in sentence


def daily_frame(wip, arrivals):
    index = pd.date_range("2024-03-01", periods=len(wip), freq="D", name="date")
    return pd.DataFrame({"wip": wip, "arrivals": arrivals}, index=index)


def test_littles_law_holds_for_a_steady_system():
    # 10 days, WIP 4 every day, 5 delivered with 8 days each: L = 4, lambda = 0.5, W = 8.
    check = littles_law(daily_frame([4] * 10, [1, 0] * 5), pd.Series([8, 8, 8, 8, 8]), 3.0, 3.2)
    assert (check.wip_avg, check.throughput_per_day, check.cycle_time_avg) == (4, 0.5, 8)
    assert check.ratio == pytest.approx(1.0)
    assert check.arrivals_per_departure == pytest.approx(1.0)
    assert check.flags == () and check.holds


def test_each_broken_assumption_is_one_sentence():
    # Ratio 2.0: WIP 8 where 0.5 x 8 = 4 was predicted.
    high = littles_law(daily_frame([8] * 10, [1, 0] * 5), pd.Series([8] * 5))
    assert high.ratio == pytest.approx(2.0) and len(high.flags) == 1
    assert "2.00 times" in high.flags[0] and "abandoned" in high.flags[0]
    low = littles_law(daily_frame([2] * 10, [1, 0] * 5), pd.Series([8] * 5))
    assert low.ratio == pytest.approx(0.5) and "only 0.50 times" in low.flags[0]
    # 13 started, 10 delivered: arrivals exceed departures by 30%.
    more = littles_law(daily_frame([5] * 10, [2, 1] * 4 + [1, 0]), pd.Series([5] * 10))
    assert more.arrivals_per_departure == pytest.approx(1.3)
    assert more.flags == (
        "You start more than you finish: arrivals exceed departures by 30% (13 started, 10 "
        "delivered); stop starting, start finishing.",
    )
    fewer = littles_law(daily_frame([5] * 10, [1, 0] * 3 + [0] * 4), pd.Series([5] * 10))
    assert "You finish more than you start: departures exceed arrivals by 70%" in fewer.flags[0]
    # Exactly 20% more is tolerated.
    assert littles_law(daily_frame([5] * 10, [2, 1, 1, 1, 1, 1, 1, 1, 1, 2]), pd.Series(
        [5] * 10)).flags == ()  # fmt: skip
    # WIP 4 -> 6 with L 5: more than 20% of L (1.0).
    grew = littles_law(daily_frame([4, 5, 5, 5, 5, 5, 5, 5, 5, 6], [1, 0] * 5), pd.Series([10] * 5))
    assert [f for f in grew.flags if f.startswith("WIP grew from 4 to 6")]
    aging = littles_law(daily_frame([4] * 10, [1, 0] * 5), pd.Series([8] * 5), 4.0, 4.9)
    assert aging.flags == (
        "Items in progress are getting older: their average age rose from 4.0 to 4.9 days; "
        "swarm on the oldest items before starting new ones.",
    )
    assert littles_law(daily_frame([4] * 10, [1, 0] * 5), pd.Series([8] * 5), 4.0, 4.8).holds


def test_no_delivery_cannot_be_checked_and_no_days_is_empty():
    none = littles_law(daily_frame([3] * 4, [1, 1, 0, 0]), pd.Series([], dtype="float64"))
    assert np.isnan(none.ratio) and "Nothing was delivered" in none.flags[0]
    empty = littles_law(daily_frame([], []), pd.Series([], dtype="float64"))
    assert empty.days == 0 and empty.flags == () and np.isnan(empty.wip_avg)


def test_mean_age_of_items_in_progress_at_the_end_of_a_day():
    wf = workflow()
    data = flow(
        ("A", "2024-03-01 09:00", "Dev"),
        ("B", "2024-03-03 09:00", "Dev"),
        ("B", "2024-03-04 09:00", "Review"),  # still in progress: its age runs from the 3rd
        ("C", "2024-03-02 09:00", "Dev"),
        ("C", "2024-03-04 12:00", "Done"),
        ("D", "2024-03-05 09:00", "Backlog"),
    )
    iv = stage_intervals(data.events, wf, ts("2024-03-06 23:00"))
    # End of the 4th: A (age 4) and B (age 2); C is done.
    assert mean_age_in_progress(iv, wf, pd.Timestamp("2024-03-04")) == pytest.approx(3.0)
    assert mean_age_in_progress(iv, wf, pd.Timestamp("2024-03-01")) == pytest.approx(1.0)
    assert np.isnan(mean_age_in_progress(iv, wf, pd.Timestamp("2024-02-28")))


def test_the_report_check_and_the_summary_agree():
    wf = workflow()
    data = flow(
        ("A", "2024-03-01 09:00", "Dev"),
        ("A", "2024-03-02 09:00", "Done"),
        ("B", "2024-03-02 09:00", "Dev"),
        ("B", "2024-03-03 09:00", "Done"),
        ("C", "2024-03-03 09:00", "Dev"),
    )
    report = flow_report(data, wf, ts("2024-03-03 23:00"))
    check = report_littles_law(report, wf)
    # WIP 1, 2, 2 (B started on the 2nd while A was there) -> L 5/3; 2 delivered in 3 days,
    # each 2 days -> lambda W = 4/3; ratio 1.25.
    assert check.ratio == pytest.approx(1.25)
    values = dict(zip(report.summary["metric"], report.summary["value"], strict=True))
    assert values["littles_law_ratio"] == pytest.approx(1.25)
    assert values["arrivals_per_departure"] == pytest.approx(1.5)


def test_xmr_limits_from_the_mean_moving_range():
    chart = xmr(pd.Series([4.0, 6.0, 5.0, 7.0, 3.0]))
    # Mean 5; moving ranges 2, 1, 2, 4 -> mR 2.25; limits 5 +/- 5.985.
    assert chart["mean"].iloc[0] == 5.0
    assert chart["upper"].iloc[0] == pytest.approx(5 + 2.66 * 2.25)
    assert chart["lower"].iloc[0] == 0.0  # 5 - 5.985 is below 0
    assert np.isnan(chart["moving_range"].iloc[0])
    assert not chart["outside"].any() and not chart["run"].any()


def test_a_point_outside_the_limits_is_a_signal_named_in_words():
    values = pd.Series([10.0, 11, 10, 11, 10, 11, 30], index=list("abcdefg"))
    chart = xmr(values)
    # Mean 13.29, mR (1*5 + 19)/6 = 4; upper 13.29 + 10.64 = 23.9; lower 2.64.
    assert chart["upper"].iloc[0] == pytest.approx(93 / 7 + 2.66 * 4)
    assert chart["lower"].iloc[0] == pytest.approx(93 / 7 - 2.66 * 4)
    assert chart["outside"].tolist() == [False] * 6 + [True]
    signals = xmr_signals(chart, "item", "days")
    assert signals == [
        "item g: 30 days, above the upper natural process limit (23.9): something special "
        "happened here; find out what."
    ]


def test_eight_in_a_row_on_one_side_is_a_signal_seven_is_not():
    values = [1.0, 2, 1, 2, 1, 2, 1, 2] + [9, 8, 9, 8, 9, 8, 9]
    chart = xmr(pd.Series(values))
    assert chart["run"].tolist() == [True] * 8 + [False] * 7
    words = xmr_signals(chart, lambda i: f"point {i + 1}", "items")
    assert words[-1].startswith("8 points in a row below the mean (4.8 items), from point 1 to "
                                "point 8: the process has shifted down")  # fmt: skip
    # A point exactly on the mean ends a run.
    on_mean = xmr(pd.Series([1.0, 1, 1, 1, 5, 1, 1, 1, 1, 9, 9, 9, 9, 5, 9, 9, 9, 9]))
    assert on_mean["mean"].iloc[0] == 5.0 and not on_mean["run"].any()


def test_xmr_of_nothing_or_one_point():
    assert xmr(pd.Series([], dtype="float64")).empty
    one = xmr(pd.Series([3.0]))
    assert np.isnan(one["upper"].iloc[0]) and not one["outside"].any()


def test_weekly_throughput_counts_whole_weeks_back_from_the_last_day():
    index = pd.date_range("2024-03-01", periods=16, freq="D", name="date")
    daily = pd.DataFrame({"throughput": range(16)}, index=index)
    weeks = weekly_throughput(daily)
    # Days 2..15 make two whole weeks; day 0 and 1 are left out.
    assert weeks.index.tolist() == [pd.Timestamp("2024-03-03"), pd.Timestamp("2024-03-10")]
    assert weeks.tolist() == [sum(range(2, 9)), sum(range(9, 16))]
    assert weekly_throughput(daily.iloc[:6]).empty


def test_cycle_times_in_done_order():
    facts = pd.DataFrame(
        {
            "done_at": [ts("2024-03-05 10:00"), pd.NaT, ts("2024-03-02 10:00"),
                        ts("2024-03-05 10:00")],
            "cycle_time_days": pd.array([4, pd.NA, 2, 7], dtype="Int64"),
        },
        index=pd.Index(["B", "X", "C", "A"], name="item_id"),
    )  # fmt: skip
    ordered = cycle_times_in_done_order(facts)
    assert ordered.index.tolist() == ["C", "A", "B"] and ordered.tolist() == [2.0, 7.0, 4.0]
