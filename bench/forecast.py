"""The forecast's share of the benchmark (issue 11): one function the sized benchmark calls on
facts it already has, and `python -m bench.forecast` for the demo and the real boards.

    uv run python -m bench.forecast                # the demo, and ../shared/data/real if present
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from metrics import forecast as fc
from metrics.days import local_day
from metrics.workflow import Workflow

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
YEAR_DAYS = 365
FEATURES = 5


def forecast_timings(
    facts: pd.DataFrame,
    events: pd.DataFrame,
    workflow: Workflow,
    as_of: pd.Timestamp,
    trials: int = fc.DEFAULT_TRIALS,
) -> dict:
    """Seconds of each forecast question at `trials` trials on a flow report's `facts`:
    "how many in a year", "when is a year's throughput done", five features of a fifth each,
    the 26-point backtest. Returns `seconds` (question -> s) and the 85% answers computed."""
    tz = workflow.timezone
    day = local_day(as_of, tz)
    seconds: dict[str, float] = {}

    def timed(name, fn, *args):
        began = time.perf_counter()
        out = fn(*args)
        seconds[name] = time.perf_counter() - began
        return out

    sample = timed("throughput sample", fc.throughput_sample, facts, tz, as_of)
    year = day + pd.Timedelta(days=YEAR_DAYS)
    many = timed(f"how many by, {YEAR_DAYS} days", fc.how_many_by, sample, day, year, trials)
    n = max(int(sample.mean() * YEAR_DAYS), 1)
    when = timed(f"when {n} done (~a year)", fc.when_done, sample, day, n, trials)
    plan = pd.DataFrame(
        {
            "feature": [f"F{i + 1}" for i in range(FEATURES)],
            "remaining": [max(n // FEATURES, 1)] * FEATURES,
        }
    )
    features = timed(f"{FEATURES} features", fc.features_forecast, sample, day, plan, trials)
    tested = timed(
        "backtest, 26 points", fc.backtest, events, facts["type"], workflow, as_of,
        fc.DEFAULT_WINDOW_DAYS, (), trials,
    )  # fmt: skip
    return {
        "seconds": seconds,
        "how_many_85": int(many[85]),
        "when_n": n,
        "when_85": when.loc[85, "date"],
        "last_feature_85": features["p85"].iloc[-1],
        "hit_rate": fc.hit_rate(tested),
    }


def _boards() -> list[tuple[str, dict]]:
    boards = [("demo", {"demo": True})]
    last_days = {"asos-search-board": "2026-08-19", "jira-cloud-prj": "2020-08-26"}
    for name, last in last_days.items():
        folder = REAL / name
        if (folder / "events.csv").is_file():
            inputs = {"config_path": str(folder / "flowdeck.toml"), "as_of": last}
            boards.append((name, {**inputs, "events": str(folder / "events.csv")}))
    return boards


def main() -> int:
    from flowdeck.inputs import load_inputs
    from metrics.report import flow_report

    for name, inputs in _boards():
        loaded = load_inputs(**inputs)
        report = flow_report(loaded.data, loaded.config.workflow, loaded.as_of)
        out = forecast_timings(
            report.items, loaded.data.events, loaded.config.workflow, loaded.as_of
        )
        hits, scored = out["hit_rate"]
        print(f"{name}: backtest {hits} of {scored}; 85%: {out['how_many_85']} items in a year")
        for question, s in out["seconds"].items():
            print(f"  {question:<28} {s:7.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
