"""A small run of the benchmark code (so it cannot rot) and its correctness guard: the generated
data must satisfy the metric invariants, and a wrong answer must be caught. No timing asserts."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench import worker
from bench.checks import CheckFailed, check_report
from bench.generate import AS_OF_DAY, generated_event_log
from bench.sizes import Results, growth, markdown, median_run, prepare, target_verdicts
from connectors.config import load_config
from connectors.csv_files import read_event_log
from metrics.days import end_of_day
from metrics.report import flow_report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench") / "items-2000"
    prepare(folder, 2_000)
    return folder


def test_generated_log_has_the_realistic_shape():
    log = generated_event_log(3_000)
    assert log.equals(generated_event_log(3_000))  # seeded
    per_item = len(log) / log["item_id"].nunique()
    assert 5 <= per_item <= 7.5
    assert set(log["event"]) == {"status", "blocked", "unblocked"}
    times = pd.to_datetime(log["changed_at"], utc=True)
    assert times.is_monotonic_increasing
    assert (times.max() - times.min()).days > 3 * 365
    assert times.max() <= end_of_day(AS_OF_DAY, "Europe/Berlin")
    # Blocked spells sit in an item's own in-progress time (its first In Progress before them).
    started = times[log["status"].eq("In Progress")].groupby(log["item_id"]).min()
    blocked = log["event"].eq("blocked")
    assert (times[blocked].to_numpy() >= started.reindex(log["item_id"][blocked]).to_numpy()).all()
    # Rework: some item enters In Progress twice.
    again = log[log["status"].eq("In Progress")].groupby("item_id").size()
    assert (again > 1).any()


def test_generated_data_satisfies_the_invariants(folder):
    config = load_config(folder / "flowdeck.toml")
    data = read_event_log(folder / "events.csv", config.workflow.timezone)
    as_of = end_of_day(AS_OF_DAY, config.workflow.timezone)
    report = flow_report(data, config.workflow, as_of)
    log = pd.read_csv(folder / "events.csv", dtype=str, keep_default_na=False)
    check_report(report, log, config.workflow)
    in_progress = int(report.items["in_progress"].sum())
    assert 20 <= in_progress <= 200  # the open recent items of a 2,000-item portfolio
    assert report.items["blocked_days"].gt(0).any()


def test_a_wrong_answer_is_caught(folder):
    config = load_config(folder / "flowdeck.toml")
    data = read_event_log(folder / "events.csv", config.workflow.timezone)
    report = flow_report(data, config.workflow, end_of_day(AS_OF_DAY, config.workflow.timezone))
    log = pd.read_csv(folder / "events.csv", dtype=str, keep_default_na=False)
    items = report.items.copy()
    first_open = items.index[items["in_progress"]][0]
    items.loc[first_open, "in_progress"] = False  # one open item lost
    with pytest.raises(CheckFailed, match="in progress"):
        check_report(dataclasses.replace(report, items=items), log, config.workflow)
    daily = report.daily.copy()
    daily.iloc[-1, daily.columns.get_loc("throughput")] += 1
    with pytest.raises(CheckFailed, match="throughput"):
        check_report(dataclasses.replace(report, daily=daily), log, config.workflow)


def test_every_work_of_the_benchmark_runs(folder):
    results = Results(sizes=(2_000,), rows={2_000: 1})
    imported = worker.work_import(folder)
    assert imported["items"] == 2_000 and imported["seconds"] > 0
    metrics = worker.work_metrics(folder)
    assert metrics["checked"] and metrics["cpu_seconds"] > 0
    assert {"intervals", "item facts", "forecast questions"} <= set(metrics["parts"])
    written = worker.work_store_write(folder)
    read = worker.work_store_read(folder)
    assert read["rows"] == imported["rows"] and written["mib"] > 0
    for name, out in (("import", imported), ("metrics", metrics), ("store_read", read)):
        results.measured[(name, 2_000)] = {**out, "peak_mib": 1.0}
    text = markdown(results)
    assert "| all metrics from loaded frames |" in text and "2,000 items" in text
    assert target_verdicts(results) == []  # no 100k / 1M sizes: nothing to decide
    assert growth(1.0, 10.0, 1_000, 10_000) == pytest.approx(1.0)


def test_repeated_runs_report_their_median_and_range():
    outs = [{"seconds": s, "peak_mib": m} for s, m in ((3.0, 30.0), (1.0, 10.0), (2.0, 20.0))]
    middle = median_run(outs)
    assert middle == {"seconds": 2.0, "peak_mib": 20.0, "runs": [1.0, 2.0, 3.0]}
    assert median_run(outs[:2])["seconds"] == 1.0  # the lower middle of an even count
    assert "runs" not in median_run(outs[:1])
    results = Results(sizes=(2_000,), rows={2_000: 1}, measured={("metrics", 2_000): middle})
    text = markdown(results)
    assert "ran 3 times" in text and "2.00 s, 20 MiB, median of 3: 1.00-3.00 s" in text


def test_export_process_imports_no_dashboard_or_scipy(tmp_path):
    """The CLI path stays light: plotly, streamlit and scipy cost seconds to import."""
    script = (
        "import sys\n"
        "from flowdeck.cli import main\n"
        f"code = main(['export', '--demo', '--out', {str(tmp_path / 'out')!r}])\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "heavy = sorted(top & {'plotly', 'streamlit', 'scipy'})\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []"
