"""The dashboard in a real browser: Playwright driving Debian's Chromium against
`flowdeck dashboard` served on 127.0.0.1.

Two servers start once for the module (in parallel): one on the built-in demo (no workflow file,
no store: what a fresh clone shows) and one on a workflow file with a CSV source and an empty
store, which the test fills by clicking "Sync now". Every page is visited and screenshotted
into a folder (a temporary one; `FLOWDECK_SCREENSHOTS=docs/images` writes the documentation's
images), and every request the browser makes must go to 127.0.0.1.

Chromium: `apt-get install chromium`. Without it the module skips, except under CI=true, where
skipping would hide a broken dashboard: there it fails.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
from playwright.sync_api import expect

from connectors.config import load_config
from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data, demo_wip_limit_changes
from connectors.store import open_store
from dashboard.board import board_columns
from dashboard.filters import Filters
from dashboard.sync_runner import SyncRunner
from metrics import forecast as fc
from metrics.days import end_of_day, local_day
from metrics.report import flow_report
from tests.test_dashboard_app import HOSTILE, demo_report, team_today, write_team_files

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
FLOWDECK = Path(sys.executable).with_name("flowdeck")
# Each wait has its own deadline, generous enough for a loaded machine three times slower than
# a quiet one: a slow first test must not eat the next test's time.
START_TIMEOUT = 120.0  # s, for one server to answer its health check
RENDER_TIMEOUT = 90_000  # ms, for one Playwright wait (a render, a click, a navigation)
SYNC_TIMEOUT = 180_000  # ms, for "Sync now" to finish and the page to show its result
expect.set_options(timeout=RENDER_TIMEOUT)  # its own default is 5 s
PAGES = {"Board": "board", "Flow": "flow", "Cycle time": "cycle_time", "Delivery": "delivery",
         "Kaizen": "kaizen", "Data": "data", "Forecast": "forecast",
         "WIP limits": "limits", "Blockers": "blockers"}  # fmt: skip
LOCAL_HOSTS = {"127.0.0.1"}


def _require_chromium() -> None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    message = (
        f"Chromium is not installed at {CHROMIUM}: run `apt-get install chromium` "
        "(Playwright cannot download browsers here)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; the browser tests must run in CI")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, cwd: Path, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"{name}-server.log"
        self.healthy = False
        self._log_handle = self.log.open("wb")
        cmd = [str(FLOWDECK), "dashboard", "--host", "127.0.0.1", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self._log_handle, stderr=subprocess.STDOUT
        )

    def wait_healthy(self) -> None:
        """Poll the health endpoint until it answers; the deadline counts from this call, not
        from the launch, so time spent by earlier tests is never charged to this wait."""
        if self.healthy:
            return
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} server exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=5) as r:
                    if r.status == 200:
                        self.healthy = True
                        return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        raise AssertionError(
            f"{self.name} server did not answer {self.url}/_stcore/health within "
            f"{START_TIMEOUT:.0f} s:\n{self.log.read_text()}"
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log_handle.close()


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("FLOWDECK_CONFIG", "FLOWDECK_DB", "FLOWDECK_SYNC_EVERY"):
        env.pop(name, None)
    # Tell any proxy-aware code path nothing: the app must not reach out at all.
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    _require_chromium()
    demo_dir = tmp_path_factory.mktemp("demo")
    team_dir = tmp_path_factory.mktemp("team")
    config = write_team_files(team_dir)
    db = team_dir / ".flowdeck" / "flowdeck.db"
    env = _clean_env()
    started = [
        Server("demo", demo_dir, [], env),
        Server("team", team_dir, ["--config", str(config), "--db", str(db)], env),
    ]
    try:
        # Not waited for here: Chromium starts meanwhile; each test waits for its server.
        yield {"demo": started[0], "team": started[1], "config": config, "db": db}
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    target = os.environ.get("FLOWDECK_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page whose every request is recorded; a request to anywhere but 127.0.0.1 is
    aborted (nothing leaves the machine) and fails the test, as do a dialog (an injected
    `alert`) and any error in the browser console."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    # Every click, navigation and locator wait gets the generous deadline, not Playwright's 30 s.
    context.set_default_timeout(RENDER_TIMEOUT)
    context.set_default_navigation_timeout(RENDER_TIMEOUT)
    page = context.new_page()
    outside: list[str] = []
    seen: list[str] = []
    dialogs: list[str] = []

    def local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS

    def check(route):
        url = route.request.url
        seen.append(url)
        if local(url):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", check)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("websocket", lambda ws: None if local(ws.url) else outside.append(ws.url))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.outside_requests = outside
    yield page
    context.close()
    assert any("/static/" in url for url in seen), "the request check saw no request at all"
    assert not outside, f"requests left the machine: {outside}"
    assert not dialogs, f"a page opened a dialog (script injection?): {dialogs}"
    assert not errors, f"errors in the browser console: {errors}"


# ---- waiting for a real render -----------------------------------------------------------

_RENDERED = """
([wantPlots]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stAppSkeleton"], [data-testid="stSkeleton"]'))
    return false;
  if (document.querySelector('[data-testid="stStatusWidget"] [data-testid="stSpinner"]'))
    return false;
  const plots = document.querySelectorAll('[data-testid="stPlotlyChart"]');
  for (const p of plots) { if (!p.querySelector('svg.main-svg')) return false; }
  if (wantPlots && plots.length === 0) return false;
  return true;
}
"""


def wait_rendered(page, plots: bool = False) -> None:
    """Connected, the script finished, no skeleton placeholder left, and every plotly chart has
    drawn its SVG; then the same again a moment later (a rerun may follow a widget change)."""
    for _ in range(2):
        page.wait_for_function(_RENDERED, arg=[plots], timeout=RENDER_TIMEOUT)
        page.wait_for_timeout(250)
    page.wait_for_function(_RENDERED, arg=[plots], timeout=RENDER_TIMEOUT)


def open_page(page, server, title: str, plots: bool = True) -> None:
    """Go to a page through the sidebar navigation, as a user does."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    # A replayed day rides along in the address (`?as_of=...`).
    path = f"/{PAGES[title]}" if title != "Board" else r":\d+/"
    page.wait_for_url(re.compile(path + r"(\?as_of=[0-9-]+)?$"))
    wait_rendered(page, plots=plots)


def expect_headings(page, expected: list[str]) -> None:
    """The board's column headings, waited for (a rerun after a widget change may still be
    drawing the previous state when the render check passes)."""
    columns = page.locator('[data-testid="stMarkdownContainer"] h4')
    expect(columns).to_have_text(expected, use_inner_text=True, timeout=RENDER_TIMEOUT)


def expect_metric(page, label: str, value: str) -> None:
    tile = page.locator('[data-testid="stMetric"]', has_text=label).first
    expect(tile.locator('[data-testid="stMetricValue"]')).to_have_text(
        value, use_inner_text=True, timeout=RENDER_TIMEOUT
    )


_CONTENT_HEIGHT = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const block = document.querySelector('[data-testid="stMainBlockContainer"]');
  return Math.max(main ? main.scrollHeight : 0, block ? block.scrollHeight : 0);
}"""


def screenshot(page, folder: Path, name: str, max_height: int = 5000) -> Path:
    """The whole page: Streamlit scrolls inside its main area, not the document, so the window
    is made as tall as the content for the shot."""
    path = folder / f"{name}.png"
    size = page.viewport_size
    height = min(max(page.evaluate(_CONTENT_HEIGHT), size["height"]), max_height)
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(400)  # plotly redraws at the new size
        wait_rendered(page)
    page.screenshot(path=str(path))
    if height > size["height"]:
        page.set_viewport_size(size)
    return path


# ---- tests --------------------------------------------------------------------------------


def test_demo_board_every_page_filter_and_replay(servers, page, shots):
    demo = servers["demo"]
    demo.wait_healthy()
    page.goto(demo.url + "/")
    wait_rendered(page, plots=True)
    expect(page.get_by_text("Demo data").first).to_be_visible()
    cfg, report = demo_report()
    expected = [c.heading for c in board_columns(report, cfg.workflow)]
    expect_headings(page, expected)
    wip = report.items[report.items["in_progress"]]
    expect_metric(page, "Items in progress", str(len(wip)))
    check_board_layout(page, len(expected))
    screenshot(page, shots, "board")

    for title in ("Flow", "Cycle time", "Blockers", "Delivery", "Kaizen", "Data"):
        open_page(page, demo, title, plots=title != "Data")
        expect(page.locator("h1", has_text=title).first).to_be_visible()
        assert not page.locator('[data-testid="stException"]').count()
        screenshot(page, shots, PAGES[title])
        if title == "Blockers":
            # The demo's blocked days by reason: its spells carry their reasons.
            expect(page.get_by_text("Blocked days by reason").first).to_be_visible()
            expect(page.get_by_text("cost the most").first).to_be_visible()
        if title == "Delivery":
            expect(page.get_by_text("Median waiting for review").first).to_be_visible()
            expect(page.get_by_text("Rework rate").first).to_be_visible()
        if title == "Kaizen":
            # The review pack comes down as a zip holding the comparison and the report.
            expect(page.get_by_text("Verdict:").first).to_be_visible()
            with page.expect_download(timeout=RENDER_TIMEOUT) as download:
                page.get_by_role("button", name="Download the review pack").click()
            with zipfile.ZipFile(download.value.path()) as pack:
                names = set(pack.namelist())
                kaizen = pack.read("kaizen.csv").decode("utf-8")
            assert {"report.html", "kaizen.csv", "wip_limits.csv", "flowdeck.toml"} <= names
            assert kaizen.startswith("metric,before,after,change")

    # A sidebar filter: only the type of an item with a hostile title...
    hostile = report.items[report.items["title"] == HOSTILE].iloc[0]
    kind = hostile["type"]
    open_page(page, demo, "Board")
    types = page.locator('[data-testid="stMultiSelect"]', has_text="Item types")
    types.locator("input").click()
    page.keyboard.type(kind)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_rendered(page, plots=True)
    chosen = Filters(types=(kind,))
    _, only = demo_report(chosen)
    expect_headings(page, [c.heading for c in board_columns(only, cfg.workflow)])
    only_wip = only.items[only.items["in_progress"]]
    expect_metric(page, "Items in progress", str(len(only_wip)))

    # ...then replay a day it was in progress: its title shows as text, nothing runs.
    middle = hostile["started_at"] + (hostile["done_at"] - hostile["started_at"]) / 2
    day = middle.tz_convert(cfg.workflow.timezone).date()
    box = page.locator('[data-testid="stDateInput"]', has_text="As of")
    box.locator("[role=spinbutton]").first.click()
    page.keyboard.type(day.strftime("%Y/%m/%d"))  # year, month, day segments in turn
    page.keyboard.press("Escape")
    page.locator("h1", has_text="Board").click()  # the field commits its value on blur
    wait_rendered(page, plots=True)
    banner = page.locator('[data-testid="stAlertContentWarning"]', has_text="Replaying")
    expect(banner.first).to_contain_text(f"Replaying {day:%a %d %b %Y}")
    _, past = demo_report(chosen, as_of=end_of_day(day, cfg.workflow.timezone))
    expect_headings(
        page,
        [c.heading for c in board_columns(past, cfg.workflow, demo_wip_limit_changes())],
    )
    expect(page.get_by_text(HOSTILE).first).to_be_visible()
    assert page.locator("script", has_text="alert('board')").count() == 0
    screenshot(page, shots, "board_replay")
    # The replay follows the user to Flow and Cycle time, banner and sidebar alike.
    for title in ("Flow", "Cycle time"):
        open_page(page, demo, title)
        banner = page.locator('[data-testid="stAlertContentWarning"]', has_text="Replaying")
        expect(banner.first).to_contain_text(f"Replaying {day:%a %d %b %Y}")
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_text(f"Data as of {day:%a %d %b %Y}").first).to_be_visible()


_BOARD_BOXES = """() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, height: r.height}; };
  const board = document.querySelector('.st-key-fd-board');
  const attention = document.querySelector('.st-key-fd-attention');
  const heads = [...board.querySelectorAll('h4')].map((h) => {
    const line = parseFloat(getComputedStyle(h).lineHeight);
    return {...box(h), line, text: h.innerText, cut: h.scrollWidth > h.clientWidth};
  });
  const cards = [...board.querySelectorAll('[class*="st-key-fd-card-"]')].map((e) => ({
    ...box(e), rank: Number(e.className.match(/st-key-fd-card-\\d+-(\\d+)/)[1])}));
  const more = [...board.querySelectorAll('[data-testid="stPopover"]')].map(box);
  const main = document.querySelector('[data-testid="stMain"]');
  return {attention: box(attention), heads, cards, more, scrolled: main.scrollTop,
          window: window.innerHeight};
}"""


def check_board_layout(page, n_columns: int) -> None:
    """At 1440x900: attention above the board, no column heading wrapped, the cards of each
    row at the same heights, and the whole board within the first screen."""
    size = page.viewport_size
    page.set_viewport_size({"width": 1440, "height": 900})
    try:
        wait_rendered(page, plots=True)
        boxes = page.evaluate(_BOARD_BOXES)
        heads = boxes["heads"]
        assert len(heads) == n_columns
        assert boxes["attention"]["bottom"] <= min(h["top"] for h in heads), boxes["attention"]
        for head in heads:  # one line each: never "In Progress 8 /" then "10"
            assert head["height"] <= head["line"] * 1.5, head
        # Cards line up: the n-th card of every column starts at the same height (whole
        # pixels: sub-pixel layout rounding aside).
        by_rank: dict[int, list[float]] = {}
        for c in boxes["cards"]:
            by_rank.setdefault(c["rank"], []).append(c["top"])
        assert by_rank, "no card on the board"
        for rank, tops in by_rank.items():
            assert max(tops) - min(tops) <= 1.5, (rank, tops)
        bottom = max(b["bottom"] for b in boxes["cards"] + boxes["more"])
        assert boxes["scrolled"] == 0 and bottom <= boxes["window"], (bottom, boxes["window"])
    finally:
        page.set_viewport_size(size)


def test_sync_now_fills_an_empty_store(servers, page, shots):
    team = servers["team"]
    team.wait_healthy()
    page.goto(team.url + "/")
    wait_rendered(page)
    expect(page.get_by_text("No work items yet").first).to_be_visible()
    open_page(page, team, "Data", plots=False)
    page.get_by_role("button", name="Sync now").click()
    # The live progress box gives way to the result once the page reruns on the new data.
    page.get_by_text("Last sync by this dashboard").first.wait_for(timeout=SYNC_TIMEOUT)
    wait_rendered(page)
    result = page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    assert "team: items" in result and "added" in result, result
    screenshot(page, shots, "data_after_sync")

    config = load_config(servers["config"])
    with open_store(servers["db"], create=False) as store:
        data = store.read_flow_data()
        sources = store.sources_status()
    assert sources["last_result"].tolist() != ["failed"]
    tz = config.workflow.timezone
    as_of = end_of_day(team_today(tz), tz)
    last = pd.Timestamp(team_today(tz))
    report = flow_report(data, config.workflow, as_of, last - pd.Timedelta(days=89), last)
    open_page(page, team, "Board")
    expect_headings(page, [c.heading for c in board_columns(report, config.workflow)])
    wip = report.items[report.items["in_progress"]]
    expect_metric(page, "Items in progress", str(len(wip)))
    screenshot(page, shots, "board_synced")


def test_forecast_page_answers_a_question(servers, page, shots):
    """A user asks "when will 40 items be done?" and reads the answers of `flowdeck forecast`."""
    demo = servers["demo"]
    demo.wait_healthy()
    page.goto(demo.url + "/")
    wait_rendered(page, plots=True)
    open_page(page, demo, "Forecast")
    expect(page.locator("h1", has_text="Forecast").first).to_be_visible()
    field = page.locator('[data-testid="stNumberInput"]', has_text="Number of items")
    field.locator("input").fill("40")
    field.locator("input").press("Enter")
    wait_rendered(page, plots=True)

    workflow = demo_config().workflow
    report = flow_report(demo_flow_data(), workflow, DEMO_AS_OF)
    day = local_day(DEMO_AS_OF, workflow.timezone)
    sample = fc.throughput_sample(report.items, workflow.timezone, DEMO_AS_OF)
    when = fc.when_done(sample, day, 40)
    for c in fc.CONFIDENCES:
        expect_metric(page, f"{c}% chance by", f"{when.loc[c, 'date']:%d %b %Y}")
    expect(page.get_by_text(fc.when_sentence(when, 40, day)).first).to_be_visible()
    many = fc.how_many_by(sample, day, day + pd.Timedelta(days=28))
    expect_metric(page, "85% chance of", f"{many[85]} or more")
    expect(page.get_by_text("forecasts came true").first).to_be_visible()
    assert not page.locator('[data-testid="stException"]').count()
    screenshot(page, shots, "forecast")


def test_a_lead_lowers_a_limit_through_the_page(servers, page, shots):
    """The WIP limits page's form: the workflow file gets the new limit (one line changed), the
    history shows the change with its why, and the Flow page's WIP chart marks it."""
    team, config_path, db = servers["team"], servers["config"], servers["db"]
    team.wait_healthy()
    with open_store(db, create=True) as store:
        empty = store.read_flow_data().events.empty
    if empty:  # this test on its own: fill the store as "Sync now" would
        assert SyncRunner(config_path, db).run().ok
    before = config_path.read_text(encoding="utf-8")
    page.goto(team.url + "/")
    wait_rendered(page, plots=True)
    open_page(page, team, "WIP limits", plots=False)
    expect(page.locator("h1", has_text="WIP limits").first).to_be_visible()
    stage = page.locator('[data-testid="stSelectbox"]', has_text="Stage")
    stage.locator("input").click()
    page.keyboard.type("Review")
    page.keyboard.press("Enter")
    page.get_by_label("New limit (a number, or none)").fill("3")
    page.get_by_label("Who").fill("Ana")
    why = "we expect review waits to halve"
    page.locator('[data-testid="stTextArea"] textarea').fill(why)
    page.get_by_role("button", name="Change the limit").click()
    # Streamlit's markdown draws "->" as an arrow.
    expect(page.get_by_text(re.compile("Review's WIP limit: 4 (->|→) 3")).first).to_be_visible()
    wait_rendered(page)

    after = config_path.read_text(encoding="utf-8")
    assert after == before.replace(
        'statuses = ["Code Review", "In Review"]\nwip_limit = 4',
        'statuses = ["Code Review", "In Review"]\nwip_limit = 3',
    )
    with open_store(db, create=False) as store:
        changes = store.wip_limit_changes()
    assert changes[["stage", "old_limit", "new_limit", "who", "why"]].values.tolist()[-1] == [
        "Review",
        4,
        3,
        "Ana",
        why,
    ]
    latest = page.get_by_text("Latest change").first
    expect(latest).to_contain_text("Review 4 → 3 by Ana")
    expect(latest).to_contain_text(why)
    screenshot(page, shots, "limits")

    open_page(page, team, "Flow")
    marker = page.locator('[data-testid="stPlotlyChart"] text', has_text=why)
    expect(marker.first).to_be_attached()
