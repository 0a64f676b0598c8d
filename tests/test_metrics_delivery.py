"""Deploy frequency, batch size, lead time for changes, change failure rate, time to restore."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from metrics.days import end_of_day
from metrics.frames import FlowData, conform_deployments
from metrics.report import flow_report
from tests.flowbuild import flow, ts, workflow


def deployments(*rows):
    return conform_deployments(
        pd.DataFrame(rows, columns=["deploy_id", "deployed_at", "environment", "status"]).assign(
            deployed_at=lambda f: pd.to_datetime(f["deployed_at"], utc=True)
        )
    )


def with_deploys(data: FlowData, deploys: pd.DataFrame, shipped=None) -> FlowData:
    shipped = shipped if shipped is not None else data.shipped
    return FlowData(items=data.items, events=data.events, deployments=deploys, shipped=shipped)


ITEMS = flow(
    ("X", "2024-06-01 09:00", "Dev"),
    ("X", "2024-06-02 09:00", "Done"),
    ("Y", "2024-06-01 09:00", "Dev"),
    ("Y", "2024-06-04 09:00", "Done"),
    ("Z", "2024-06-01 09:00", "Dev"),
    ("Z", "2024-06-07 09:00", "Done"),
)
DEPLOYS = deployments(
    ("d1", "2024-06-03 12:00", "production", "success"),
    ("s1", "2024-06-04 10:00", "staging", "success"),
    ("d2", "2024-06-05 12:00", "Production", "failure"),
    ("d3", "2024-06-06 12:00", "production", "success"),
)


def test_batches_by_time_lead_times_failures_and_restore():
    report = flow_report(
        with_deploys(ITEMS, DEPLOYS),
        workflow(),
        end_of_day("2024-06-14", "UTC"),
        first=pd.Timestamp("2024-06-01"),
        last=pd.Timestamp("2024-06-14"),
    )
    table = report.deployments.set_index("deploy_id")
    assert table.loc["d1", "batch_size"] == 1 and table.loc["d3", "batch_size"] == 1
    assert pd.isna(table.loc["d2", "batch_size"]) and pd.isna(table.loc["s1", "batch_size"])
    assert table.loc["d2", "restore_hours"] == 24.0
    shipped = report.shipped_items.set_index("item_id")
    assert shipped.loc["X", "deploy_id"] == "d1" and shipped.loc["X", "lead_time_hours"] == 27.0
    assert shipped.loc["Y", "deploy_id"] == "d3"  # d2 failed: it shipped nothing
    assert shipped.loc["Y", "start_to_production_hours"] == 5 * 24 + 3
    assert "Z" not in shipped.index  # delivered after the last deployment: waiting to ship
    summary = dict(zip(report.summary["metric"], report.summary["value"], strict=True))
    assert summary["deploy_frequency_per_week"] == 1.0  # 2 successes in 14 days
    assert summary["deployment_days_per_week"] == 1.0
    assert summary["change_failure_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["batch_size_avg"] == 1.0
    assert summary["time_to_restore_hours_median"] == 24.0
    assert summary["waiting_to_ship"] == 1.0


def test_named_items_take_precedence_over_the_time_window():
    deploys = deployments(
        ("d1", "2024-06-05 12:00", "production", "success"),
        ("d2", "2024-06-08 12:00", "production", "success"),
    )
    shipped = pd.DataFrame({"deploy_id": ["d2"], "item_id": ["X"]})
    report = flow_report(
        with_deploys(ITEMS, deploys, shipped), workflow(), end_of_day("2024-06-14", "UTC")
    )
    table = report.deployments.set_index("deploy_id")
    # X is named by d2; Y (done before d1) goes by time to d1; Z by time to none (d2 names items).
    assert table.loc["d1", "batch_size"] == 1 and table.loc["d2", "batch_size"] == 1
    assert bool(table.loc["d2", "explicit_items"]) and not table.loc["d1", "explicit_items"]
    shipped_items = report.shipped_items.set_index("item_id")
    assert shipped_items.loc["X", "deploy_id"] == "d2"
    assert shipped_items.loc["X", "lead_time_hours"] == 6 * 24 + 3


def test_empty_inputs_give_empty_tables_with_their_columns():
    report = flow_report(FlowData(), workflow(), ts("2024-06-01 12:00"))
    assert report.items.empty and "cycle_time_days" in report.items.columns
    assert len(report.daily) == 1 and report.daily["wip"].tolist() == [0]
    assert report.deployments.empty and "batch_size" in report.deployments.columns
    assert report.shipped_items.empty and "lead_time_hours" in report.shipped_items.columns
    assert report.stage_times.empty and list(report.stage_times.columns) == [
        "Backlog", "Dev", "Review", "Done",
    ]  # fmt: skip
    assert report.percentiles.isna().all()
    assert set(report.summary["metric"]) >= {"cycle_time_p50", "change_failure_rate"}


def test_rework_rate_counts_deployments_whose_items_are_all_rework():
    typed = flow(
        ("B1", "2024-06-01 09:00", "Dev"),
        ("B1", "2024-06-02 09:00", "Done"),
        ("S1", "2024-06-01 09:00", "Dev"),
        ("S1", "2024-06-02 10:00", "Done"),
        ("B2", "2024-06-01 09:00", "Dev"),
        ("B2", "2024-06-04 09:00", "Done"),
        ("H1", "2024-06-01 09:00", "Dev"),
        ("H1", "2024-06-04 10:00", "Done"),
        items=[
            {"item_id": "B1", "type": "Bug"},
            {"item_id": "S1", "type": "Story"},
            {"item_id": "B2", "type": " bug "},  # types compare case- and space-insensitively
            {"item_id": "H1", "type": "Hotfix"},
        ],
    )
    deploys = deployments(
        ("d1", "2024-06-03 12:00", "production", "success"),  # B1 + S1: mixed, not rework
        ("d2", "2024-06-05 12:00", "production", "success"),  # B2 + H1: all rework
        ("d3", "2024-06-06 12:00", "production", "success"),  # ships nothing: not counted
        ("d4", "2024-06-06 13:00", "production", "failure"),  # failures never count
    )
    report = flow_report(
        with_deploys(typed, deploys),
        workflow(),
        end_of_day("2024-06-14", "UTC"),
        first=pd.Timestamp("2024-06-01"),
        last=pd.Timestamp("2024-06-14"),
    )
    rework = report.rework
    assert list(rework.index) == ["d1", "d2"]
    assert rework.loc["d1", "shipped_items"] == 2 and rework.loc["d1", "rework_items"] == 1
    assert not rework.loc["d1", "is_rework"] and rework.loc["d2", "is_rework"]
    summary = dict(zip(report.summary["metric"], report.summary["value"], strict=True))
    assert summary["rework_rate"] == 0.5

    # `[delivery] rework_types` replaces the default list: with only Hotfix, d2 is mixed.
    only_hotfix = dataclasses.replace(workflow(), rework_types=("Hotfix",))
    report = flow_report(with_deploys(typed, deploys), only_hotfix, end_of_day("2024-06-14", "UTC"))
    summary = dict(zip(report.summary["metric"], report.summary["value"], strict=True))
    assert summary["rework_rate"] == 0.0


def test_rework_rate_is_missing_without_a_counted_deployment():
    report = flow_report(with_deploys(ITEMS, DEPLOYS.iloc[0:0]), workflow(), ts("2024-06-14"))
    summary = dict(zip(report.summary["metric"], report.summary["value"], strict=True))
    assert pd.isna(summary["rework_rate"]) and report.rework.empty
