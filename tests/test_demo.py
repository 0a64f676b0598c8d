"""The demo world: deterministic, believable, and telling the kaizen story it promises."""

from __future__ import annotations

import pandas as pd

from connectors.demo import (
    DEMO_AS_OF,
    DEMO_LIMIT_CHANGE_DAY,
    _World,
    demo_config,
    demo_flow_data,
    demo_wip_limit_changes,
)
from metrics.days import local_days
from metrics.quality import data_quality
from metrics.report import flow_report


def test_same_seed_same_data_and_another_seed_differs():
    a, b = _World(7).run(), _World(7).run()
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert not _World(8).run().events.equals(a.events)


def test_the_world_has_what_the_demo_promises():
    data = demo_flow_data()
    workflow = demo_config().workflow
    report = flow_report(data, workflow, DEMO_AS_OF)
    items = report.items
    assert 1000 <= len(items) <= 1400
    assert set(items["type"]) == {"Story", "Bug", "Chore"}
    span = (data.events["changed_at"].max() - data.events["changed_at"].min()).days
    assert 500 <= span <= 560  # about 18 months
    assert sum(s.waiting for s in workflow.stages) == 2 and len(workflow.stages) == 6
    quality = data_quality(report, workflow).set_index("check")["count"]
    assert quality["backward_moves"] > 20 and quality["unmapped_status"] > 0
    assert (data.events["status"] == "Reopened").sum() > 5
    assert items["discarded"].sum() > 50 and items["in_progress"].sum() > 5
    assert (data.events["event"] == "blocked").sum() > 10
    deploys = data.deployments[data.deployments["environment"] == "production"]
    assert 60 <= len(deploys) <= 120 and (deploys["status"] == "failure").sum() >= 3


def test_lowering_the_wip_limit_visibly_shortens_cycle_times():
    report = flow_report(demo_flow_data(), demo_config().workflow, DEMO_AS_OF)
    done = report.items[report.items["done_at"].notna()]
    day = local_days(done["done_at"], "Europe/London")
    before = done.loc[day < DEMO_LIMIT_CHANGE_DAY, "cycle_time_days"].astype(float)
    after = done.loc[day >= DEMO_LIMIT_CHANGE_DAY + pd.Timedelta(days=30), "cycle_time_days"]
    assert after.astype(float).quantile(0.85) < 0.85 * before.quantile(0.85)
    wip = report.daily["wip"]
    assert (
        wip[wip.index >= DEMO_LIMIT_CHANGE_DAY].mean()
        < wip[wip.index < DEMO_LIMIT_CHANGE_DAY].mean()
    )
    assert demo_wip_limit_changes().loc[0, "new_limit"] == 4


def test_the_last_day_tells_the_stand_up_story():
    """A newcomer's first board: one column over its limit, a blocked item, an item beyond the
    SLE, each found by the same code as the dashboard's attention list."""
    from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data, demo_wip_limit_changes
    from dashboard.board import attention_list, board_columns

    workflow = demo_config().workflow
    report = flow_report(demo_flow_data(), workflow, DEMO_AS_OF)
    columns = board_columns(report, workflow, demo_wip_limit_changes())
    over = [c.stage for c in columns if c.committed and c.over]
    assert over == ["Testing"]
    reasons = attention_list(report, columns, workflow.timezone)["reason"].value_counts()
    assert reasons.get("older than the SLE") == 1
    assert reasons.get("blocked") == 1
