"""The Kaizen and Explain pages under Streamlit's AppTest: the numbers on screen are the ones
`metrics/` computes for the same inputs, and untrusted text stays text."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from connectors.demo import DEMO_AS_OF, DEMO_LIMIT_CHANGE_DAY, demo_config, demo_flow_data
from connectors.store import open_store
from dashboard.kaizen_pack import build_pack, comparison_rows
from dashboard.safe_text import escape_markdown
from dashboard.sync_runner import SyncRunner
from metrics.explain import explain_item
from metrics.kaizen import CHANGED, TOO_FEW, kaizen_review
from metrics.report import flow_report
from tests.test_dashboard_app import demo_env, run_page, store_env, unescape  # noqa: F401

KAIZEN = "app_pages/kaizen.py"
EXPLAIN = "app_pages/explain.py"


def demo_whole():
    cfg = demo_config()
    return cfg, flow_report(demo_flow_data(), cfg.workflow, DEMO_AS_OF)


@pytest.mark.usefixtures("demo_env")
def test_kaizen_page_reviews_the_demo_limit_change():
    at = run_page(KAIZEN)
    cfg, report = demo_whole()
    review = kaizen_review(report, cfg.workflow, DEMO_LIMIT_CHANGE_DAY)
    assert review.verdict.label == CHANGED
    # The demo's one recorded change is chosen first; its why is the hypothesis.
    assert at.selectbox(key="kaizen_change").value.startswith("2025-10-06: In Progress WIP limit")
    assert any("Hypothesis" in i.value and "too many items in progress" in unescape(i.value)
               for i in at.info)  # fmt: skip
    assert [s.value for s in at.success] == [f"**Verdict:** {escape_markdown(review.verdict.text)}"]
    shown = at.dataframe[0].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), comparison_rows(review))
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"kaizen_scatter", "kaizen_weekly"} <= keys
    assert any(b.proto.label.startswith("Download the review pack") for b in
               at.get("download_button"))  # fmt: skip
    beyond = [d.value for d in at.dataframe if "explain" in d.value.columns]
    assert beyond and beyond[0]["item_id"].tolist() == review.over_old_sle.index.tolist()
    assert beyond[0]["explain"].iloc[0] == f"explain?item={review.over_old_sle.index[0]}"


@pytest.mark.usefixtures("demo_env")
def test_kaizen_page_any_date_and_a_short_window():
    at = run_page(KAIZEN)
    at.selectbox(key="kaizen_change").set_value("Any date (no recorded change)").run()
    at.date_input(key="kaizen_day").set_value(pd.Timestamp("2025-06-02").date())
    at.number_input(key="kaizen_days").set_value(3).run()
    assert not at.exception
    cfg, report = demo_whole()
    review = kaizen_review(report, cfg.workflow, pd.Timestamp("2025-06-02"), 3)
    assert review.verdict.label == TOO_FEW
    assert any(f"**Verdict:** {escape_markdown(review.verdict.text)}" == i.value for i in at.info)
    assert any("Before: 2025-05-30 to 2025-06-01 (3 days)" in c.value for c in at.caption)


def test_kaizen_page_on_a_store_shows_a_hostile_why_as_text(request):
    config_path, db = request.getfixturevalue("store_env")
    assert SyncRunner(config_path, db).run().ok
    why = "<img src=x onerror=alert(1)> [click](javascript:alert(2)) :red[boom]"
    with open_store(db, create=False) as store:
        first = store.read_flow_data().events["changed_at"].min()
        store.record_wip_limit_change("In Progress", 4, 3, first + pd.Timedelta(days=200),
                                      "lead", why)  # fmt: skip
    at = run_page(KAIZEN)
    # Reading the store also records the workflow file's limit (4) as a hand edit, the latest
    # change: pick the lead's own.
    box = at.selectbox(key="kaizen_change")
    ours = [o for o in box.options if "In Progress WIP limit 4 → 3" in o]
    assert len(ours) == 1, box.options
    box.set_value(ours[0]).run()
    assert not at.exception
    hypothesis = [i.value for i in at.info if "Hypothesis" in i.value]
    assert hypothesis == [f"**Hypothesis** (recorded by lead): {escape_markdown(why)}"]
    assert at.success or at.warning or at.info
    assert not at.error


@pytest.mark.usefixtures("demo_env")
def test_the_pack_the_page_offers_is_the_commands():
    """The button's callable builds the pack with `build_pack`: the same files as the CLI."""
    cfg, report = demo_whole()
    pack = build_pack(cfg, demo_flow_data(), DEMO_AS_OF, DEMO_LIMIT_CHANGE_DAY, 42, None,
                      report=report)  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(pack.zip_bytes())) as archive:
        names = set(archive.namelist())
        limits = archive.read("wip_limits.csv").decode()
    assert {"kaizen.csv", "wip_limits.csv", "flowdeck.toml", "report.html", "items.csv"} <= names
    # No history given: the workflow file's limits, marked as such.
    assert "In Progress,,4,flowdeck.toml" in limits


@pytest.mark.usefixtures("demo_env")
@pytest.mark.parametrize("asked", ["FD-18", "fd-18"])
def test_explain_page_from_a_link(asked):
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard_app import APP, TIMEOUT

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page(EXPLAIN)
    at.query_params["item"] = asked
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    cfg, report = demo_whole()
    x = explain_item(demo_flow_data().events, report, cfg.workflow, "FD-18")
    assert at.selectbox(key="explain_item").value == "FD-18"
    assert unescape(at.subheader[0].value).startswith("FD-18: ")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cycle time"] == f"{int(x.facts['cycle_time_days'])} days"
    assert metrics["Flow efficiency"] == f"{x.facts['flow_efficiency'] * 100:.0f}%"
    timeline = at.dataframe[0].value
    assert timeline["mark"].tolist() == x.timeline["mark"].tolist()
    assert timeline["note"].tolist() == x.timeline["note"].tolist()
    bullets = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert bullets == ["\n".join(f"- {escape_markdown(line)}" for line in x.lines)]


@pytest.mark.usefixtures("demo_env")
def test_explain_page_unknown_item_and_the_board_links():
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard_app import APP, TIMEOUT

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page(EXPLAIN)
    at.query_params["item"] = "NOPE-1"
    at.run()
    assert not at.exception
    assert any("is not in the data" in unescape(w.value) for w in at.warning)
    assert at.selectbox(key="explain_item").value is None
    board = run_page()
    # Every card links its explanation by a search icon after the id; the attention list too.
    links = [m.value for m in board.markdown if "explain?item=" in m.value]
    assert links and all("[:material/search:" in c and "](explain?item=FD-" in c for c in links)


def test_kaizen_and_explain_on_an_empty_store_say_what_to_do(request):
    request.getfixturevalue("store_env")
    at = run_page(KAIZEN)
    assert any("nothing to compare" in i.value for i in at.info)
    run_page(EXPLAIN, at)
    assert any("nothing to explain" in i.value for i in at.info)
    assert not at.error and not at.get("plotly_chart")


def test_kaizen_page_on_an_old_export_reviews_its_last_weeks(real_set, monkeypatch, tmp_path):
    from connectors.config import load_config
    from connectors.sync import import_file

    monkeypatch.chdir(tmp_path)
    config = load_config(real_set / "flowdeck.toml")
    db = tmp_path / "store.db"
    import_file(db, real_set / "events.csv", "real", config)
    monkeypatch.setenv("FLOWDECK_CONFIG", str(real_set / "flowdeck.toml"))
    monkeypatch.setenv("FLOWDECK_DB", str(db))
    at = run_page(KAIZEN)
    assert at.selectbox(key="kaizen_change").value == "Any date (no recorded change)"
    with open_store(db, create=False) as store:
        last = store.read_flow_data().events["changed_at"].max()
    last_day = last.tz_convert(config.workflow.timezone).date()
    assert (last_day - at.date_input(key="kaizen_day").value).days == 41
    assert any("**Verdict:**" in m.value for m in [*at.success, *at.info, *at.warning])
    assert {c.key for c in at.get("plotly_chart")} >= {"kaizen_scatter", "kaizen_weekly"}
