"""`flowdeck kaizen` (the pack) and `flowdeck explain` through the real CLI entry point."""

from __future__ import annotations

import io
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from connectors.demo import (
    DEMO_AS_OF,
    DEMO_LIMIT_CHANGE_DAY,
    DEMO_WORKFLOW_TOML,
    demo_config,
    demo_flow_data,
)
from connectors.store import open_store
from flowdeck.cli import main
from metrics.export_tables import export_tables
from metrics.kaizen import CHANGED, kaizen_review
from metrics.report import flow_report

CHANGE = f"{DEMO_LIMIT_CHANGE_DAY:%Y-%m-%d}"
HOSTILE_WHY = "<img src=x onerror=alert('why')> =cmd|' /C calc'!A0"


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_of(files: dict[str, bytes], name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(files[name]), keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("pack") / "review.zip"
    import contextlib

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["kaizen", "--demo", "--change", CHANGE, "--out", str(out)]) == 0
    return out, buffer.getvalue()


def test_the_demo_pack_holds_every_file(demo_pack):
    out, printed = demo_pack
    files = read_zip(out)
    cfg = demo_config()
    report = flow_report(demo_flow_data(), cfg.workflow, DEMO_AS_OF)
    exports = export_tables(report, cfg.workflow)
    assert set(files) == {*exports, "kaizen.csv", "wip_limits.csv", "flowdeck.toml",
                          "report.html"}  # fmt: skip
    # The export files are the whole range, as `flowdeck export` writes them.
    items = csv_of(files, "items.csv")
    assert len(items) == len(exports["items.csv"])
    daily = csv_of(files, "daily.csv")
    assert daily["date"].iloc[0] == f"{report.first_day:%Y-%m-%d}"
    assert daily["date"].iloc[-1] == f"{report.last_day:%Y-%m-%d}"
    # kaizen.csv is the metrics' comparison.
    review = kaizen_review(report, cfg.workflow, DEMO_LIMIT_CHANGE_DAY)
    kaizen = csv_of(files, "kaizen.csv")
    assert kaizen.columns.tolist() == ["metric", "before", "after", "change"]
    expected = review.table.set_index("metric")
    got = kaizen.set_index("metric")
    assert got.index.tolist() == expected.index.tolist()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # The demo's limit change, with its why, and the demo's workflow file.
    limits = csv_of(files, "wip_limits.csv")
    assert limits[["stage", "old_limit", "new_limit"]].values.tolist() == [["In Progress", 8, 4]]
    assert limits["why"].iloc[0].startswith("Kaizen:")
    assert tomllib.loads(files["flowdeck.toml"].decode()) == tomllib.loads(DEMO_WORKFLOW_TOML)
    page = files["report.html"].decode("utf-8")
    assert review.verdict.label == CHANGED
    assert review.verdict.text.replace("'", "&#x27;") in page
    assert "Hypothesis:</b> Kaizen: too many items in progress" in page
    assert page.count('class="chart"') == 4
    assert "<script src=" not in page  # plotly's JavaScript is inside, nothing to fetch
    # The terminal shows the verdict and the two windows.
    assert "Verdict: Cycle times changed (shorter)" in printed
    assert "Before  2025-08-25 to 2025-10-05 (42 days)" in printed


def test_a_change_after_as_of_writes_nothing(tmp_path, capsys):
    out = tmp_path / "late.zip"
    assert main(["kaizen", "--demo", "--change", "2030-01-01", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --change 2030-01-01 is after the as-of day") and "\n" not in err
    assert list(tmp_path.iterdir()) == []
    assert main(["kaizen", "--demo", "--change", "2025-13-01", "--out", str(out)]) == 1
    assert "--change '2025-13-01'" in capsys.readouterr().err
    assert main(["kaizen", "--demo", "--change", CHANGE, "--days", "0", "--out", str(out)]) == 1
    assert "at least 1 day" in capsys.readouterr().err
    assert main(["kaizen", "--demo", "--change", CHANGE, "--out", str(tmp_path / "x.txt")]) == 1
    assert "zip" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


HOSTILE_TOML = """
[workflow]
timezone = "UTC"
start = "<b>Dev</b>"
done = "Done"

[[workflow.stages]]
name = "Backlog"

[[workflow.stages]]
name = "<b>Dev</b>"
statuses = ["Dev"]
wip_limit = 2

[[workflow.stages]]
name = "Done"
"""


def write_events(path: Path, n: int = 12) -> None:
    rows = ["item_id,changed_at,status,title"]
    for i in range(n):
        day = pd.Timestamp("2024-02-20") + pd.Timedelta(days=i)
        title = "<script>alert('t')</script>" if i == 0 else f"Item {i}"
        rows += [
            f'K-{i},{day:%Y-%m-%d}T08:00:00Z,Backlog,"{title}"',
            f"K-{i},{day:%Y-%m-%d}T09:00:00Z,Dev,",
            f"K-{i},{day + pd.Timedelta(days=(9 if i == 0 else 1)):%Y-%m-%d}T17:00:00Z,Done,",
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_pack_from_csv_and_a_store_escapes_untrusted_text(tmp_path):
    config = tmp_path / "flowdeck.toml"
    config.write_text(HOSTILE_TOML, encoding="utf-8")
    events = tmp_path / "events.csv"
    write_events(events)
    args = ["kaizen", "--config", str(config), "--events", str(events), "--as-of", "2024-03-20",
            "--change", "2024-02-26", "--days", "7"]  # fmt: skip
    # No store: the limits come from the workflow file.
    out = tmp_path / "nostore.zip"
    assert main([*args, "--out", str(out)]) == 0
    files = read_zip(out)
    limits = csv_of(files, "wip_limits.csv")
    expected = [["<b>Dev</b>", 2, "flowdeck.toml"]]
    assert limits[["stage", "new_limit", "who"]].values.tolist() == expected
    assert files["flowdeck.toml"].decode() == HOSTILE_TOML
    # A store beside the workflow file: its history, with a hostile why.
    db = tmp_path / ".flowdeck" / "flowdeck.db"
    db.parent.mkdir()
    with open_store(db, create=True) as store:
        store.record_wip_limit_change("<b>Dev</b>", 3, 2, "2024-02-26T09:00:00Z", "lead",
                                      HOSTILE_WHY)  # fmt: skip
    out = tmp_path / "store.zip"
    assert main([*args, "--out", str(out)]) == 0
    files = read_zip(out)
    limits = csv_of(files, "wip_limits.csv")
    assert limits["why"].tolist() == [HOSTILE_WHY]  # no formula: it starts with "<"
    page = files["report.html"].decode("utf-8")
    for raw in ("<img src=x", "<b>Dev</b>", "<script>alert('t')"):
        assert raw not in page, raw
    assert "&lt;img src=x onerror=alert(&#x27;why&#x27;)&gt;" in page
    assert "&lt;b&gt;Dev&lt;/b&gt; WIP limit 3 → 2" in page
    # K-0 took 10 days, done after the change: beyond the old SLE (2 days), listed, escaped.
    assert "<td>&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;</td>" in page


def test_explain_an_item_with_backward_moves_and_a_reopen(tmp_path, capsys):
    events = tmp_path / "events.csv"
    events.write_text(
        "item_id,changed_at,status,title,event\n"
        'X-1,2024-03-01T09:00:00Z,Backlog,"Fix \x1b[31mred\x1b[0m =SUM(A1)",\n'
        "X-1,2024-03-02T09:00:00Z,Dev,,\n"
        "X-1,2024-03-03T09:00:00Z,Backlog,,\n"
        "X-1,2024-03-04T09:00:00Z,Dev,,\n"
        "X-1,2024-03-05T09:00:00Z,Done,,\n"
        "X-1,2024-03-05T12:00:00Z,,,blocked\n"
        "X-1,2024-03-06T09:00:00Z,Dev,,\n"
        "X-1,2024-03-06T10:00:00Z,,,unblocked\n"
        "X-1,2024-03-07T09:00:00Z,Done,,\n",
        encoding="utf-8",
    )
    config = tmp_path / "flowdeck.toml"
    config.write_text(HOSTILE_TOML.replace("<b>Dev</b>", "Dev"), encoding="utf-8")
    args = ["explain", "x-1", "--config", str(config), "--events", str(events),
            "--as-of", "2024-03-31"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out  # a title cannot drive the terminal
    lines = out.splitlines()
    assert lines[0].startswith("X-1  Fix")
    started = [line for line in lines if line.endswith("<= started_at")]
    done = [line for line in lines if line.endswith("<= done_at")]
    assert len(started) == 1 and started[0].lstrip().startswith("2024-03-04 09:00")
    assert len(done) == 1 and done[0].lstrip().startswith("2024-03-07 09:00")
    assert any("before the commitment point" in line for line in lines)
    assert any("reopened: moved back from done to 'Dev'" in line for line in lines)
    assert any("blocked (not in progress: no blocked days)" in line for line in lines)
    assert any("An earlier start does not count" in line for line in lines)
    assert any("Cycle time = 2024-03-07 - 2024-03-04 + 1 = 4 days" in line for line in lines)
    assert any("reopened 1 time(s)" in line for line in lines)
    # The blocked spell overlaps progress on 03-06 only (it began while the item was done).
    assert lines[-1] == ("In items.csv: cycle_time_days 4, age_days n/a, blocked_days 1, "
                         "flow_efficiency 1.0")  # fmt: skip
    assert main(["explain", "X-9", "--config", str(config), "--events", str(events)]) == 1
    assert "did you mean X-1?" in capsys.readouterr().err


def test_pack_of_a_workflow_without_limits_says_so(tmp_path):
    config = tmp_path / "flowdeck.toml"
    config.write_text(HOSTILE_TOML.replace("wip_limit = 2\n", ""), encoding="utf-8")
    events = tmp_path / "events.csv"
    write_events(events)
    out = tmp_path / "pack.zip"
    args = ["kaizen", "--config", str(config), "--events", str(events), "--as-of", "2024-03-20",
            "--change", "2024-02-26", "--days", "7", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    files = read_zip(out)
    assert csv_of(files, "wip_limits.csv").empty
    assert "No WIP limit in the workflow file and no change recorded." in files[
        "report.html"
    ].decode("utf-8")
