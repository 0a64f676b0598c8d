"""Benchmark of the Portfolio page: 50 teams of 2,000 items each (the seeded event log of
`bench.generate`, moved forward so that it ends today, with a deployment on each working day;
one csv source per team) in one SQLite store, rendered by Streamlit's AppTest.

    uv run python -m bench.portfolio

Target (issue 15): the page renders in under 3 seconds. Measured: the first render (every
team's numbers computed from the store) and a rerun (cached, as when a viewer sorts), each in
wall and CPU seconds of this process (the machine is shared: the CPU time is the steadier).
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
    import pandas as pd

    from bench.generate import AS_OF_DAY, TIMEZONE, WORKFLOW_TOML, generated_event_log

    workflow = WORKFLOW_TOML
    (folder / "teams").mkdir()
    # The page shows the weeks up to today: the log is moved forward by whole days to end
    # yesterday, so those weeks hold deliveries, blocked items and deployments.
    today = pd.Timestamp.now(tz=TIMEZONE).tz_localize(None).normalize()
    shift = today - pd.Timedelta(days=1) - pd.Timestamp(AS_OF_DAY)
    lines = []
    for n in range(TEAMS):
        log = generated_event_log(ITEMS, seed=100 + n)
        moved = pd.to_datetime(log["changed_at"], utc=True) + shift
        log["changed_at"] = moved.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        log.to_csv(folder / "teams" / f"t{n}.csv", index=False)
        days = pd.date_range(today - pd.Timedelta(days=7 * 30), today - pd.Timedelta(days=1),
                             freq="B", tz=TIMEZONE)  # fmt: skip
        pd.DataFrame({
            "deploy_id": [f"d{i}" for i in range(len(days))],
            "deployed_at": (days + pd.Timedelta(hours=15)).strftime("%Y-%m-%dT%H:%M:%S%z"),
            "environment": "production",
            "status": ["failure" if i % 9 == 4 else "success" for i in range(len(days))],
        }).to_csv(folder / "teams" / f"t{n}-deploys.csv", index=False)  # fmt: skip
        (folder / "teams" / f"t{n}.toml").write_text(
            workflow + f'\n[[sources]]\nname = "t{n}"\nkind = "csv"\nevents = "t{n}.csv"\n'
            f'deployments = "t{n}-deploys.csv"\n',
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
        began, cpu = time.perf_counter(), time.process_time()
        at.run()
        first, first_cpu = time.perf_counter() - began, time.process_time() - cpu
        assert not at.exception, [e.value for e in at.exception]
        rows = len(at.dataframe[0].value)
        began, cpu = time.perf_counter(), time.process_time()
        at.run()
        again, again_cpu = time.perf_counter() - began, time.process_time() - cpu
    return [
        {"name": f"portfolio page, {rows} teams x {ITEMS:,} items: first render",
         "value": round(first, 2), "cpu": round(first_cpu, 2), "unit": "s", "target": 3.0},
        {"name": "portfolio page: rerun (cached)", "value": round(again, 2),
         "cpu": round(again_cpu, 2), "unit": "s", "target": None},
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run():
        print(row)
