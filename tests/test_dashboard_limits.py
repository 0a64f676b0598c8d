"""The WIP limits page and the Flow page's stability sections under AppTest: numbers equal to
`metrics/`, an edit that rewrites the workflow file and lands in the history, the editor
password, and read-only off loopback."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit import config as st_config

from connectors.config import load_config
from connectors.store import open_store
from dashboard.editing import is_loopback
from dashboard.limits_view import limits_overview
from dashboard.sync_runner import SyncRunner
from metrics.limits import TOTAL
from metrics.stability import report_littles_law
from tests import test_dashboard_app as app_tests
from tests.test_dashboard_app import demo_report, metric, run_page, unescape

# The dashboard tests' fixtures: the demo, and a store filled from the demo's CSV source.
demo_env = app_tests.demo_env
store_env = app_tests.store_env

LIMITS_PAGE = "app_pages/limits.py"
FLOW_PAGE = "app_pages/flow.py"


@pytest.fixture
def listen(monkeypatch):
    """Set the address the server listens on (as `flowdeck dashboard --host` does)."""
    before = st_config.get_option("server.address")

    def set_address(address: str | None) -> None:
        st_config.set_option("server.address", address)

    yield set_address
    st_config.set_option("server.address", before)


@pytest.fixture
def synced(store_env, monkeypatch):
    config_path, db = store_env
    monkeypatch.delenv("FLOWDECK_EDITOR_PASSWORD", raising=False)
    assert SyncRunner(config_path, db).run().ok
    return config_path, db


def history(db):
    with open_store(db, create=False) as store:
        return store.wip_limit_changes()


def fill_form(at, stage: str, new: str, who: str, why: str, password: str | None = None):
    at.selectbox(key="limit_stage").set_value(stage)
    at.text_input(key="limit_new").set_value(new)
    at.text_input(key="limit_who").set_value(who)
    at.text_area(key="limit_why").set_value(why)
    if password is not None:
        at.text_input(key="limit_password").set_value(password)
    next(b for b in at.button if b.label == "Change the limit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_demo_page_shows_adherence_and_a_suggestion_from_the_metrics(demo_env):
    at = run_page(LIMITS_PAGE)
    cfg, report = demo_report()
    expected = limits_overview(report, cfg.workflow, None, float(report.percentiles[50]))
    # The demo's history is the kaizen change (In Progress 8 -> 4), long before this window.
    shown = at.dataframe[0].value
    assert shown["stage"].tolist()[-1] == "total (all work in progress)"
    assert shown["suggested limit"].tolist() == expected["suggested"].tolist()
    assert shown["WIP now"].tolist() == expected["wip_now"].tolist()
    assert shown["% of days over"].fillna(-1).tolist() == (
        (expected["share_over"] * 100).round(0).fillna(-1).tolist()
    )
    assert "a suggestion is the start of an experiment" in at.info[-1].value.lower()
    assert any("demo data is read-only" in c.value for c in at.caption)
    demo_history = at.dataframe[1].value
    assert demo_history["why"].iloc[0].startswith("Kaizen: too many items in progress")
    # A longer target cycle time allows more work in progress.
    at.number_input(key="limits_target").set_value(float(report.percentiles[50]) * 2).run()
    assert at.dataframe[0].value["suggested limit"].iloc[-1] > expected["suggested"].iloc[-1]


def test_the_flow_page_checks_littles_law_and_names_the_signals(demo_env):
    at = run_page(FLOW_PAGE)
    cfg, report = demo_report()
    check = report_littles_law(report, cfg.workflow)
    assert metric(at, "L / (λ × W)") == f"{check.ratio:.2f}"
    assert metric(at, "Average WIP (L)") == f"{check.wip_avg:.1f}"
    warnings = [unescape(w.value) for w in at.warning]
    assert warnings == list(check.flags) and check.flags
    texts = " ".join(unescape(m.value) for m in at.markdown)
    assert "above the upper natural process limit" in texts
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert len(keys) >= 2 and any("xmr_cycle" in k for k in keys), keys


def test_a_lead_lowers_a_limit_from_the_page(synced, listen):
    config_path, db = synced
    listen("127.0.0.1")
    before = config_path.read_text(encoding="utf-8")
    at = run_page(LIMITS_PAGE)
    assert not at.warning
    fill_form(at, "Review", "3", "Ana", "=cmd|' /C calc'!A0 we expect review waits to halve")
    assert not at.error, [e.value for e in at.error]
    assert [unescape(s.value) for s in at.success] == [
        "Review's WIP limit: 4 -> 3 (written to flowdeck.toml)"
    ]
    after = config_path.read_text(encoding="utf-8")
    assert after == before.replace(
        'name = "Review"\nstatuses = ["Code Review", "In Review"]\nwip_limit = 4',
        'name = "Review"\nstatuses = ["Code Review", "In Review"]\nwip_limit = 3',
    )
    assert load_config(config_path).workflow.stages[3].wip_limit == 3
    changes = history(db)
    assert changes[["stage", "old_limit", "new_limit", "who"]].values.tolist() == [
        ["Review", 4, 3, "Ana"]
    ]
    shown = at.dataframe[-1].value
    assert shown["why"].tolist() == ["=cmd|' /C calc'!A0 we expect review waits to halve"]
    assert at.dataframe[0].value.set_index("stage").loc["Review", "limit in force"] == 3
    # The Flow page's chart of Review now steps down to 3 on the last day.
    run_page(FLOW_PAGE, at)
    spec = next(c for c in at.get("plotly_chart") if "stage_wip" in c.proto.id).proto.spec
    assert '"limit changed"' in spec and "we expect review waits to halve" in spec


def test_a_bad_edit_is_one_line_and_changes_nothing(synced, listen):
    config_path, db = synced
    listen("localhost")
    before = config_path.read_bytes()
    at = run_page(LIMITS_PAGE)
    fill_form(at, "Review", "0", "Ana", "try")
    assert [e.value for e in at.error] and "at least 1" in at.error[0].value
    fill_form(at, "Review", "3", "Ana", "   ")
    assert "say why" in at.error[0].value
    assert config_path.read_bytes() == before and history(db).empty


def test_with_a_password_an_edit_needs_it(synced, listen, monkeypatch):
    config_path, db = synced
    listen("0.0.0.0")  # shared with the network, but protected by the password
    monkeypatch.setenv("FLOWDECK_EDITOR_PASSWORD", "s3cret-editor")
    at = run_page(LIMITS_PAGE)
    assert not at.warning
    fill_form(at, "total", "12", "Ana", "finish before starting", password="wrong")
    assert "Wrong editor password; nothing changed." in [e.value for e in at.error]
    assert load_config(config_path).workflow.wip_limit == 16 and history(db).empty
    fill_form(at, "total", "12", "Ana", "finish before starting", password="s3cret-editor")
    assert not at.error
    assert load_config(config_path).workflow.wip_limit == 12
    assert history(db)["stage"].tolist() == [TOTAL]
    # The password is never shown back on the page, even when typed into the reason.
    fill_form(at, "total", "11", "Ana", "s3cret-editor", password="s3cret-editor")
    texts = [str(e.value) for e in (*at.markdown, *at.caption, *at.success, *at.error)]
    assert texts and not any("s3cret-editor" in t for t in texts)
    assert any("FLOWDECK\\_EDITOR\\_PASSWORD" in t for t in texts), texts
    assert history(db)["why"].tolist()[-1] == "<FLOWDECK_EDITOR_PASSWORD>"


def test_without_a_password_off_loopback_the_page_is_read_only(synced, listen):
    config_path, db = synced
    for address in ("0.0.0.0", None):
        listen(address)
        at = run_page(LIMITS_PAGE)
        assert not [b for b in at.button if b.label == "Change the limit"]
        reason = unescape(at.warning[0].value)
        assert "editing is off" in reason and "FLOWDECK_EDITOR_PASSWORD" in reason
    assert history(db).empty


def test_a_hand_edit_shows_in_the_history_once(synced, listen):
    config_path, db = synced
    listen("127.0.0.1")
    run_page(LIMITS_PAGE)  # the first reading notes the file's limits
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.replace("wip_limit = 3\n", "wip_limit = 2\n"), encoding="utf-8")
    at = run_page(LIMITS_PAGE)
    run_page(LIMITS_PAGE, at)
    changes = history(db)
    assert changes[["stage", "old_limit", "new_limit", "who"]].values.tolist() == [
        ["Testing", 3, 2, "flowdeck.toml"]
    ]
    assert at.dataframe[-1].value["who"].tolist() == ["flowdeck.toml"]


def test_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.0.1.1") and is_loopback("[::1]")
    for address in (None, "", "0.0.0.0", "::", "192.168.1.10", "example.org"):
        assert not is_loopback(address), address


def test_the_wip_charts_step_with_the_limit_and_mark_each_change_with_its_why():
    from dashboard import charts
    from metrics.limits import limit_changes_on_days, limits_in_force

    days = pd.date_range("2024-03-01", periods=5, freq="D", name="date")
    daily = pd.DataFrame({"wip": [5, 6, 7, 4, 3], "Dev": [2, 3, 3, 2, 1]}, index=days)
    changes = pd.DataFrame(
        {
            "changed_at": [pd.Timestamp("2024-03-03 10:00", tz="UTC")] * 2,
            "stage": ["Dev", TOTAL],
            "old_limit": pd.array([3, 8], dtype="Int64"),
            "new_limit": pd.array([2, pd.NA], dtype="Int64"),
            "who": ["Ana", "Bo"],
            "why": ["<b>swarm</b> on review", "stage limits are enough"],
        }
    )
    in_force = limits_in_force(days, {"Dev": 2, TOTAL: None}, changes, "UTC")
    total_marks = limit_changes_on_days(changes, TOTAL, "UTC", days)
    fig = charts.wip_run_chart(daily, None, in_force[TOTAL], total_marks)
    step = next(t for t in fig.data if t.name == "WIP limit")
    assert step.line.shape == "hv" and list(step.y[:2]) == [8.0, 8.0] and pd.isna(step.y[2])
    mark = next(t for t in fig.data if t.name == "limit changed")
    assert list(mark.text) == ["stage limits are enough"] and mark.y[0] == 7.0  # on the WIP
    assert "limit 8 → none" in mark.hovertext[0] and "by Bo" in mark.hovertext[0]
    dev_marks = {"Dev": limit_changes_on_days(changes, "Dev", "UTC", days)}
    fig = charts.stage_wip_chart(daily, ["Dev"], {"Dev": in_force["Dev"]}, 1, dev_marks)
    mark = next(t for t in fig.data if t.name == "limit changed")
    # Untrusted text is escaped for plotly, never drawn as markup.
    assert list(mark.text) == ["&lt;b&gt;swarm&lt;/b&gt; on review"] and mark.y[0] == 2.0
