"""`flowdeck export` end to end: the seven files, their columns, real data, and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from connectors.config import load_config
from connectors.csv_files import read_event_log
from flowdeck.cli import main
from metrics.days import end_of_day
from metrics.export_tables import EXPORT_FILES
from metrics.report import flow_report

SPEC_COLUMNS = {
    "items.csv": [
        "item_id", "title", "type", "stage", "started_at", "done_at", "cycle_time_days",
        "cycle_time_hours", "age_days", "blocked_days", "flow_efficiency",
    ],
    "daily.csv": ["date", "wip", "arrivals", "throughput"],
    "cfd.csv": ["date"],
    "stage_times.csv": ["item_id"],
    "deployments.csv": ["deploy_id", "deployed_at", "environment", "status", "batch_size"],
    "summary.csv": ["metric", "value"],
    "actionable_agile.csv": ["ID", "Link", "Name"],
}  # fmt: skip
SUMMARY_METRICS = {
    "cycle_time_p50", "cycle_time_p85", "cycle_time_p95", "throughput_per_week", "wip_avg",
    "items_in_progress", "deploy_frequency_per_week", "batch_size_avg", "change_failure_rate",
}  # fmt: skip


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def check_files(folder: Path, stage_names: list[str]) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPORT_FILES)
    for name, prefix in SPEC_COLUMNS.items():
        columns = list(read(folder, name).columns)
        assert columns[: len(prefix)] == prefix, name
    assert list(read(folder, "daily.csv").columns)[4:] == stage_names
    assert list(read(folder, "cfd.csv").columns)[1:] == stage_names
    assert list(read(folder, "stage_times.csv").columns)[1:] == stage_names
    assert list(read(folder, "actionable_agile.csv").columns) == [
        "ID", "Link", "Name", *stage_names, "Type", "Blocked Days",
    ]  # fmt: skip
    assert set(read(folder, "summary.csv")["metric"]) >= SUMMARY_METRICS
    items = read(folder, "items.csv")
    done = items.loc[items["done_at"] != "", "done_at"]
    assert done.str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()


def test_export_demo(tmp_path, capsys):
    from connectors.demo import demo_config

    code, out, err = run(["export", "--demo", "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    check_files(tmp_path / "r", demo_config().workflow.stage_names)
    assert "Cycle time      p50" in out and "Throughput" in out and "WIP now" in out
    titles = read(tmp_path / "r", "items.csv")["title"]
    assert titles.str.startswith("'=HYPERLINK").any()
    assert not titles.str.startswith(("=", "+", "-", "@")).any()


def test_export_real_data_and_invariants(real_set, tmp_path, capsys):
    config = real_set / "flowdeck.toml"
    out = tmp_path / "r"
    args = ["export", "--config", str(config), "--events", str(real_set / "events.csv")]
    code, _, err = run([*args, "--out", str(out)], capsys)
    assert code == 0, err
    workflow = load_config(config).workflow
    check_files(out, workflow.stage_names)
    daily = read(out, "daily.csv").set_index("date").astype(int)
    cfd = read(out, "cfd.csv").set_index("date").astype(int)
    assert cfd["Backlog" if "Backlog" in cfd else cfd.columns[0]].equals(
        daily[workflow.stage_names].sum(axis=1)
    )
    assert cfd[workflow.stage_names[workflow.done]].iloc[-1] == daily["throughput"].sum()
    assert (daily[workflow.stage_names] >= 0).all().all()
    items = read(out, "items.csv")
    ct = pd.to_numeric(items["cycle_time_days"], errors="coerce").dropna()
    assert len(ct) > 50 and (ct >= 1).all()
    data = read_event_log(real_set / "events.csv", workflow.timezone)
    created = (
        data.events.groupby("item_id")["changed_at"].min().dt.tz_convert(workflow.timezone)
    ).dt.strftime("%Y-%m-%d")
    present = created.value_counts().sort_index().cumsum().reindex(daily.index).ffill().fillna(0)
    assert (daily["wip"] <= present).all()


def test_actionable_agile_file_round_trips(tmp_path, capsys):
    from connectors.demo import DEMO_AS_OF, DEMO_WORKFLOW_TOML, demo_config, demo_flow_data

    assert run(["export", "--demo", "--out", str(tmp_path / "a")], capsys)[0] == 0
    config = tmp_path / "flowdeck.toml"
    config.write_text(DEMO_WORKFLOW_TOML)
    as_of = str(DEMO_AS_OF.tz_convert("Europe/London").date())
    args = ["export", "--config", str(config), "--as-of", as_of, "--out", str(tmp_path / "b")]
    args += ["--stage-dates", str(tmp_path / "a" / "actionable_agile.csv")]
    code, _, err = run(args, capsys)
    assert code == 0, err
    first = read(tmp_path / "a", "items.csv").set_index("item_id")
    second = read(tmp_path / "b", "items.csv").set_index("item_id")
    # Items that only ever moved forward keep their stage and cycle time in days.
    report = flow_report(demo_flow_data(), demo_config().workflow, DEMO_AS_OF)
    iv = report.intervals
    back = iv.groupby("item_id")["position"].apply(lambda p: (p.diff() < 0).any())
    forward = back[~back].index
    assert len(forward) > 500
    assert first.loc[forward, "stage"].equals(second.loc[forward, "stage"])
    assert first.loc[forward, "cycle_time_days"].equals(second.loc[forward, "cycle_time_days"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", "{tmp}/missing.csv"], "missing.csv: file not found"),
        (["--events", "{tmp}/empty.csv"], "empty.csv: the file is empty"),
        (
            ["--events", "{tmp}/ok.csv", "--from", "2024-06-05", "--to", "2024-06-01"],
            "--from 2024-06-05 is after --to 2024-06-01",
        ),  # fmt: skip
        (["--events", "{tmp}/ok.csv", "--as-of", "01/06/2024"], "--as-of '01/06/2024': expected"),
        (["--events", "{tmp}/ok.csv", "--config", "{tmp}/bad.toml"], "did you mean 'wip_limit'"),
        (["--events", "{tmp}/nocol.csv"], "missing required column 'status'"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys, args, message):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ok.csv").write_text("item_id,changed_at,status\nA,2024-06-01,Dev\n")
    (tmp_path / "nocol.csv").write_text("item_id,changed_at\nA,2024-06-01\n")
    (tmp_path / "bad.toml").write_text(
        '[workflow]\nwip_limt = 2\n[[workflow.stages]]\nname = "Dev"\n'
        '[[workflow.stages]]\nname = "Done"\n'
    )
    (tmp_path / "flowdeck.toml").write_text(
        '[workflow]\n[[workflow.stages]]\nname = "Dev"\n[[workflow.stages]]\nname = "Done"\n'
    )
    filled = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--config" not in filled:
        filled += ["--config", str(tmp_path / "flowdeck.toml")]
    code, out, err = run(["export", "--out", str(tmp_path / "out"), *filled], capsys)
    assert code == 1
    assert message in err and err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_console_script_exit_code_and_debug(tmp_path):
    exe = Path(sys.executable).with_name("flowdeck")
    missing = str(tmp_path / "nope.csv")
    plain = subprocess.run(
        [exe, "export", "--demo", "--events", missing, "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert plain.returncode == 1 and "--demo uses the built-in data" in plain.stderr
    bad = subprocess.run(
        [exe, "export", "--config", str(tmp_path / "x.toml"), "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "x.toml: workflow file not found" in bad.stderr
    debug = subprocess.run(
        [exe, "--debug", "export", "--config", str(tmp_path / "x.toml"), "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_help_on_every_command(capsys):
    for command in (["--help"], ["export", "--help"], ["init", "--help"]):
        code, out, _ = run(command, capsys)
        assert code == 0 and "Usage:" in out


def test_as_of_replays_the_past(tmp_path, capsys):
    code, _, err = run(
        ["export", "--demo", "--as-of", "2025-06-30", "--out", str(tmp_path / "r")], capsys
    )
    assert code == 0, err
    daily = read(tmp_path / "r", "daily.csv")
    assert daily["date"].iloc[-1] == "2025-06-30"
    items = read(tmp_path / "r", "items.csv")
    assert (items["done_at"].replace("", None).dropna() <= "2025-06-30T23:59:59Z").all()
    assert end_of_day("2025-06-30", "Europe/London") < pd.Timestamp("2025-06-30 23:00", tz="UTC")


def test_export_reads_the_store_when_no_csv_is_given(real_set, tmp_path, capsys, monkeypatch):
    """`flowdeck import` then `flowdeck export` gives the numbers of the direct CSV export."""
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copy(real_set / "flowdeck.toml", tmp_path / "flowdeck.toml")
    events = str(real_set / "events.csv")
    assert run(["import", events, "--source", "real"], capsys)[0] == 0
    assert (tmp_path / ".flowdeck" / "flowdeck.db").is_file()
    day = ["--as-of", "2026-09-01"]
    assert run(["export", *day, "--out", "from-store"], capsys)[0] == 0
    assert run(["export", *day, "--events", events, "--out", "from-csv"], capsys)[0] == 0
    store_summary = read(tmp_path / "from-store", "summary.csv")
    csv_summary = read(tmp_path / "from-csv", "summary.csv")
    pd.testing.assert_frame_equal(store_summary, csv_summary)
    store_items = read(tmp_path / "from-store", "items.csv")
    assert store_items["item_id"].str.startswith("csv:real:").all()
    csv_items = read(tmp_path / "from-csv", "items.csv")
    assert len(store_items) == len(csv_items)


def test_export_without_data_says_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flowdeck.toml").write_text(
        '[workflow]\n[[workflow.stages]]\nname = "Dev"\n[[workflow.stages]]\nname = "Done"\n'
    )
    code, _, err = run(["export", "--out", "r"], capsys)
    assert code == 1 and "flowdeck import" in err and "--demo" in err
