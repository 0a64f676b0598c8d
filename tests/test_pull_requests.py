"""Pull-request flow (spec section 8): every hour on hand-built pull requests, the export file,
and the Delivery page on the demo."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.days import end_of_day
from metrics.export_tables import export_tables
from metrics.frames import FlowData, conform_deployments, conform_pull_requests
from metrics.pull_requests import pull_request_flow, slowest, weekly_waits
from metrics.report import flow_report
from tests.flowbuild import flow, workflow
from tests.test_dashboard_app import demo_env, demo_report, metric, run_page  # noqa: F401

ITEMS = flow(
    ("P1", "2024-06-03 09:00", "Dev"),
    ("P1", "2024-06-05 09:00", "Done"),
    ("P2", "2024-06-03 09:00", "Dev"),
    ("P2", "2024-06-06 09:00", "Done"),
    ("P3", "2024-06-03 09:00", "Dev"),
    ("P3", "2024-06-06 10:00", "Done"),
    ("P4", "2024-06-03 09:00", "Dev"),
    items=[{"item_id": i, "lines_changed": n} for i, n in
           (("P1", 40), ("P2", 400), ("P3", None), ("P4", 10))],
)  # fmt: skip
PRS = conform_pull_requests(
    pd.DataFrame(
        [
            # P1: commit Mon 08:00, opened Mon 10:00, reviewed Tue 10:00, merged Tue 16:00.
            ("P1", "2024-06-03 10:00", None, "2024-06-03 08:00", "2024-06-04 10:00",
             "2024-06-04 16:00"),
            # P2: a draft created Mon, ready Tue 09:00; first commit after opening (rebased):
            # coding 0; no review by anyone else: review runs from ready to merge.
            ("P2", "2024-06-03 12:00", "2024-06-04 09:00", "2024-06-04 12:00", None,
             "2024-06-05 09:00"),
            # P3: first commit unknown: no coding time.
            ("P3", "2024-06-04 09:00", None, None, "2024-06-04 11:00", "2024-06-06 09:00"),
            # P4: still open: not in the flow.
            ("P4", "2024-06-04 09:00", None, "2024-06-03 10:00", None, None),
        ],
        columns=["item_id", "created_at", "ready_at", "first_commit_at", "first_review_at",
                 "merged_at"],
    ).assign(**{c: lambda f, c=c: pd.to_datetime(f[c], utc=True) for c in
                ("created_at", "ready_at", "first_commit_at", "first_review_at", "merged_at")})
)  # fmt: skip
DEPLOYS = conform_deployments(
    pd.DataFrame(
        {
            "deploy_id": ["d1", "d2", "d3"],
            "deployed_at": pd.to_datetime(
                ["2024-06-05 12:00", "2024-06-06 08:00", "2024-06-07 12:00"], utc=True
            ),
            "environment": ["production", "production", "production"],
            "status": ["success", "failure", "success"],
        }
    )
)
DATA = FlowData(items=ITEMS.items, events=ITEMS.events, deployments=DEPLOYS, pull_requests=PRS)


def test_every_hour_of_section_8():
    report = flow_report(DATA, workflow(), end_of_day("2024-06-10", "UTC"))
    prs = report.pull_requests.set_index("item_id")
    assert list(prs.index) == ["P1", "P2", "P3"]  # by merge time; P4 is not merged
    p1 = prs.loc["P1"]
    assert p1["coding_hours"] == 2.0 and p1["pickup_hours"] == 24.0
    assert p1["review_hours"] == 6.0
    # P1 is done Wed 09:00 and shipped by d1 (Wed 12:00): deploy = d1 - merge = 20 h.
    assert p1["deployed_at"] == pd.Timestamp("2024-06-05 12:00", tz="UTC")
    assert p1["deploy_hours"] == 20.0 and p1["lines_changed"] == 40
    p2 = prs.loc["P2"]
    assert p2["opened_at"] == pd.Timestamp("2024-06-04 09:00", tz="UTC")  # ready, not created
    assert p2["coding_hours"] == 0.0  # a first commit after opening counts 0
    assert pd.isna(p2["pickup_hours"]) and p2["review_hours"] == 24.0
    # P2 is done Thu 09:00: d2 (Thu 08:00) failed, so d3 (Fri 12:00) shipped it.
    assert p2["deploy_hours"] == 51.0
    p3 = prs.loc["P3"]
    assert pd.isna(p3["coding_hours"]) and p3["pickup_hours"] == 2.0
    assert p3["review_hours"] == 46.0 and pd.isna(p3["lines_changed"])
    assert p3["deploy_hours"] == 27.0  # merged Thu 09:00, done Thu 10:00, shipped by d3

    table = export_tables(report, workflow())["pull_requests.csv"]
    assert list(table.columns) == [
        "item_id", "opened_at", "first_review_at", "merged_at", "deployed_at", "coding_hours",
        "pickup_hours", "review_hours", "deploy_hours", "lines_changed",
    ]  # fmt: skip
    row = table.set_index("item_id").loc["P2"]
    assert row["opened_at"] == "2024-06-04T09:00:00Z" and row["first_review_at"] == ""


def test_a_merged_pull_request_no_deployment_shipped_waits_and_weekly_medians():
    only_first = DATA.deployments.iloc[:1]
    # X9's item is not on the board: the first deployment after its merge shipped it.
    x9 = conform_pull_requests(pd.DataFrame({
        "item_id": ["X9"], "created_at": [pd.Timestamp("2024-06-04 08:00", tz="UTC")],
        "merged_at": [pd.Timestamp("2024-06-04 10:00", tz="UTC")],
    }))  # fmt: skip
    data = FlowData(items=DATA.items, events=DATA.events, deployments=only_first,
                    pull_requests=pd.concat([DATA.pull_requests, x9]))  # fmt: skip
    prs = flow_report(data, workflow(), end_of_day("2024-06-10", "UTC")).pull_requests
    prs = prs.set_index("item_id")
    # P2 is done on Thursday, after the only deployment: it waits to ship.
    assert pd.isna(prs.loc["P2", "deployed_at"]) and pd.isna(prs.loc["P2", "deploy_hours"])

    assert prs.loc["X9", "deploy_hours"] == 26.0 and prs.loc["X9", "review_hours"] == 2.0
    prs = prs.drop("X9")

    weeks = weekly_waits(prs.reset_index(), "UTC")
    assert weeks.index.tolist() == [pd.Timestamp("2024-06-03")]
    assert weeks.loc["2024-06-03", "pull_requests"] == 3
    assert weeks.loc["2024-06-03", "review_hours"] == 24.0  # median of 6, 24, 46
    worst = slowest(prs.reset_index(), 1).iloc[0]
    # P1: 2 + 24 + 6 + 20 = 52 h, most of it waiting for review; P3 has 48 h (not shipped).
    assert worst["item_id"] == "P1" and worst["longest_wait"] == "waiting for review"
    assert worst["total_hours"] == 52.0


def test_without_any_deployment_nothing_is_deployed():
    data = FlowData(items=DATA.items, events=DATA.events, pull_requests=DATA.pull_requests)
    prs = flow_report(data, workflow(), end_of_day("2024-06-10", "UTC")).pull_requests
    assert len(prs) == 3 and prs["deployed_at"].isna().all()
    assert prs["deploy_hours"].isna().all() and prs["review_hours"].notna().all()


def test_no_pull_requests_is_an_empty_frame_with_the_columns():
    facts = flow_report(DATA, workflow(), end_of_day("2024-06-10", "UTC")).items
    flow_frame = pull_request_flow(DATA.pull_requests.iloc[0:0], DATA.deployments, DATA.shipped,
                                   facts)  # fmt: skip
    assert flow_frame.empty and "deploy_hours" in flow_frame.columns
    assert slowest(flow_frame).empty and weekly_waits(flow_frame, "UTC").empty


def test_delivery_page_shows_where_the_demos_pull_requests_wait(demo_env):  # noqa: F811
    at = run_page("app_pages/delivery.py")
    cfg, report = demo_report()
    prs = report.pull_requests
    day = prs["merged_at"].dt.tz_convert(cfg.workflow.timezone).dt.tz_localize(None)
    prs = prs[(day.dt.normalize() >= report.first_day) & (day.dt.normalize() <= report.last_day)]
    assert len(prs) > 50
    expected = prs["pickup_hours"].median()
    assert metric(at, "Median waiting for review") == f"{expected:.1f} h"
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"pr_waits", "pr_size"} <= keys


@pytest.mark.parametrize("column", ["coding_hours", "pickup_hours", "review_hours", "deploy_hours"])
def test_the_demos_hours_are_never_negative(column):
    from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data

    report = flow_report(demo_flow_data(), demo_config().workflow, DEMO_AS_OF)
    hours = report.pull_requests[column].dropna()
    assert len(hours) > 500 and (hours >= 0).all()


def test_pull_requests_round_trip_through_the_store_and_leave_with_their_item(tmp_path):
    import dataclasses

    from connectors.store import open_store
    from tests.test_store import FULL, chunk, write

    prs = conform_pull_requests(
        pd.DataFrame(
            {
                "item_id": ["t:1", "t:2", "t:unknown"],  # an item the store does not hold
                "created_at": pd.to_datetime(["2024-03-02 12:00", "2024-03-02 07:00",
                                              "2024-03-02 07:00"], utc=True),
                "ready_at": pd.to_datetime(["2024-03-03 09:00", None, None], utc=True),
                "first_commit_at": pd.to_datetime(["2024-03-02 11:30", None, None], utc=True),
                "first_review_at": pd.to_datetime(["2024-03-04 10:00", None, None], utc=True),
                "merged_at": pd.to_datetime(["2024-03-05 12:00", None, None], utc=True),
            }
        )
    )  # fmt: skip
    path = tmp_path / "flowdeck.db"
    with open_store(path) as store:
        write(store, "t", dataclasses.replace(FULL, pull_requests=prs))
        data = store.read_flow_data()
    got = data.pull_requests.set_index("item_id")
    assert sorted(got.index) == ["t:1", "t:2"]
    pd.testing.assert_series_equal(
        got.loc["t:1"], prs.set_index("item_id").loc["t:1"], check_names=False
    )
    assert got.loc["t:2"].drop("created_at").isna().all()

    # A snapshot source that no longer has t:1 drops its pull request with it.
    only_two = chunk([("t:2", "2024-03-02 08:00", "Dev")])
    with open_store(path) as store:
        write(store, "t", only_two, replace=("items", "events"))
        assert list(store.read_flow_data().pull_requests["item_id"]) == ["t:2"]
