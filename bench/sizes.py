"""The benchmark at 10,000, 100,000 and 1,000,000 items: each work in its own process, the
growth exponent between sizes, and the table of `bench/results.md`."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000, 1_000_000)
DASHBOARD_SIZES = (10_000, 100_000, 1_000_000)

# (work, row label, target at 100k, target at 1M): seconds; the peak-memory targets below.
ROWS = (
    ("import", "CSV import (read_event_log)", None, None),
    ("metrics", "all metrics from loaded frames", 1.5, 15.0),
    ("export", "`flowdeck export`, whole process", 3.0, 30.0),
    ("store_write", "store write (one transaction)", None, None),
    ("store_read", "store read (read_flow_data)", 0.5, 3.0),
    ("dashboard", "dashboard first render (AppTest)", None, None),
    ("dashboard_rerun", "dashboard filter rerun (AppTest)", 1.0, 8.0),
)
EXPORT_PEAK_MIB = {100_000: 1024, 1_000_000: 4096}
LINEAR_SLACK = 1.2
# Works with a target or a growth limit run this many times (fresh processes) and report their
# median: on this shared 2-core machine one run of the same work varies by a third.
REPEATED = ("metrics", "export", "store_read", "dashboard")


@dataclass
class Results:
    sizes: tuple[int, ...]
    rows: dict[int, int] = field(default_factory=dict)
    """Event rows per size."""
    measured: dict[tuple[str, int], dict] = field(default_factory=dict)


def prepare(folder: Path, n_items: int) -> int:
    """Write the generated event log and the workflow into `folder`; return the row count."""
    from bench.generate import WORKFLOW_TOML, generated_event_log

    folder.mkdir(parents=True, exist_ok=True)
    log = generated_event_log(n_items)
    log.to_csv(folder / "events.csv", index=False)
    (folder / "flowdeck.toml").write_text(WORKFLOW_TOML, encoding="utf-8")
    return len(log)


def measure(work: str, folder: Path) -> dict:
    """Run one work of `bench.worker` in a fresh process and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", work, str(folder)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise RuntimeError(f"bench.worker {work} {folder.name} failed: {tail[0]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_run(outs: list[dict]) -> dict:
    """The run of median wall time among `outs` (the lower middle one of an even count), with
    every run's wall time in `runs` (sorted) when there was more than one."""
    ranked = sorted(outs, key=lambda out: out["seconds"])
    out = dict(ranked[(len(ranked) - 1) // 2])
    if len(ranked) > 1:
        out["runs"] = [r["seconds"] for r in ranked]
    return out


def run_sizes(base: Path, sizes, dashboard_sizes, say=print, repeat: int = 1) -> Results:
    results = Results(sizes=tuple(sizes))
    for n in sizes:
        folder = base / f"items-{n}"
        results.rows[n] = prepare(folder, n)
        say(f"{n:>9,} items, {results.rows[n]:,} event rows")
        works = ["import", "metrics", "export", "store_write", "store_read"]
        if n in dashboard_sizes:
            works.append("dashboard")
        for work in works:
            outs = [measure(work, folder) for _ in range(repeat if work in REPEATED else 1)]
            results.measured[(work, n)] = median_run(outs)
            if work == "dashboard":
                reruns = [
                    {
                        "seconds": out["rerun_seconds"],
                        "cpu_seconds": out["rerun_cpu_seconds"],
                        "peak_mib": out["peak_mib"],
                    }
                    for out in outs
                ]
                results.measured[("dashboard_rerun", n)] = median_run(reruns)
            out = results.measured[(work, n)]
            say(f"    {work:12} {out['seconds']:8.2f} s  {out['peak_mib']:8.0f} MiB")
    return results


def growth(t_small: float, t_big: float, n_small: int, n_big: int) -> float:
    """The exponent k of t ~ n^k between two sizes (1.0 is linear)."""
    return math.log(t_big / t_small) / math.log(n_big / n_small)


def _cell(out: dict | None) -> str:
    if out is None:
        return "-"
    cpu = f" (CPU {out['cpu_seconds']:.2f})" if "cpu_seconds" in out else ""
    spread = ""
    if "runs" in out:
        spread = f", median of {len(out['runs'])}: {out['runs'][0]:.2f}-{out['runs'][-1]:.2f} s"
    return f"{out['seconds']:.2f} s{cpu}, {out['peak_mib']:.0f} MiB{spread}"


def target_verdicts(results: Results) -> list[tuple[str, bool]]:
    """(what, met) for every target of issue 10 that these results can decide."""
    verdicts = []
    for work, label, t100k, t1m in ROWS:
        for n, target in ((100_000, t100k), (1_000_000, t1m)):
            out = results.measured.get((work, n))
            if target is not None and out is not None:
                verdicts.append((f"{label} at {n:,} items < {target} s", out["seconds"] < target))
    for n, limit in EXPORT_PEAK_MIB.items():
        out = results.measured.get(("export", n))
        if out is not None:
            verdicts.append(
                (f"export peak memory at {n:,} items < {limit} MiB", out["peak_mib"] < limit)
            )
    for work, label, *_ in ROWS:
        small, big = results.measured.get((work, 100_000)), results.measured.get((work, 1_000_000))
        if work in ("metrics", "export") and small and big:
            ratio = big["seconds"] / (10 * small["seconds"])
            verdicts.append((f"{label}: 100k -> 1M within {LINEAR_SLACK}x of linear "
                             f"(measured {ratio:.2f}x)", ratio <= LINEAR_SLACK))  # fmt: skip
    return verdicts


def _repeats(results: Results) -> str:
    counts = {len(out.get("runs", [0])) for out in results.measured.values()}
    return "once" if counts <= {1} else f"{max(counts)} times"


def markdown(results: Results, notes: list[str] = ()) -> str:
    sizes = results.sizes
    head = ["work"] + [f"{n:,} items" for n in sizes]
    pairs = list(zip(sizes, sizes[1:], strict=False))
    head += [f"growth {a // 1000:,}k -> {b // 1000:,}k" for a, b in pairs]
    head += ["target 100k / 1M"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `uv run python -m bench` on "
        f"{os.cpu_count()} cores ({platform.machine()}, Python {platform.python_version()}), "
        f"load average {os.getloadavg()[0]:.1f} at the end (the machine is shared).",
        "",
        "Generated event logs (`bench/generate.py`, seed 7): "
        + ", ".join(f"{n:,} items = {results.rows[n]:,} rows" for n in sizes)
        + ". Each cell: wall time of the work, its CPU seconds (user + system, all threads; on "
        "a shared machine the wall time also counts waiting for a core) and the peak resident "
        "memory of its process (`resource.getrusage`; the export's is the `flowdeck export` "
        "process, start-up and imports included). The metrics, the export, the store read "
        f"and the dashboard ran {_repeats(results)}, each in a fresh process: their cell is "
        "the run of median wall time, then the range of all runs' wall times. Growth: the "
        "exponent k of wall time ~ items^k (1.0 is linear).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * len(head),
    ]
    for work, label, t100k, t1m in ROWS:
        cells = [_cell(results.measured.get((work, n))) for n in sizes]
        grow = []
        for a, b in pairs:
            sa, sb = results.measured.get((work, a)), results.measured.get((work, b))
            grow.append(f"{growth(sa['seconds'], sb['seconds'], a, b):.2f}" if sa and sb else "-")
        target = " / ".join("-" if t is None else f"< {t} s" for t in (t100k, t1m))
        lines.append("| " + " | ".join([label, *cells, *grow, target]) + " |")
    parts = {}
    for n in sizes:
        for name, seconds in results.measured.get(("metrics", n), {}).get("parts", {}).items():
            parts.setdefault(name, {})[n] = seconds
    if parts:
        lines += ["", "Metrics one by one (seconds, same processes as the metrics row):", ""]
        lines += ["| metric | " + " | ".join(f"{n:,}" for n in sizes) + " |"]
        lines += ["|" + " --- |" * (len(sizes) + 1)]
        for name, by_size in parts.items():
            cells = [f"{by_size[n]:.2f}" if n in by_size else "-" for n in sizes]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    verdicts = target_verdicts(results)
    if verdicts:
        lines += ["", "Targets (issue 10):", ""]
        lines += [f"- {'met' if ok else 'MISSED'}: {what}" for what, ok in verdicts]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
