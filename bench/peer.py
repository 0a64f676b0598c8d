"""The peer: jira-agile-metrics 0.24's core calculators on the same generated event log.

Runs in a separate, throw-away virtual environment (never the project's), e.g.

    uv venv /tmp/jam
    VIRTUAL_ENV=/tmp/jam uv pip install jira-agile-metrics==0.24 pytest "pandas<2" "numpy<2"
    uv run python -c "from bench.generate import generated_event_log as g; \\
        g(50_000).to_csv('/tmp/events.csv', index=False)"
    /tmp/jam/bin/python bench/peer.py /tmp/events.csv

It turns each item into the Jira issue its events describe (status changes and the Flagged field
for blocked spells, through the package's own fake Jira of its test suite), then times the
calculators' `run()` in-process: cycle time, CFD, scatterplot, histogram, percentiles,
throughput, WIP, ageing WIP and net flow (their `write()`, which draws charts, is not timed).
Prints one JSON line: seconds, issues, the calculators timed and each one's seconds.

The package pins nothing: its fake Jira imports pytest, and its calculators need pandas 1
(pandas 2 refuses their `astype("timedelta64[D]")`, pandas 3 their `fillna(method=...)`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import time
from collections import defaultdict

from jira_agile_metrics.calculators.ageingwip import AgeingWIPChartCalculator
from jira_agile_metrics.calculators.cfd import CFDCalculator
from jira_agile_metrics.calculators.cycletime import CycleTimeCalculator
from jira_agile_metrics.calculators.histogram import HistogramCalculator
from jira_agile_metrics.calculators.netflow import NetFlowChartCalculator
from jira_agile_metrics.calculators.percentiles import PercentilesCalculator
from jira_agile_metrics.calculators.scatterplot import ScatterplotCalculator
from jira_agile_metrics.calculators.throughput import ThroughputCalculator
from jira_agile_metrics.calculators.wip import WIPChartCalculator
from jira_agile_metrics.conftest import FauxChange, FauxFieldValue, FauxIssue, FauxJIRA
from jira_agile_metrics.querymanager import QueryManager

CALCULATORS = (
    CycleTimeCalculator, CFDCalculator, ScatterplotCalculator, HistogramCalculator,
    PercentilesCalculator, ThroughputCalculator, WIPChartCalculator, AgeingWIPChartCalculator,
    NetFlowChartCalculator,
)  # fmt: skip
# The generator's workflow (bench/generate.py) in the peer's terms.
CYCLE = [
    {"name": "Backlog", "statuses": ["Backlog", "Open"], "type": "backlog"},
    {"name": "Ready", "statuses": ["Ready"], "type": "accepted"},
    {"name": "In Progress", "statuses": ["In Progress"], "type": "accepted"},
    {"name": "Review", "statuses": ["Review"], "type": "accepted"},
    {"name": "Testing", "statuses": ["Testing"], "type": "accepted"},
    {"name": "Ready to Ship", "statuses": ["Ready to Ship"], "type": "accepted"},
    {"name": "Done", "statuses": ["Done", "Won't Do"], "type": "complete"},
]
FIELDS = [
    {"id": "summary", "name": "Summary"},
    {"id": "issuetype", "name": "Issue type"},
    {"id": "status", "name": "Status"},
    {"id": "resolution", "name": "Resolution"},
    {"id": "created", "name": "Created date"},
    {"id": "customfield_100", "name": "Flagged"},
]


def settings() -> dict:
    return {
        "attributes": {}, "known_values": {}, "max_results": None, "verbose": False,
        "cycle": CYCLE, "query_attribute": None, "queries": [{"jql": "(all)", "value": None}],
        "backlog_column": "Backlog", "committed_column": "In Progress",
        "final_column": "Ready to Ship", "done_column": "Done",
        "quantiles": [0.5, 0.85, 0.95],
        "cycle_time_data": [], "cfd_data": [], "scatterplot_data": [], "histogram_data": [],
        "percentiles_data": [], "throughput_data": [],
        "cfd_window": None, "histogram_window": None, "scatterplot_window": None,
        "throughput_frequency": "1W-MON", "throughput_window": None,
        "wip_frequency": "1W-MON", "wip_window": None, "net_flow_frequency": "1W-MON",
        "net_flow_window": None,
        "cfd_chart": None, "scatterplot_chart": None, "histogram_chart": None,
        "throughput_chart": None, "wip_chart": None, "ageing_wip_chart": None,
        "net_flow_chart": None,
    }  # fmt: skip


def issues_from_log(path: str) -> list:
    rows = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["item_id"]].append(row)
    issues = []
    for key, events in rows.items():
        created = events[0]["changed_at"].replace("T", " ").rstrip("Z")
        changes, status, title, kind = [], None, "", "Story"
        for e in events:
            when = e["changed_at"].replace("T", " ").rstrip("Z")
            title, kind = e["title"] or title, e["type"] or kind
            if e["event"] == "status":
                if status is not None:
                    changes.append(FauxChange(when, [("status", status, e["status"])]))
                status = e["status"]
            elif e["event"] == "blocked":
                changes.append(FauxChange(when, [("Flagged", None, "Impediment")]))
            else:
                changes.append(FauxChange(when, [("Flagged", "Impediment", "")]))
        done = status in ("Done", "Won't Do")
        issues.append(
            FauxIssue(
                key, changes=changes, summary=title, issuetype=FauxFieldValue(kind, kind),
                status=FauxFieldValue(status, status),
                resolution=FauxFieldValue("Done", "Done") if done else None,
                resolutiondate=events[-1]["changed_at"] if done else None,
                created=created, customfield_100=None,
            )
        )  # fmt: skip
    return issues


def main(path: str) -> int:
    issues = issues_from_log(path)
    config = settings()
    query_manager = QueryManager(FauxJIRA(fields=FIELDS, issues=issues), config)
    results: dict = {}
    seconds: dict[str, float] = {}
    now = dt.datetime(2025, 6, 30, 23, 0)
    began, cpu = time.perf_counter(), time.process_time()
    for calculator in CALCULATORS:
        one = time.perf_counter()
        instance = calculator(query_manager, config, results)
        results[calculator] = (
            instance.run(now=now) if calculator is CycleTimeCalculator else (instance.run())
        )
        seconds[calculator.__name__] = round(time.perf_counter() - one, 3)
    total, cpu = time.perf_counter() - began, time.process_time() - cpu
    cycle = results[CycleTimeCalculator]
    print(json.dumps({"seconds": total, "cpu_seconds": cpu, "issues": len(issues),
                      "rows": len(cycle), "calculators": seconds}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
