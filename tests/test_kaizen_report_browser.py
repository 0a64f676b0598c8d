"""The pack's report.html in a real browser (Playwright driving Debian's Chromium), opened from a
file with every request outside file:// blocked: it must draw every chart from its embedded
plotly, log no console error, run no injected script, and fit the printable width of A4 and
Letter.

Chromium: `apt-get install chromium`; without it the module skips, except under CI=true.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from connectors.demo import (
    DEMO_AS_OF,
    DEMO_LIMIT_CHANGE_DAY,
    demo_config,
    demo_flow_data,
    demo_wip_limit_changes,
)
from dashboard.kaizen_pack import PRINT_WIDTH, build_pack
from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT, _require_chromium

HOSTILE_WHY = "<img src=x onerror=alert('why')><script>alert('why')</script> try 4"
#: The printable width of A4 (210 mm) and Letter (8.5 in) with the report's 12 mm margins, in
#: CSS pixels (96 per inch).
PRINTABLE = {"A4": (210 - 24) / 25.4 * 96, "Letter": (8.5 - 24 / 25.4) * 96}

_DRAWN = """() => {
  const charts = [...document.querySelectorAll('.chart .js-plotly-plot')];
  return charts.length === 4 && charts.every(c => c.querySelector('svg.main-svg')
    && c.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length > 0);
}"""


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    _require_chromium()
    cfg = demo_config()
    changes = demo_wip_limit_changes().assign(why=HOSTILE_WHY)
    pack = build_pack(cfg, demo_flow_data(), DEMO_AS_OF, DEMO_LIMIT_CHANGE_DAY, 42, changes)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_bytes(pack.files["report.html"])
    return path, pack


@pytest.fixture
def offline_page():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        seen: list[str] = []
        outside: list[str] = []

        def check(route):
            url = route.request.url
            seen.append(url)
            if urlsplit(url).scheme in ("file", "data", "blob", "about"):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", check)
        errors: list[str] = []
        dialogs: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        yield page
        context.close()
        browser.close()
        assert any(url.startswith("file://") for url in seen), "the route check saw nothing"
        assert not outside, f"the report asked the network for: {outside}"
        assert not dialogs, f"a script ran from the data: {dialogs}"
        assert not errors, f"errors in the browser console: {errors}"


def test_report_draws_every_chart_offline(report_file, offline_page):
    path, pack = report_file
    page = offline_page
    page.goto(path.as_uri())
    page.wait_for_function(_DRAWN, timeout=RENDER_TIMEOUT)
    # Dates and as-of on top, then the hypothesis (escaped), the verdict.
    meta = page.locator("p.meta").first.inner_text()
    review = pack.review
    assert f"Before: {review.before.label()}" in meta
    assert "As of 2026-07-05 23:59 (Europe/London)" in page.locator("p.meta").nth(1).inner_text()
    hypothesis = page.locator("p.hypothesis").inner_text()
    assert "In Progress WIP limit 8 → 4 by Team lead" in hypothesis
    assert HOSTILE_WHY in hypothesis  # shown as the very characters
    assert page.locator("p.hypothesis img, p.hypothesis script").count() == 0
    assert page.locator("#verdict").inner_text() == f"Verdict: {review.verdict.text}"
    rows = page.locator("section table").first.locator("tbody tr")
    assert rows.count() == len(review.table)
    better = page.locator("td.better").count()
    worse = page.locator("td.worse").count()
    assert better + worse == int((review.table["change"].iloc[:-1] != 0).sum())
    # Every chart carries its sentence on how to read it.
    assert page.locator(".chart p.how").count() == 4


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_report_prints_within_the_page_width(report_file, offline_page, paper):
    path, _ = report_file
    page = offline_page
    width = int(PRINTABLE[paper])
    page.set_viewport_size({"width": width, "height": 1000})
    page.emulate_media(media="print")
    page.goto(path.as_uri())
    page.wait_for_function(_DRAWN, timeout=RENDER_TIMEOUT)
    boxes = page.evaluate(
        "() => [...document.querySelectorAll('.chart .js-plotly-plot')]"
        ".map(c => c.getBoundingClientRect()).map(r => [r.left, r.right])"
    )
    assert len(boxes) == 4
    for left, right in boxes:
        assert left >= 0 and right <= width, (paper, left, right, width)
        assert right - left == PRINT_WIDTH
    pdf = page.pdf(format=paper, print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages >= 3, pages  # the comparison and four charts do not fit on one sheet
