"""Each definition of spec section 3 on small hand-built histories.

Workflow (tests/flowbuild.py): Backlog(0) -> Dev(1) -> Review(2, waiting) -> Done(3);
start = Dev, done = Done, "Dropped" discards. Times are UTC unless a test says otherwise.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metrics.cycle_time import cycle_time_percentiles, pace, pace_band
from metrics.days import end_of_day
from metrics.report import flow_report
from tests.flowbuild import flow, ts, workflow

AS_OF = end_of_day("2024-06-10", "UTC")


def facts_of(*rows, as_of=AS_OF, wf=None):
    wf = wf or workflow()
    return flow_report(flow(*rows), wf, as_of).items


def test_basic_item_started_done_cycle_time_and_efficiency():
    f = facts_of(
        ("A", "2024-06-01 09:00", "Backlog"),
        ("A", "2024-06-02 10:00", "Dev"),
        ("A", "2024-06-04 10:00", "Review"),
        ("A", "2024-06-05 16:00", "Done"),
    ).loc["A"]
    assert f["started_at"] == ts("2024-06-02 10:00")
    assert f["done_at"] == ts("2024-06-05 16:00")
    assert f["cycle_time_days"] == 4  # 2, 3, 4 and 5 June
    assert f["cycle_time_hours"] == 78.0
    assert f["flow_efficiency"] == pytest.approx(48 / 78, abs=1e-4)  # Review is waiting
    assert f["stage"] == "Done" and not f["in_progress"] and pd.isna(f["age_days"])


def test_backward_move_inside_in_progress_keeps_the_clock():
    f = facts_of(
        ("B", "2024-06-01 09:00", "Backlog"),
        ("B", "2024-06-02 09:00", "Dev"),
        ("B", "2024-06-03 09:00", "Review"),
        ("B", "2024-06-04 09:00", "Dev"),
        ("B", "2024-06-05 09:00", "Review"),
        ("B", "2024-06-06 09:00", "Done"),
    ).loc["B"]
    assert f["started_at"] == ts("2024-06-02 09:00")
    assert f["cycle_time_days"] == 5


def test_return_before_start_restarts_the_clock():
    f = facts_of(
        ("C", "2024-06-01 09:00", "Backlog"),
        ("C", "2024-06-02 09:00", "Dev"),
        ("C", "2024-06-03 09:00", "Backlog"),
        ("C", "2024-06-05 09:00", "Dev"),
        ("C", "2024-06-06 09:00", "Done"),
    ).loc["C"]
    assert f["started_at"] == ts("2024-06-05 09:00")
    assert f["cycle_time_days"] == 2


def test_reopened_item_keeps_start_and_counts_once_on_final_delivery():
    rows = (
        ("D", "2024-06-01 09:00", "Dev"),
        ("D", "2024-06-02 09:00", "Done"),
        ("D", "2024-06-04 09:00", "Dev"),
        ("D", "2024-06-05 09:00", "Done"),
    )
    report = flow_report(flow(*rows), workflow(), AS_OF)
    f = report.items.loc["D"]
    assert f["started_at"] == ts("2024-06-01 09:00")
    assert f["done_at"] == ts("2024-06-05 09:00")
    assert f["cycle_time_days"] == 5
    throughput = report.daily["throughput"]
    assert throughput.sum() == 1 and throughput[pd.Timestamp("2024-06-05")] == 1
    # In progress again on 4 June (it was reopened), WIP counts it that day.
    assert report.daily.loc[pd.Timestamp("2024-06-04"), "wip"] == 1
    assert report.daily.loc[pd.Timestamp("2024-06-03"), "wip"] == 0


def test_jump_straight_to_done_starts_when_done():
    f = facts_of(
        ("E", "2024-06-01 09:00", "Backlog"),
        ("E", "2024-06-03 12:00", "Done"),
    ).loc["E"]
    assert f["started_at"] == f["done_at"] == ts("2024-06-03 12:00")
    assert f["cycle_time_days"] == 1 and f["cycle_time_hours"] == 0
    assert math.isnan(f["flow_efficiency"])  # no time in progress: empty, not 0 or 1


def test_discarded_item_leaves_every_count():
    report = flow_report(
        flow(
            ("F", "2024-06-01 09:00", "Backlog"),
            ("F", "2024-06-02 09:00", "Dev"),
            ("F", "2024-06-03 09:00", "Dropped"),
        ),
        workflow(),
        AS_OF,
    )
    f = report.items.loc["F"]
    assert f["stage"] == "discarded" and f["discarded"] and not f["in_progress"]
    assert pd.isna(f["done_at"])
    daily = report.daily
    assert daily.loc[pd.Timestamp("2024-06-02"), "Dev"] == 1
    assert daily.loc[pd.Timestamp("2024-06-03"), "Dev"] == 0
    assert daily.loc[pd.Timestamp("2024-06-03"), "wip"] == 1  # in progress until 09:00
    assert daily.loc[pd.Timestamp("2024-06-04"), "wip"] == 0
    assert report.cfd.loc[pd.Timestamp("2024-06-04"), "Backlog"] == 0


def test_unmapped_status_leaves_the_item_where_it_was_and_is_reported():
    report = flow_report(
        flow(
            ("G", "2024-06-01 09:00", "Backlog"),
            ("G", "2024-06-02 09:00", "Dev"),
            ("G", "2024-06-03 09:00", "Waiting for Vendor"),
            ("G", "2024-06-04 09:00", "Done"),
        ),
        workflow(),
        AS_OF,
    )
    assert report.stage_times.loc["G", "Dev"] == 48.0
    assert report.unmapped.to_dict("records") == [{"status": "Waiting for Vendor", "count": 1}]


def test_status_names_match_case_insensitively_and_ignore_spaces():
    f = facts_of(("H", "2024-06-01 09:00", "  in progress "), ("H", "2024-06-02 09:00", "CLOSED"))
    assert f.loc["H", "stage"] == "Done" and f.loc["H", "cycle_time_days"] == 2


def test_blocked_days_open_spell_runs_to_as_of_and_only_counts_in_progress():
    f = facts_of(
        ("P", "2024-06-01 09:00", "Backlog"),
        ("P", "2024-06-01 10:00", "", "blocked"),  # blocked in the backlog: not counted
        ("P", "2024-06-02 08:00", "", "unblocked"),
        ("P", "2024-06-02 09:00", "Dev"),
        ("P", "2024-06-03 10:00", "", "blocked"),  # never unblocked: runs to as_of
        ("Q", "2024-06-01 09:00", "Dev"),
        ("Q", "2024-06-02 10:00", "", "blocked"),
        ("Q", "2024-06-02 10:30", "", "blocked"),  # a repeat inside the spell changes nothing
        ("Q", "2024-06-02 11:00", "", "unblocked"),
        ("Q", "2024-06-03 09:00", "Done"),
        as_of=end_of_day("2024-06-05", "UTC"),
    )
    assert f.loc["P", "blocked_days"] == 3  # 3, 4 and 5 June
    assert bool(f.loc["P", "blocked_now"])
    assert f.loc["Q", "blocked_days"] == 1 and not f.loc["Q", "blocked_now"]


def test_events_after_as_of_are_ignored_and_age_counts_days():
    f = facts_of(
        ("I", "2024-06-01 09:00", "Dev"),
        ("I", "2024-06-20 09:00", "Done"),
    ).loc["I"]
    assert pd.isna(f["done_at"]) and f["in_progress"]
    assert f["age_days"] == 10  # 1 to 10 June inclusive


def test_same_instant_events_apply_in_file_order():
    forward = facts_of(
        ("J", "2024-06-01 09:00", "Backlog"),
        ("J", "2024-06-02 09:00", "Dev"),
        ("J", "2024-06-02 09:00", "Done"),
    ).loc["J"]
    assert forward["stage"] == "Done" and forward["started_at"] == ts("2024-06-02 09:00")
    backward = facts_of(
        ("K", "2024-06-01 09:00", "Backlog"),
        ("K", "2024-06-02 09:00", "Done"),
        ("K", "2024-06-02 09:00", "Dev"),
    ).loc["K"]
    assert backward["stage"] == "Dev" and backward["in_progress"]


def test_repeated_status_changes_nothing():
    f = facts_of(("L", "2024-06-01 09:00", "Dev"), ("L", "2024-06-03 09:00", "In Progress"))
    assert f.loc["L", "started_at"] == ts("2024-06-01 09:00") and f.loc["L", "age_days"] == 10


def test_daily_wip_stage_counts_cfd_arrivals_and_throughput():
    report = flow_report(
        flow(
            ("A", "2024-06-01 09:00", "Backlog"),
            ("A", "2024-06-02 10:00", "Dev"),
            ("A", "2024-06-04 10:00", "Review"),
            ("A", "2024-06-05 16:00", "Done"),
            ("B", "2024-06-03 09:00", "Dev"),
            ("B", "2024-06-03 11:00", "Backlog"),  # in and out the same day
            ("B", "2024-06-03 15:00", "Dev"),
        ),
        workflow(),
        end_of_day("2024-06-06", "UTC"),
    )
    d = report.daily
    assert list(d.columns) == ["wip", "arrivals", "throughput", "Backlog", "Dev", "Review", "Done"]
    assert d.index[0] == pd.Timestamp("2024-06-01") and d.index[-1] == pd.Timestamp("2024-06-06")
    assert d["wip"].tolist() == [0, 1, 2, 2, 2, 1]  # B counts once on 3 June
    # Arrivals on the latest start: B restarted at 15:00 on 3 June.
    assert d["arrivals"].tolist() == [0, 1, 1, 0, 0, 0]
    assert d["throughput"].tolist() == [0, 0, 0, 0, 1, 0]
    assert d["Review"].tolist() == [0, 0, 0, 1, 0, 0]
    cfd = report.cfd
    assert cfd["Backlog"].tolist() == [1, 1, 2, 2, 2, 2]
    assert cfd["Dev"].tolist() == [0, 1, 2, 2, 2, 2]
    assert cfd["Done"].tolist() == [0, 0, 0, 0, 1, 1]


def test_time_in_stage_runs_to_as_of():
    report = flow_report(
        flow(("A", "2024-06-01 00:00", "Dev"), ("A", "2024-06-01 06:00", "Review")),
        workflow(),
        ts("2024-06-01 18:00"),
    )
    row = report.stage_times.loc["A"]
    assert row.to_dict() == {"Backlog": 0.0, "Dev": 6.0, "Review": 12.0, "Done": 0.0}


def test_percentiles_use_linear_interpolation_and_pace():
    bands = cycle_time_percentiles(pd.Series([1, 2, 3, 4, 10]))
    assert bands[50] == 3.0 and bands[85] == pytest.approx(6.4)
    shares = pace(pd.Series([2, 5, None], index=["a", "b", "c"]), pd.Series([1, 2, 3, 4, 10]))
    assert shares["a"] == 0.4 and shares["b"] == 0.8 and pd.isna(shares["c"])
    band = pace_band(pd.Series([2, 5, 7], index=["x", "y", "z"]), bands)
    assert band.tolist() == ["ok", "watch", "late"]


def test_percentile_window_is_the_90_days_before_as_of():
    rows = [("OLD", "2024-01-01 09:00", "Dev"), ("OLD", "2024-01-20 09:00", "Done")]
    rows += [("NEW", "2024-06-01 09:00", "Dev"), ("NEW", "2024-06-02 09:00", "Done")]
    report = flow_report(flow(*rows), workflow(), AS_OF)
    assert report.percentiles[50] == 2.0  # OLD was delivered more than 90 days before


def test_naive_timestamps_are_local_days_across_midnight(tmp_path):
    from connectors.csv_files import read_event_log

    path = tmp_path / "events.csv"
    path.write_text(
        "item_id,changed_at,status\n"
        "N,2024-03-01T22:30:00,Dev\n"  # 03:30 UTC on 2 March, but 1 March in New York
        "N,2024-03-02T01:00:00,Done\n"
    )
    wf = workflow(timezone="America/New_York")
    data = read_event_log(path, wf.timezone)
    assert data.events["changed_at"].iloc[0] == ts("2024-03-02 03:30")
    f = flow_report(data, wf, end_of_day("2024-03-05", wf.timezone)).items.loc["N"]
    assert f["cycle_time_days"] == 2  # 1 and 2 March, local days
    assert f["cycle_time_hours"] == 2.5
