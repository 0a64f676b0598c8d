"""The Forecast page and the Board's done-by dates under Streamlit's AppTest, on the demo: the
numbers on screen equal those of `metrics.forecast` (and so of `flowdeck forecast`)."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data
from metrics import forecast as fc
from metrics.days import local_day
from metrics.report import flow_report
from tests.test_dashboard_app import demo_env, metric, run_page, store_env  # noqa: F401 (fixtures)

PAGE = "app_pages/forecast.py"
DAY = local_day(DEMO_AS_OF, demo_config().workflow.timezone)


def demo_sample(window_days=fc.DEFAULT_WINDOW_DAYS, types=()):
    workflow = demo_config().workflow
    report = flow_report(demo_flow_data(), workflow, DEMO_AS_OF)
    return report, fc.throughput_sample(
        report.items, workflow.timezone, DEMO_AS_OF, window_days, types
    )


def texts(at) -> list[str]:
    return [m.value.replace("\\", "") for m in at.markdown]


@pytest.mark.usefixtures("demo_env")
def test_forecast_page_answers_equal_the_metrics():
    at = run_page(PAGE)
    at.date_input(key="forecast_as_of").set_value(DAY.date())
    at.number_input(key="forecast_window").set_value(60)
    at.selectbox(key="forecast_trials").set_value(1_000)
    at.number_input(key="forecast_seed").set_value(3)
    by = DAY + pd.Timedelta(days=21)
    at.date_input(key="forecast_by").set_value(by.date())
    at.number_input(key="forecast_when").set_value(25)
    at.run()
    assert not at.exception, [e.value for e in at.exception]

    report, sample = demo_sample(60)
    many = fc.how_many_by(sample, DAY, by, 1_000, 3)
    when = fc.when_done(sample, DAY, 25, 1_000, 3)
    for c in fc.CONFIDENCES:
        assert metric(at, f"{c}% chance of") == f"{many[c]} or more"
        assert metric(at, f"{c}% chance by") == f"{when.loc[c, 'date']:%d %b %Y}"
    shown = texts(at)
    assert f"**{fc.how_many_sentence(many, by, DAY)}**" in shown
    assert f"**{fc.when_sentence(when, 25, DAY)}**" in shown
    spreads = [
        c.value for c in at.caption if c.value.startswith("The 85% answer with seeds 3 to 7")
    ]
    assert len(spreads) == 1 and spreads[0].count(",") == 4

    plan = pd.DataFrame({"feature": ["First feature", "Second feature"], "remaining": [8, 12]})
    features = fc.features_forecast(sample, DAY, plan, 1_000, 3)
    for _, row in features.iterrows():
        assert f"- {fc.feature_sentence(row, DAY)}" in shown

    tested = fc.backtest(
        demo_flow_data().events, report.items["type"], demo_config().workflow, DEMO_AS_OF, 60,
        (), 1_000, 3,
    )  # fmt: skip
    assert f"**{fc.backtest_sentence(tested)}**" in shown
    hits, scored = fc.hit_rate(tested)
    assert bool(at.warning) == (hits / scored < fc.CALIBRATED_HIT_RATE)
    assert len(at.get("plotly_chart")) == 4  # how many, when, features, backtest


@pytest.mark.usefixtures("demo_env")
def test_forecast_page_types_and_degenerate_questions():
    at = run_page(PAGE)
    at.date_input(key="forecast_as_of").set_value(DAY.date())
    at.multiselect(key="forecast_types").set_value(["Bug"])
    at.date_input(key="forecast_by").set_value(DAY.date())  # not after the as-of day
    at.number_input(key="forecast_when").set_value(0)
    at.toggle(key="forecast_backtest").set_value(False)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "85% chance of") == "0 or more"
    assert metric(at, "85% chance by") == f"{DAY:%d %b %Y}"
    shown = texts(at)
    assert any("not after the as-of day" in t for t in shown)
    assert any(t.startswith("**Nothing left to do") for t in shown)
    _, bugs = demo_sample(types=("Bug",))
    assert any(f"From **{int(bugs.sum())} items**" in t for t in shown)


@pytest.mark.usefixtures("demo_env")
def test_forecast_page_without_delivery_in_the_window_says_to_widen_it():
    report, sample = demo_sample()
    quiet = sample[sample == 0].index
    if quiet.empty:
        pytest.skip("every demo day of the window had a delivery")
    at = run_page(PAGE)
    at.date_input(key="forecast_as_of").set_value(quiet[-1].date())
    at.number_input(key="forecast_window").set_value(1)
    at.run()
    assert not at.exception
    assert any("widen the window" in i.value for i in at.info)
    assert not at.metric


@pytest.mark.usefixtures("demo_env")
def test_board_cards_show_their_likely_done_by_date():
    at = run_page()
    report = flow_report(demo_flow_data(), demo_config().workflow, DEMO_AS_OF)
    wip = report.items[report.items["in_progress"]]
    cards = [m.value for m in at.markdown]  # a card's last line says when
    dated = wip["likely_done_by_85"].dropna()
    assert len(dated)
    assert any(f"likely done by {d:%d %b}" in c for d in dated for c in cards)
    if wip["likely_done_by_85"].isna().any():
        assert any("older than anything delivered" in c for c in cards)


@pytest.mark.usefixtures("store_env")
def test_forecast_page_on_an_empty_store_says_what_to_do():
    at = run_page(PAGE)
    assert not at.error and not at.get("plotly_chart")
    assert any("nothing to forecast from" in i.value for i in at.info)


def test_page_and_command_line_agree_on_the_real_boards(real_set, tmp_path, monkeypatch, capsys):
    """The same board, as-of day and settings on the page (store) and in `flowdeck forecast`
    (CSV files): the same answers and the same backtest."""
    import shutil

    from flowdeck.cli import main

    last = {"jira-cloud-prj": "2020-08-26", "asos-search-board": "2026-08-19"}[real_set.name]
    day = pd.Timestamp(last)
    by = day + pd.Timedelta(days=28)
    monkeypatch.chdir(tmp_path)
    shutil.copy(real_set / "flowdeck.toml", tmp_path / "flowdeck.toml")
    assert main(["import", str(real_set / "events.csv"), "--source", "real"]) == 0
    common = ["forecast", "--events", str(real_set / "events.csv"), "--as-of", last]
    common += ["--trials", "1000", "--seed", "2", "--window-days", "56"]
    assert main([*common, "--how-many-by", f"{by:%Y-%m-%d}", "--when", "50", "--csv", "a.csv"]) == 0
    assert main([*common, "--backtest", "--csv", "b.csv"]) == 0
    out = capsys.readouterr().out
    answers = pd.read_csv("a.csv", dtype=str, keep_default_na=False)
    values = {(q, int(c)): v for q, c, v in answers.itertuples(index=False)}

    monkeypatch.setenv("FLOWDECK_CONFIG", str(tmp_path / "flowdeck.toml"))
    monkeypatch.setenv("FLOWDECK_DB", str(tmp_path / ".flowdeck" / "flowdeck.db"))
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    at = run_page(PAGE)
    at.date_input(key="forecast_as_of").set_value(day.date())
    at.number_input(key="forecast_window").set_value(56)
    at.selectbox(key="forecast_trials").set_value(1_000)
    at.number_input(key="forecast_seed").set_value(2)
    at.date_input(key="forecast_by").set_value(by.date())
    at.number_input(key="forecast_when").set_value(50)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for c in fc.CONFIDENCES:
        assert (
            metric(at, f"{c}% chance of") == f"{values[(f'how_many_by:{by:%Y-%m-%d}', c)]} or more"
        )
        date = pd.Timestamp(values[("when:50", c)])
        assert metric(at, f"{c}% chance by") == f"{date:%d %b %Y}"
    sentence = next(t for t in texts(at) if "forecasts came true" in t).strip("*")
    assert sentence in out
