"""Large workflows render: the Flow page with 30 in-progress stages (plotly refuses a vertical
spacing above 1 / (rows - 1)), the board with 199 columns (grouped in rows, each readable)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors.config import load_config
from connectors.store import open_store
from connectors.sync import sync_sources

testing = pytest.importorskip("streamlit.testing.v1")
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def big_team(folder: Path, stages: int) -> Path:
    names = [f"S{i:03d}" for i in range(stages)]
    config = folder / "flowdeck.toml"
    config.write_text(
        f"[workflow]\nstart = '{names[1]}'\ndone = '{names[-1]}'\n"
        + "".join(f"[[workflow.stages]]\nname = '{n}'\n" for n in names)
        + "[[sources]]\nname = 'big'\nkind = 'csv'\nevents = 'events.csv'\n",
        encoding="utf-8",
    )
    today = pd.Timestamp.now(tz="UTC").normalize()
    rows = []
    for item in range(60):
        # each item walks part of the flow, one stage a day, ending in the last days
        path = names[: 2 + (item * 7) % (stages - 1)]
        first = today - pd.Timedelta(days=len(path) + 2)
        for step, status in enumerate(path):
            when = first + pd.Timedelta(days=step, hours=9)
            rows.append((f"B-{item}", when.strftime("%Y-%m-%dT%H:%M:%SZ"), status, f"Item {item}"))
    pd.DataFrame(rows, columns=["item_id", "changed_at", "status", "title"]).to_csv(
        folder / "events.csv", index=False
    )
    db = folder / ".flowdeck" / "flowdeck.db"
    db.parent.mkdir()
    open_store(db, create=True).close()
    assert all(r.ok for r in sync_sources(load_config(config), db))
    return config


def column_rows(node, found: list[int]) -> list[int]:
    """How many columns each `st.columns` row on the page has."""
    for child in getattr(node, "children", {}).values():
        kids = list(getattr(child, "children", {}).values())
        if kids and all(getattr(k, "type", None) == "column" for k in kids):
            found.append(len(kids))
        column_rows(child, found)
    return found


@pytest.mark.parametrize("stages", [30, 199])
def test_flow_and_board_render_a_large_workflow(tmp_path, monkeypatch, stages):
    monkeypatch.chdir(tmp_path)
    config = big_team(tmp_path, stages)
    monkeypatch.setenv("FLOWDECK_CONFIG", str(config))
    monkeypatch.setenv("FLOWDECK_DB", str(tmp_path / ".flowdeck" / "flowdeck.db"))
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    monkeypatch.delenv("FLOWDECK_DEBUG", raising=False)

    at = testing.AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    widths = column_rows(at.main, [])
    assert widths and max(widths) <= 12, widths  # no row of 199 one-character columns
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert len(headings) == stages - 1  # every column before done is on the board
    at.switch_page("app_pages/flow.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.get("plotly_chart")
