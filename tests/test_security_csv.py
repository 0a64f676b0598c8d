"""Spreadsheet formulas never survive into a written CSV: cells and headers that start a formula,
including behind a carriage return that would split the row, checked by parsing the written bytes
back with Python's csv module (which, like a spreadsheet, ends a row at a bare CR)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from connectors.csv_files import write_csv
from dashboard.tables import csv_bytes
from flowdeck.cli import main

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_TITLES = [
    "\r=1+1",
    "\r\n@SUM(A1:A2)",
    "ok\r=2+2",
    "line one\r\nline two",
    '=HYPERLINK("http://evil","x")',
    "+cmd",
    "-1+2",
    "\t=3",
    "plain title",
]
HOSTILE_STAGE = '=HYPERLINK("http://evil","x")'


def parsed(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def assert_safe(rows: list[list[str]], width: int, count: int, where: str) -> None:
    assert len(rows) == count, f"{where}: {len(rows)} rows read back, {count} written"
    for number, row in enumerate(rows, start=1):
        assert len(row) == width, f"{where}: row {number} has {len(row)} cells: {row}"
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"{where}: row {number}: {cell!r}"


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"X-{i}" for i in range(len(HOSTILE_TITLES))],
            "title": HOSTILE_TITLES,
            "points": range(len(HOSTILE_TITLES)),
            HOSTILE_STAGE: ["-5"] * len(HOSTILE_TITLES),
        }
    )


def test_write_csv_keeps_each_row_whole_and_escapes_cells_and_headers(tmp_path):
    frame = hostile_frame()
    write_csv(frame, tmp_path / "x.csv")

    rows = parsed((tmp_path / "x.csv").read_bytes())

    assert_safe(rows, frame.shape[1], len(frame) + 1, "x.csv")
    assert rows[0][3] == "'" + HOSTILE_STAGE
    titles = [r[1] for r in rows[1:]]
    assert titles[:3] == ["'\n=1+1", "'\n@SUM(A1:A2)", "ok\n=2+2"]
    assert titles[3] == "line one\nline two"
    assert titles[-1] == "plain title"
    assert [r[0] for r in rows[1:]] == frame["item_id"].tolist()


def test_dashboard_download_is_escaped_the_same_way(tmp_path):
    frame = hostile_frame()
    write_csv(frame, tmp_path / "x.csv")

    raw = csv_bytes(frame)

    assert_safe(parsed(raw), frame.shape[1], len(frame) + 1, "download")
    assert parsed(raw) == parsed((tmp_path / "x.csv").read_bytes())


def test_export_of_hostile_stage_names_and_titles(tmp_path: Path, capsys):
    stages = ["Backlog", HOSTILE_STAGE, "-Review", "Done"]
    config = tmp_path / "flowdeck.toml"
    config.write_text(
        "[workflow]\n"
        f"start = '{stages[1]}'\ndone = 'Done'\n"
        + "".join(f"[[workflow.stages]]\nname = '{name}'\n" for name in stages),
        encoding="utf-8",
    )
    rows = [["item_id", "changed_at", "status", "title"]]
    for i, title in enumerate(HOSTILE_TITLES):
        rows.append([f"A-{i}", "2026-03-02T09:00:00Z", "Backlog", title])
        rows.append([f"A-{i}", "2026-03-03T09:00:00Z", stages[1], title])
        rows.append([f"A-{i}", "2026-03-04T09:00:00Z", "-Review", title])
        if i % 2:
            rows.append([f"A-{i}", "2026-03-06T09:00:00Z", "Done", title])
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    events = tmp_path / "events.csv"
    events.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    out = tmp_path / "out"

    code = main(["export", "--config", str(config), "--events", str(events), "--out", str(out),
                 "--as-of", "2026-03-10"])  # fmt: skip

    assert code == 0, capsys.readouterr().err
    written = sorted(out.glob("*.csv"))
    assert {p.name for p in written} >= {"daily.csv", "cfd.csv", "stage_times.csv",
                                          "actionable_agile.csv", "items.csv"}  # fmt: skip
    for path in written:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert_safe(parsed(path.read_bytes()), table.shape[1], len(table) + 1, path.name)
    for name in ("daily.csv", "cfd.csv", "stage_times.csv", "actionable_agile.csv"):
        header = parsed((out / name).read_bytes())[0]
        assert "'" + HOSTILE_STAGE in header or "'" + HOSTILE_STAGE in " ".join(header), name
    items = parsed((out / "items.csv").read_bytes())
    assert len(items) == len(HOSTILE_TITLES) + 1
