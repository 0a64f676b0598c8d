"""`flowdeck forecast` end to end: the questions, the CSV, agreement with the metrics, real
boards, and bad input as one line."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data
from flowdeck.cli import main
from metrics import forecast as fc
from metrics.days import local_day
from metrics.report import flow_report


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_answers_match_the_metrics_and_the_csv(tmp_path, capsys):
    plan = tmp_path / "plan.csv"
    plan.write_text("Feature,Remaining\nCheckout,12\n=Search,8\n", encoding="utf-8")
    out_csv = tmp_path / "answers.csv"
    args = ["forecast", "--demo", "--how-many-by", "2026-08-01", "--when", "40"]
    args += ["--features", str(plan), "--trials", "3000", "--seed", "7", "--csv", str(out_csv)]
    code, out, err = run(args, capsys)
    assert code == 0, err

    workflow = demo_config().workflow
    report = flow_report(demo_flow_data(), workflow, DEMO_AS_OF)
    day = local_day(DEMO_AS_OF, workflow.timezone)
    sample = fc.throughput_sample(report.items, workflow.timezone, DEMO_AS_OF)
    many = fc.how_many_by(sample, day, pd.Timestamp("2026-08-01"), 3000, 7)
    when = fc.when_done(sample, day, 40, 3000, 7)
    assert f"85% chance of {many[85]} or more items by 1 August." in out
    when_85 = fc.spoken_date(when.loc[85, "date"], day)
    assert f"85% chance that 40 items are done by {when_85}." in out
    assert "85% chance that =Search is done by" in out

    table = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert table.columns.tolist() == ["question", "confidence", "value"]
    rows = {(q, int(c)): v for q, c, v in table.itertuples(index=False)}
    assert [rows[("how_many_by:2026-08-01", c)] for c in fc.CONFIDENCES] == [str(v) for v in many]
    assert [rows[("when:40", c)] for c in fc.CONFIDENCES] == [f"{d:%Y-%m-%d}" for d in when["date"]]
    # The question cell starts with "feature:", so a feature named like a formula stays inert.
    assert ("feature:=Search", 85) in rows and ("feature:Checkout", 50) in rows
    features = fc.features_forecast(
        sample, day, pd.DataFrame({"feature": ["Checkout", "S"], "remaining": [12, 8]}), 3000, 7
    )
    assert rows[("feature:Checkout", 95)] == f"{features.loc[0, 'p95']:%Y-%m-%d}"

    again = run(args, capsys)[1]
    assert again == out  # seeded: the same data and flags give the same forecast


def test_backtest_on_the_real_boards(real_set, tmp_path, capsys):
    last_day = {"jira-cloud-prj": "2020-08-26", "asos-search-board": "2026-08-19"}[real_set.name]
    out_csv = tmp_path / "backtest.csv"
    code, out, err = run(
        [
            "forecast", "--config", str(real_set / "flowdeck.toml"),
            "--events", str(real_set / "events.csv"), "--as-of", last_day,
            "--backtest", "--trials", "2000", "--csv", str(out_csv),
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert table.columns.tolist() == ["as_of", "forecast_85", "actual", "hit"]
    assert len(table) == 26
    scored = table[table["forecast_85"] != ""]
    assert len(scored) >= 10
    hits = int((scored["hit"] == "yes").sum())
    assert (scored["hit"] == "yes").equals(
        scored["actual"].astype(int) >= scored["forecast_85"].astype(int)
    )
    assert f"Our 85% forecasts came true {hits} of {len(scored)} times." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to forecast: ask with --how-many-by"),
        (["--when", "x"], "--when 'x': expected a whole number >= 0"),
        (["--when", "-3"], "--when '-3': expected a whole number >= 0"),
        (["--when", "3", "--trials", "0"], "--trials '0': expected a whole number >= 1"),
        (["--when", "3", "--window-days", "0"], "--window-days '0'"),
        (["--how-many-by", "soon"], "--how-many-by 'soon': expected a date as YYYY-MM-DD"),
        (["--when", "3", "--type", "Epic"], "--type 'Epic': no item has this type"),
        (["--features", "{tmp}/missing.csv"], "missing.csv: file not found"),
        (["--features", "{tmp}/bad.csv"], "bad.csv: line 3 (B): remaining 'two'"),
        (["--features", "{tmp}/nocol.csv"], "nocol.csv: missing column 'remaining'"),
        (["--when", "3", "--as-of", "2030-01-01"], "widen the window (--window-days)"),
        (["--when", "3", "--trials", "2000000"], "--trials 2000000: expected a whole number"),
        (["--how-many-by", "2040-01-01"], "more than 3,650 days after the as-of day"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys, args, message):
    (tmp_path / "bad.csv").write_text("feature,remaining\nA,3\nB,two\n")
    (tmp_path / "nocol.csv").write_text("feature\nA\n")
    filled = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out_csv = tmp_path / "out.csv"
    code, out, err = run(["forecast", "--demo", *filled, "--csv", str(out_csv)], capsys)
    assert code == 1
    assert message in err and err.startswith("error: ") and err.count("\n") == 1, err
    assert not out_csv.exists()
