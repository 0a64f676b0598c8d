"""Benchmark of the Portfolio page: 50 teams of 2,000 items each (the seeded event log of
`bench.generate`, one csv source per team) in one SQLite store, rendered by Streamlit's AppTest.

    uv run python -m bench.portfolio

Target (issue 15): the page renders in under 3 seconds. Measured: the first render (every
team's numbers computed from the store) and a rerun (cached, as when a viewer sorts).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

TEAMS = 50
ITEMS = 2_000
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def _portfolio(folder: Path) -> Path:
    from bench.generate import WORKFLOW_TOML, generated_event_log

    workflow = WORKFLOW_TOML
    (folder / "teams").mkdir()
    lines = []
    for n in range(TEAMS):
        generated_event_log(ITEMS, seed=100 + n).to_csv(folder / "teams" / f"t{n}.csv", index=False)
        (folder / "teams" / f"t{n}.toml").write_text(
            workflow + f'\n[[sources]]\nname = "t{n}"\nkind = "csv"\nevents = "t{n}.csv"\n',
            encoding="utf-8",
        )
        lines.append(f'[[teams]]\nname = "team-{n}"\nworkflow = "teams/t{n}.toml"\n')
    path = folder / "portfolio.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run() -> list[dict]:
    from streamlit.testing.v1 import AppTest

    from connectors.portfolio import load_portfolio
    from connectors.sync import sync_portfolio

    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-portfolio-") as tmp:
        folder = Path(tmp)
        path = _portfolio(folder)
        db = folder / "flowdeck.db"
        results = sync_portfolio(load_portfolio(path), db)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        os.environ["FLOWDECK_CONFIG"] = str(path)
        os.environ["FLOWDECK_DB"] = str(db)
        at = AppTest.from_file(str(APP), default_timeout=600)
        at.switch_page("app_pages/portfolio.py")
        began = time.perf_counter()
        at.run()
        first = time.perf_counter() - began
        assert not at.exception, [e.value for e in at.exception]
        rows = len(at.dataframe[0].value)
        began = time.perf_counter()
        at.run()
        again = time.perf_counter() - began
    return [
        {"name": f"portfolio page, {rows} teams x {ITEMS:,} items: first render",
         "value": round(first, 2), "unit": "s", "target": 3.0},
        {"name": "portfolio page: rerun (cached)", "value": round(again, 2), "unit": "s",
         "target": None},
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run():
        print(row)
