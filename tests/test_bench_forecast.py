"""The benchmark's forecast function answers what `metrics.forecast` answers (its timings are
reported, never asserted)."""

from __future__ import annotations

import pandas as pd

from bench.forecast import FEATURES, YEAR_DAYS, forecast_timings
from metrics import forecast as fc
from metrics.days import end_of_day
from metrics.report import flow_report
from tests.flowbuild import flow, workflow
from tests.test_forecast import delivered_daily


def test_forecast_timings_on_a_built_history():
    as_of = end_of_day("2024-06-30", "UTC")
    data = flow(*delivered_daily("2024-03-01", "2024-06-30", skip=("2024-06-01", "2024-06-02")))
    wf = workflow()
    facts = flow_report(data, wf, as_of).items
    out = forecast_timings(facts, data.events, wf, as_of, trials=500)
    when = f"when {out['when_n']} done (~a year)"
    assert set(out["seconds"]) == {
        "throughput sample", f"how many by, {YEAR_DAYS} days", when, f"{FEATURES} features",
        "backtest, 26 points",
    }  # fmt: skip
    assert all(s >= 0 for s in out["seconds"].values())
    sample = fc.throughput_sample(facts, "UTC", as_of)
    day = pd.Timestamp("2024-06-30")
    assert out["how_many_85"] == fc.how_many_by(sample, day, day + pd.Timedelta(days=365), 500)[85]
    assert out["when_85"] == fc.when_done(sample, day, out["when_n"], 500).loc[85, "date"]
    assert out["hit_rate"] == fc.hit_rate(
        fc.backtest(data.events, facts["type"], wf, as_of, trials=500)
    )
