"""One measurement in its own process: `python -m bench.worker WORK FOLDER`.

Prints one JSON object: `seconds` (wall time of the work only, not the loading it needs),
`peak_mib` (the process's peak resident memory, `resource.getrusage`, loading included) and
any detail. Each measurement gets a fresh process so that one size's memory never pollutes
another's peak. FOLDER holds `events.csv` and `flowdeck.toml` (see `bench.sizes.prepare`).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKTEST_MAX_ROWS = 1_000_000


def _peak_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def _config(folder: Path):
    from connectors.config import load_config

    return load_config(folder / "flowdeck.toml")


def _as_of(workflow):
    from bench.generate import AS_OF_DAY
    from metrics.days import end_of_day

    return end_of_day(AS_OF_DAY, workflow.timezone)


def _load(folder: Path):
    from connectors.csv_files import read_event_log

    workflow = _config(folder).workflow
    return workflow, read_event_log(folder / "events.csv", workflow.timezone)


def work_import(folder: Path) -> dict:
    from connectors.csv_files import read_event_log

    workflow = _config(folder).workflow
    clock = Clock()
    data = read_event_log(folder / "events.csv", workflow.timezone)
    return {**clock.stop(), "rows": len(data.events), "items": len(data.items)}


class Clock:
    """Wall and CPU seconds (all threads of this process) from creation to `stop`."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> dict:
        return {
            "seconds": time.perf_counter() - self.wall,
            "cpu_seconds": time.process_time() - self.cpu,
        }


def _timed(fn, *args):
    began = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - began


def work_metrics(folder: Path, check: bool = True) -> dict:
    """Each metric family on the loaded frames, then `flow_report` (every table of the export)
    plus the forecast, timed as a whole: that total is "all metrics from loaded frames"."""
    from metrics.cycle_time import PERCENTILES, cycle_time_percentiles, delivered_in, pace
    from metrics.daily import cumulative_flow, daily_flow
    from metrics.delivery import delivery_summary, deployment_table, shipped_items
    from metrics.intervals import stage_intervals
    from metrics.items import in_progress_runs, item_facts
    from metrics.report import flow_report, resolve_days

    workflow, data = _load(folder)
    as_of = _as_of(workflow)
    tz = workflow.timezone
    parts: dict[str, float] = {}
    intervals, parts["intervals"] = _timed(stage_intervals, data.events, workflow, as_of)
    facts, parts["item facts"] = _timed(
        item_facts, data.items, data.events, intervals, workflow, as_of
    )
    first, last = resolve_days(data.events, tz, as_of, None, None)

    def daily_and_cfd():
        runs = in_progress_runs(intervals, workflow)
        daily = daily_flow(facts, intervals, runs, workflow, first, last)
        return cumulative_flow(daily[workflow.stage_names])

    _, parts["daily series and CFD"] = _timed(daily_and_cfd)

    def percentiles():
        reference = delivered_in(facts, tz, as_of)
        bands = cycle_time_percentiles(reference["cycle_time_days"], PERCENTILES)
        return pace(facts["age_days"], reference["cycle_time_days"]), bands

    _, parts["percentiles and pace"] = _timed(percentiles)

    def delivery():
        shipped = shipped_items(data.deployments, data.shipped, facts)
        table = deployment_table(data.deployments, data.shipped, shipped)
        return delivery_summary(table, shipped, tz, first, last)

    _, parts["delivery"] = _timed(delivery)
    questions = forecast_questions(tz, as_of)
    if questions is not None:
        _, parts["forecast questions"] = _timed(questions, facts)
    intervals = facts = None  # free them before the whole report runs

    clock = Clock()
    report = flow_report(data, workflow, as_of)
    if questions is not None:
        questions(report.items)
    timing = clock.stop()
    if questions is not None and len(data.events) <= BACKTEST_MAX_ROWS:
        # The backtest replays the history 26 times: timed on its own, not in the total,
        # and not at a million items (26 replays of 6 million rows would take the machine).
        from bench.forecast import forecast_timings

        out = forecast_timings(report.items, data.events, workflow, as_of)
        parts["forecast backtest (26 replays)"] = out["seconds"]["backtest, 26 points"]
    if check:
        import pandas as pd

        from bench.checks import check_report

        log = pd.read_csv(folder / "events.csv", dtype=str, keep_default_na=False)
        check_report(report, log, workflow)
    return {**timing, "parts": parts, "checked": check}


def forecast_questions(tz: str, as_of):
    """The forecast's stand-up questions as one function of the facts ("how many in a year",
    "when is a year's throughput done", five features), when `metrics.forecast` exists."""
    try:
        from bench.forecast import FEATURES, YEAR_DAYS
        from metrics import forecast as fc
    except ImportError:
        return None
    import pandas as pd

    from metrics.days import local_day

    day = local_day(as_of, tz)

    def run(facts):
        sample = fc.throughput_sample(facts, tz, as_of)
        fc.how_many_by(sample, day, day + pd.Timedelta(days=YEAR_DAYS))
        n = max(int(sample.mean() * YEAR_DAYS), 1)
        fc.when_done(sample, day, n)
        plan = pd.DataFrame({"feature": [f"F{i + 1}" for i in range(FEATURES)],
                             "remaining": [max(n // FEATURES, 1)] * FEATURES})  # fmt: skip
        return fc.features_forecast(sample, day, plan)

    return run


def work_export(folder: Path) -> dict:
    """`flowdeck export` as a user runs it: a whole process, start-up and imports included."""
    from bench.generate import AS_OF_DAY

    command = [
        sys.executable, "-m", "flowdeck.cli", "export", "--config", str(folder / "flowdeck.toml"),
        "--events", str(folder / "events.csv"), "--as-of", AS_OF_DAY, "--out", str(folder / "out"),
    ]  # fmt: skip
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "peak_mib": _peak_mib(resource.RUSAGE_CHILDREN),
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def work_store_write(folder: Path) -> dict:
    from connectors.base import Chunk
    from connectors.store import open_store

    _, data = _load(folder)
    db = folder / "flowdeck.db"
    db.unlink(missing_ok=True)
    clock = Clock()
    with open_store(db) as store:
        writer = store.writer("bench", "csv")
        writer.add(Chunk(items=data.items.assign(source="bench"), events=data.events))
        writer.commit(replace=("items", "events"))
    return {**clock.stop(), "mib": db.stat().st_size / 2**20}


def work_store_read(folder: Path) -> dict:
    # The store imports pandas and pyarrow only when it builds frames (so that `flowdeck
    # status` starts without them): load them first, so the clock times the read, as it did
    # when the store imported them at once (about 0.4 s of CPU otherwise).
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    import metrics.frames  # noqa: F401
    from connectors.store import open_store

    with open_store(folder / "flowdeck.db", create=False) as store:
        clock = Clock()
        data = store.read_flow_data()
        timing = clock.stop()
    return {**timing, "rows": len(data.events)}


def work_dashboard(folder: Path) -> dict:
    """The board's first render and a rerun after a type filter, on the store of
    `work_store_write` (server side: Streamlit's AppTest, timed around `run()`)."""
    from streamlit.testing.v1 import AppTest

    os.environ["FLOWDECK_CONFIG"] = str(folder / "flowdeck.toml")
    os.environ["FLOWDECK_DB"] = str(folder / "flowdeck.db")
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=600)
    clock = Clock()
    at.run()
    first = clock.stop()
    if at.exception:
        raise RuntimeError(f"dashboard failed: {at.exception[0].message}")
    clock = Clock()
    at.multiselect(key="filter_types").set_value(["Bug"]).run()
    rerun = clock.stop()
    if at.exception:
        raise RuntimeError(f"dashboard failed after the filter: {at.exception[0].message}")
    return {**first, "rerun_seconds": rerun["seconds"], "rerun_cpu_seconds": rerun["cpu_seconds"]}


WORKS = {
    "import": work_import,
    "metrics": work_metrics,
    "export": work_export,
    "store_write": work_store_write,
    "store_read": work_store_read,
    "dashboard": work_dashboard,
}


def main(argv: list[str]) -> int:
    work, folder = argv[0], Path(argv[1])
    result = WORKS[work](folder)
    result.setdefault("peak_mib", _peak_mib())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
