"""`python -m bench`: the performance benchmark of issue 10, measured on this machine.

Generates seeded event logs of 10,000, 100,000 and 1,000,000 items (`bench/generate.py`) and
times, each in its own process: the CSV import, all metrics from the loaded frames, the whole
`flowdeck export` process, the store write and read, and the dashboard's first render and
filter rerun. Writes the table to `bench/results.md`.

    uv run python -m bench              # every size; rewrites bench/results.md
    uv run python -m bench --quick      # 10,000 items only; prints, writes nothing
    uv run python -m bench --sizes 10000,100000 --out /tmp/results.md
    uv run python -m bench --repeat 5   # each work with a target 5 times (default 3)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.sizes import DASHBOARD_SIZES, SIZES, markdown, run_sizes, target_verdicts

RESULTS = Path(__file__).resolve().parent / "results.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 items only, write nothing")
    parser.add_argument("--sizes", help="comma-separated item counts (default 10k, 100k, 1M)")
    parser.add_argument("--no-dashboard", action="store_true", help="skip the AppTest timings")
    parser.add_argument("--out", type=Path, help=f"where to write the table (default {RESULTS})")
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs of each work with a target, median reported (default 3; 1 with --quick)",
    )
    args = parser.parse_args(argv)
    sizes = (10_000,) if args.quick else SIZES
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    out = args.out or (None if args.quick or args.sizes else RESULTS)
    dashboard = () if args.no_dashboard else DASHBOARD_SIZES
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-") as tmp:
        repeat = args.repeat or (1 if args.quick else 3)
        results = run_sizes(Path(tmp), sizes, dashboard, repeat=repeat)
    text = markdown(results)
    print(text)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    return 0 if all(ok for _, ok in target_verdicts(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
