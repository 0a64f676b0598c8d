"""The dashboard's pages under Streamlit's AppTest, on the demo data, on an empty store and on a
store filled by a real sync of a CSV source: no exception, the key elements present, and the
numbers on screen equal to what `metrics/` computes for the same inputs."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from connectors.config import load_config
from connectors.demo import (
    DEMO_AS_OF,
    DEMO_LAST_DAY,
    DEMO_START,
    DEMO_TIMEZONE,
    DEMO_WORKFLOW_TOML,
    demo_config,
    demo_flow_data,
)
from connectors.store import open_store
from dashboard.board import board_columns, short_id
from dashboard.filters import Filters, filter_flow_data
from dashboard.safe_text import escape_markdown
from dashboard.sync_runner import SyncRunner
from dashboard.tables import csv_bytes
from metrics.days import end_of_day, local_days
from metrics.quality import data_quality, mass_moves
from metrics.report import flow_report

streamlit_testing = pytest.importorskip("streamlit.testing.v1")
AppTest = streamlit_testing.AppTest

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
PAGES = ["app_pages/board.py", "app_pages/flow.py", "app_pages/cycle_time.py",
         "app_pages/delivery.py", "app_pages/data.py"]  # fmt: skip
# Deadlines per wait, generous for a loaded machine three times slower than a quiet one.
TIMEOUT = 60  # s, for one AppTest run of a page
SYNC_WAIT = 90  # s, for a background sync of the demo CSV source to finish
HOSTILE = "<script>alert('board')</script> in the search box"


# ---- a CSV source holding the demo world (shared with the browser test) -------------------


def team_today(timezone: str = "Europe/London") -> dt.date:
    return pd.Timestamp.now(tz=timezone).date()


def write_team_files(folder: Path, today: dt.date | None = None) -> Path:
    """The demo world as a `csv` source, moved by whole weeks (weekdays stay weekdays) so that
    its last day falls in the week before `today`. Returns the workflow file's path."""
    today = today or team_today()
    data = demo_flow_data()
    shift = pd.Timedelta(days=((pd.Timestamp(today) - DEMO_LAST_DAY).days // 7) * 7)
    attrs = data.items.set_index("item_id")[["title", "type", "labels", "url"]]
    events = data.events.join(attrs, on="item_id")
    events = events.assign(
        changed_at=(events["changed_at"] + shift).map(
            lambda t: t.isoformat().replace("+00:00", "Z")
        )
    )
    cols = ["item_id", "changed_at", "event", "status", "title", "type", "labels", "url"]
    # Plain pandas, not the formula-escaping writer: the hostile titles must arrive as typed.
    events[cols].to_csv(folder / "events.csv", index=False)
    deploys = data.deployments.assign(
        deployed_at=(data.deployments["deployed_at"] + shift).map(
            lambda t: t.isoformat().replace("+00:00", "Z")
        )
    )
    deploys[["deploy_id", "deployed_at", "environment", "status", "version"]].to_csv(
        folder / "deployments.csv", index=False
    )
    config = folder / "flowdeck.toml"
    config.write_text(
        DEMO_WORKFLOW_TOML
        + '\n[[sources]]\nname = "team"\nkind = "csv"\nevents = "events.csv"\n'
        + 'deployments = "deployments.csv"\n',
        encoding="utf-8",
    )
    return config


# ---- helpers ------------------------------------------------------------------------------


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    """No workflow file, no store: the demo."""
    monkeypatch.chdir(tmp_path)
    for name in ("FLOWDECK_CONFIG", "FLOWDECK_DB", "FLOWDECK_SYNC_EVERY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def store_env(monkeypatch, tmp_path):
    """A workflow file with a CSV source, and an empty store beside it."""
    monkeypatch.chdir(tmp_path)
    config = write_team_files(tmp_path)
    db = tmp_path / ".flowdeck" / "flowdeck.db"
    db.parent.mkdir()
    open_store(db, create=True).close()
    monkeypatch.setenv("FLOWDECK_CONFIG", str(config))
    monkeypatch.setenv("FLOWDECK_DB", str(db))
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    return config, db


@pytest.fixture
def store_env_any(monkeypatch, tmp_path, db):
    """The same on each engine: an SQLite file or a PostgreSQL URL in FLOWDECK_DB."""
    monkeypatch.chdir(tmp_path)
    config = write_team_files(tmp_path)
    open_store(db, create=True).close()
    monkeypatch.setenv("FLOWDECK_CONFIG", str(config))
    monkeypatch.setenv("FLOWDECK_DB", db)
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    return config, db


def run_page(page: str | None = None, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if page is None:
        at.run()
    else:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def demo_report(filters: Filters | None = None, as_of=DEMO_AS_OF):
    filters = filters or Filters()
    cfg = demo_config()
    data = filter_flow_data(demo_flow_data(), filters)
    last = pd.Timestamp(as_of.tz_convert(cfg.workflow.timezone).date())
    first = last - pd.Timedelta(days=89)
    return cfg, flow_report(data, cfg.workflow, as_of, first, last)


# ---- the demo -----------------------------------------------------------------------------


def test_board_on_demo_shows_the_metrics_numbers(demo_env):
    at = run_page()
    assert any("Demo data" in i.value for i in at.info)
    cfg, report = demo_report()
    wip = report.items[report.items["in_progress"]]
    assert metric(at, "Items in progress") == str(len(wip))
    assert metric(at, "SLE (p85 cycle time)") == f"{report.percentiles[85]:.1f} days"
    assert metric(at, "Blocked now") == str(int(wip["blocked_now"].sum()))
    assert metric(at, "Older than the SLE") == f"{summary_value(report, 'items_over_sle'):.0f}"
    headings = [unescape(t)[5:] for t in markdown_texts(at) if t.startswith("#### ")]
    expected = [c.heading for c in board_columns(report, cfg.workflow)]
    assert headings == expected
    # Every in-progress stage has a column whose count is the stage's WIP from metrics/.
    for stage in cfg.workflow.in_progress_names:
        count = int((wip["stage"] == stage).sum())
        assert any(h.startswith(f"{stage} {count}") for h in headings), (stage, headings)
    assert [p.proto.spec for p in at.get("plotly_chart")], "the aging WIP chart is missing"


def test_board_replay_shows_a_past_day_and_hostile_titles_as_text(demo_env):
    cfg, report = demo_report()
    items = report.items
    hostile = items[items["title"] == HOSTILE].iloc[0]
    day = (hostile["started_at"] + (hostile["done_at"] - hostile["started_at"]) / 2).tz_convert(
        cfg.workflow.timezone
    )
    at = run_page()
    at.date_input(key="board_as_of").set_value(day.date()).run()
    assert not at.exception
    moment = end_of_day(day.date(), cfg.workflow.timezone)
    _, past = demo_report(as_of=moment)
    past_wip = past.items[past.items["in_progress"]]
    assert metric(at, "Items in progress") == str(len(past_wip))
    texts = markdown_texts(at)
    # Unmistakable: an amber banner names the day, and the sidebar's "data as of" follows it.
    assert any(f"Replaying {day:%a %d %b %Y}" in w.value for w in at.warning)
    assert any(f"Data as of {day:%a %d %b %Y}" in t for t in texts)
    # The title went into markdown escaped: shown literally, never parsed as HTML.
    shown = [t for t in texts if "script" in t]
    assert shown and all("\\<script\\>" in t for t in shown), shown
    assert any(f"\n{escape_markdown(HOSTILE)}  \n" in t for t in texts)
    # The limit a stage had that day (In Progress was 8 before the kaizen change, now 4).
    headings = [unescape(t)[5:] for t in texts if t.startswith("#### ")]
    in_progress = int((past_wip["stage"] == "In Progress").sum())
    assert f"In Progress {in_progress}\xa0/\xa08" in headings


def test_formula_titles_stay_text_on_the_board_and_in_its_csv(demo_env):
    cfg, report = demo_report()
    items = report.items
    formula = items[items["title"].str.startswith("=HYPERLINK")].iloc[0]
    middle = formula["started_at"] + (formula["done_at"] - formula["started_at"]) / 2
    day = middle.tz_convert(cfg.workflow.timezone).date()
    at = run_page()
    at.date_input(key="board_as_of").set_value(day).run()
    assert not at.exception
    title = formula["title"]
    assert any(f"\n{escape_markdown(title)}  \n" in t for t in markdown_texts(at))
    download = at.get("download_button")
    assert download, "the items table has no download button"
    table = at.get("dataframe")[-1].value
    assert title in table["title"].tolist()  # on screen as typed
    text = csv_bytes(table).decode("utf-8")
    assert "'=HYPERLINK(" in text and ',"=HYPERLINK(' not in text


def test_sidebar_filter_changes_every_number(demo_env):
    at = run_page()
    at.multiselect(key="filter_types").set_value(["Bug"]).run()
    assert not at.exception
    cfg, report = demo_report(Filters(types=("Bug",)))
    wip = report.items[report.items["in_progress"]]
    assert metric(at, "Items in progress") == str(len(wip))
    headings = [unescape(t)[5:] for t in markdown_texts(at) if t.startswith("#### ")]
    assert headings == [c.heading for c in board_columns(report, cfg.workflow)]


def test_board_auto_refresh_redraws_in_a_fragment(demo_env):
    at = run_page()
    before = markdown_texts(at)
    at.selectbox(key="board_refresh").set_value("every minute").run()
    assert not at.exception
    assert markdown_texts(at) == before  # the same board, now inside a refreshing fragment


def test_board_attention_first_compact_with_the_sle_stated_once(demo_env):
    at = run_page()
    cfg, report = demo_report()
    texts = markdown_texts(at)
    first_heading = next(i for i, t in enumerate(texts) if t.startswith("#### "))
    attention = next(i for i, t in enumerate(texts) if "Attention" in t and "SLE is" in t)
    assert attention < first_heading  # above the board, not two screens down
    sle = report.percentiles[85]
    assert f"the SLE is **{sle:.1f} days**" in texts[attention]
    lines = texts[attention + 1].splitlines()
    # Short ids and titles; the SLE is not repeated on every line.
    late = report.items[report.items["in_progress"] & (report.items["age_days"] > sle)]
    assert len(late), "the demo's last day has an item beyond the SLE"
    oldest = late.sort_values("age_days").index[-1]
    assert any(escape_markdown(short_id(oldest)) in line for line in lines), lines
    assert not any("csv:" in line or "SLE is" in line for line in lines), lines
    # The ready column: sorted by days in the column, its first card marked as the one to pull.
    ready = next(t for t in texts if "oldest: pull next" in t)
    assert "here" in ready
    # The total tile: the workflow's total limit, said to be one.
    assert metric(at, "Total WIP limit") == "16"


def test_board_sle_ignores_the_sidebar_range(demo_env):
    at = run_page()
    before = metric(at, "SLE (p85 cycle time)")
    at.date_input(key="filter_range").set_value((DEMO_START.date(), DEMO_LAST_DAY.date())).run()
    assert not at.exception
    # The charts' range changed, the board's SLE did not: the 90 days before the day shown.
    assert metric(at, "SLE (p85 cycle time)") == before
    run_page("app_pages/cycle_time.py", at)
    assert metric(at, "p85 (SLE)") != before  # the Cycle time page does follow the range


def test_a_replay_survives_moving_to_flow_and_cycle_time(demo_env):
    at = run_page()
    day = (DEMO_LAST_DAY - pd.Timedelta(days=40)).date()
    at.date_input(key="board_as_of").set_value(day).run()
    cfg, past = demo_report(as_of=end_of_day(day, DEMO_TIMEZONE))
    for page in ("app_pages/flow.py", "app_pages/cycle_time.py"):
        run_page(page, at)
        assert any(f"Replaying {day:%a %d %b %Y}" in w.value for w in at.warning), page
        assert any(f"Data as of {day:%a %d %b %Y}" in t for t in markdown_texts(at)), page
    run_page("app_pages/board.py", at)
    assert at.date_input(key="board_as_of").value == day
    wip = past.items[past.items["in_progress"]]
    assert metric(at, "Items in progress") == str(len(wip))
    at.date_input(key="board_as_of").set_value(None).run()
    run_page("app_pages/flow.py", at)
    assert not any("Replaying" in w.value for w in at.warning)


def test_stale_real_board_says_so_and_does_not_inflate_ages(monkeypatch, tmp_path, shared_dir):
    from connectors.sync import import_file

    real = shared_dir / "data" / "real" / "jira-cloud-prj"
    monkeypatch.chdir(tmp_path)
    config = load_config(real / "flowdeck.toml")
    db = tmp_path / "store.db"
    import_file(db, real / "events.csv", "real", config)
    monkeypatch.setenv("FLOWDECK_CONFIG", str(real / "flowdeck.toml"))
    monkeypatch.setenv("FLOWDECK_DB", str(db))
    at = run_page()
    with open_store(db, create=False) as store:
        data = store.read_flow_data()
    tz = config.workflow.timezone
    last = local_days(data.events["changed_at"], tz).max().date()
    today = team_today(tz)
    gap = (today - last).days
    assert gap > 3, "the real export is old: this test needs stale data"
    warning = [w.value for w in at.warning if "The data ends on" in w.value]
    assert warning and f"The data ends on {last:%a %d %b %Y}, {gap} days ago" in warning[0]
    shown = flow_report(data, config.workflow, end_of_day(last, tz))
    now = flow_report(data, config.workflow, end_of_day(today, tz))

    def late(report) -> int:
        wip = report.items[report.items["in_progress"]]
        return int((wip["age_days"] > report.percentiles[85]).sum())

    # The board as of the data's last day: its SLE, its ages, its late items.
    assert metric(at, "SLE (p85 cycle time)") == f"{shown.percentiles[85]:.1f} days"
    assert metric(at, "Older than the SLE") == str(late(shown))
    oldest = int(shown.items.loc[shown.items["in_progress"], "age_days"].max())
    assert any(f"· {oldest} days old" in t for t in markdown_texts(at))
    # Counted to today, every age would have grown by the days nobody synced.
    assert int(now.items.loc[now.items["in_progress"], "age_days"].max()) == oldest + gap
    # Asking for today explicitly shows today, still warned.
    at.date_input(key="board_as_of").set_value(today).run()
    assert any(f"· {oldest + gap} days old" in t for t in markdown_texts(at))
    assert any("ages count those" in w.value for w in at.warning)
    # The workflow file names no source, the store holds the imported one: the Data page
    # never says "No sources" above the table of them.
    run_page("app_pages/data.py", at)
    assert not any("No sources in" in i.value for i in at.info)
    assert any("loaded with `flowdeck import`" in i.value for i in at.info)
    # The quality findings link from the charts they distort (an unmapped status here).
    run_page("app_pages/cycle_time.py", at)
    assert any(c.value.startswith("Data quality:") for c in at.caption)


def summary_value(report, name: str) -> float:
    return float(report.summary.set_index("metric").loc[name, "value"])


def test_flow_page_on_demo(demo_env):
    at = run_page(PAGES[1])
    _, report = demo_report()
    assert metric(at, "Average WIP") == f"{summary_value(report, 'wip_avg'):.1f}"
    assert (
        metric(at, "Throughput per week") == f"{summary_value(report, 'throughput_per_week'):.1f}"
    )
    assert (
        metric(at, "Delivered in range")
        == f"{summary_value(report, 'items_delivered_in_range'):.0f}"
    )
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"cfd", "wip_run", "net_flow", "throughput", "stage_wip"} <= keys
    assert not at.error


def test_cycle_time_page_on_demo(demo_env):
    at = run_page(PAGES[2])
    _, report = demo_report()
    for p in (50, 70, 95):
        assert metric(at, f"p{p}") == f"{report.percentiles[p]:.1f} days"
    assert metric(at, "p85 (SLE)") == f"{report.percentiles[85]:.1f} days"
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"scatter", "histogram", "stages", "efficiency"} <= keys


def test_delivery_page_on_demo(demo_env):
    at = run_page(PAGES[3])
    _, report = demo_report()
    freq = summary_value(report, "deploy_frequency_per_week")
    assert metric(at, "Deploy frequency") == f"{freq:.2f} per week"
    rate = summary_value(report, "change_failure_rate")
    assert metric(at, "Change failure rate") == f"{rate * 100:.0f}%"
    rework = summary_value(report, "rework_rate")
    assert rework > 0 and metric(at, "Rework rate") == f"{rework * 100:.0f}%"
    badges = [t for t in markdown_texts(at) if "-badge[" in t]
    assert len(badges) == 4
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"deploys", "batches", "lead_times", "restore"} <= keys


def test_data_page_on_demo(demo_env):
    at = run_page(PAGES[4])
    data = demo_flow_data()
    assert metric(at, "Items") == str(len(data.items))
    assert metric(at, "Events") == str(len(data.events))
    assert metric(at, "Deployments") == str(len(data.deployments))
    cfg = demo_config()
    full = flow_report(data, cfg.workflow, DEMO_AS_OF)
    quality = data_quality(full, cfg.workflow)
    shown = at.get("dataframe")[-1].value
    assert shown["count"].tolist() == quality["count"].tolist()
    assert not at.button  # nothing to sync in the demo


# ---- an empty store, then a real sync -----------------------------------------------------


def test_every_page_on_an_empty_store_says_what_to_do(store_env_any):
    at = run_page()
    assert not at.get("plotly_chart")
    assert any("No work items yet" in i.value for i in at.info)
    for page in PAGES[1:]:
        run_page(page, at)
        assert not at.error, (page, [e.value for e in at.error])
        assert not at.get("plotly_chart"), page
        assert at.info, f"{page}: no note saying why it is empty"
    assert at.button(key="sync_now")


def test_sync_now_then_a_failed_sync_keeps_the_data(store_env_any):
    config_path, db = store_env_any
    at = run_page(PAGES[4])
    at.button(key="sync_now").click().run()
    assert not at.exception
    assert any("Last sync by this dashboard" in s.value for s in at.success)
    config = load_config(config_path)
    with open_store(db, create=False) as store:
        data = store.read_flow_data()
    assert metric(at, "Items") == str(len(data.items))
    tz = config.workflow.timezone
    today = team_today(tz)
    last = pd.Timestamp(today)
    report = flow_report(data, config.workflow, end_of_day(today, tz),
                         last - pd.Timedelta(days=89), last)  # fmt: skip
    run_page(PAGES[0], at)
    wip = report.items[report.items["in_progress"]]
    assert metric(at, "Items in progress") == str(len(wip))
    headings = [unescape(t)[5:] for t in markdown_texts(at) if t.startswith("#### ")]
    assert headings == [c.heading for c in board_columns(report, config.workflow)]

    # The source's file disappears: the sync fails, says why, and the data stays.
    (config_path.parent / "events.csv").rename(config_path.parent / "events.moved")
    run_page(PAGES[4], at)
    at.button(key="sync_now").click().run()
    assert not at.exception
    errors = unescape(" ".join(e.value for e in at.error))
    assert "events.csv" in errors and "team" in errors
    assert metric(at, "Items") == str(len(data.items))
    run_page(PAGES[0], at)
    assert metric(at, "Items in progress") == str(len(wip))


def test_a_broken_store_shows_the_error_and_keeps_the_last_good_data(store_env):
    config_path, db = store_env
    runner = SyncRunner(config_path, db)
    assert runner.run().ok
    at = run_page()
    before = metric(at, "Items in progress")
    db.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    from dashboard import data as app_data

    app_data.clear_caches()
    app_data._store.clear()
    at.run()
    assert not at.exception
    assert any("showing the last good data" in e.value for e in at.error)
    assert metric(at, "Items in progress") == before


def test_background_sync_runs_on_schedule(store_env):
    config_path, db = store_env
    runner = SyncRunner(config_path, db, every_minutes=0.01)
    runner.start_schedule()
    try:
        deadline = time.monotonic() + SYNC_WAIT
        while runner.last is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert runner.last is not None and runner.last.ok, runner.last
        assert runner.last.trigger == "schedule"
        assert runner.run() is None or not runner.busy  # one sync at a time
    finally:
        runner.stop()
    with open_store(db, create=False) as store:
        assert store.sources_status()["last_result"].tolist() == ["ok"]


def test_sync_every_keeps_the_store_fresh_without_a_click(store_env, monkeypatch):
    from dashboard import data as app_data

    monkeypatch.setenv("FLOWDECK_SYNC_EVERY", "0.02")
    at = run_page()
    assert any("No work items yet" in i.value for i in at.info)
    runner = app_data.sync_runner(app_data.setup_from_env())
    try:
        deadline = time.monotonic() + SYNC_WAIT
        while (runner.last is None or runner.busy) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert runner.last is not None and runner.last.ok
        at.run()
        assert int(metric(at, "Items in progress")) > 0
        run_page(PAGES[4], at)
        assert any("on schedule" in s.value for s in at.success)
        assert any("every 0.02 minutes" in c.value for c in at.caption)
    finally:
        runner.stop()


# ---- the real data sets -------------------------------------------------------------------


def test_every_page_on_the_real_data_sets(real_set, monkeypatch, tmp_path):
    from connectors.sync import import_file

    monkeypatch.chdir(tmp_path)
    config = load_config(real_set / "flowdeck.toml")
    db = tmp_path / "store.db"
    import_file(db, real_set / "events.csv", "real", config)
    monkeypatch.setenv("FLOWDECK_CONFIG", str(real_set / "flowdeck.toml"))
    monkeypatch.setenv("FLOWDECK_DB", str(db))
    at = run_page()
    with open_store(db, create=False) as store:
        data = store.read_flow_data()
    tz = config.workflow.timezone
    report = flow_report(data, config.workflow, end_of_day(team_today(tz), tz))
    wip = report.items[report.items["in_progress"]]
    assert metric(at, "Items in progress") == str(len(wip))
    for page in PAGES[1:]:
        run_page(page, at)
        assert not at.error, (page, [e.value for e in at.error])
        assert at.get("plotly_chart") or at.info, page
        if page == "app_pages/flow.py":
            # Over the whole history, the ASOS board has board clean-ups (155 items moved
            # within one minute once); the Jira board has none.
            days = local_days(data.events["changed_at"], tz)
            at.date_input[0].set_value((days.min().date(), days.max().date())).run()
            bulk = mass_moves(report.intervals)
            warned = [w.value for w in at.warning if w.value.startswith("Board clean-ups")]
            assert len(warned) == (1 if len(bulk) else 0), real_set.name
            assert (len(bulk) > 0) == (real_set.name == "asos-search-board")
    assert metric(at, "Events") == str(len(data.events))


# ---- the command ----------------------------------------------------------------------------


def test_dashboard_command_refuses_bad_input_in_one_line(tmp_path, monkeypatch, capsys):
    from flowdeck.cli import main

    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[workflow]\nstages = 3\n", encoding="utf-8")
    assert main(["dashboard", "--config", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "bad.toml" in err
    assert main(["dashboard", "--sync-every", "5"]) == 1
    assert "--sync-every" in capsys.readouterr().err
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 1
    assert f"port {port}" in capsys.readouterr().err
    store = tmp_path / "elsewhere.db"
    open_store(store, create=True).close()
    assert main(["dashboard", "--db", str(store)]) == 1
    assert "no workflow file" in capsys.readouterr().err


def test_streamlit_is_started_private_and_quiet():
    from flowdeck.commands.serve import streamlit_command

    cmd = streamlit_command("127.0.0.1", 8600)
    options = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("dashboard/server.py")
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.headless"] == "true"
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"


def test_a_failing_page_shows_one_error_line_and_the_others_still_work(demo_env, monkeypatch):
    """A bug in one page's code is an `st.error` line, not a traceback on screen."""
    from dashboard import charts

    def broken(*args, **kwargs):
        raise ValueError("chart builder broke")

    monkeypatch.setattr(charts, "cycle_time_scatter", broken)
    monkeypatch.delenv("FLOWDECK_DEBUG", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("app_pages/cycle_time.py")
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("This page failed: ValueError: chart builder broke" in e for e in errors), errors
    run_page("app_pages/flow.py", at)
    assert not at.error
