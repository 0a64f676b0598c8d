"""`python -m bench`: the speed and memory targets, measured on this machine.

Each module in this package with a `run() -> list[dict]` contributes rows (name, value, unit,
target); the runner prints them and exits non-zero when a target is missed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main() -> int:
    only = set(sys.argv[1:])
    missed = 0
    print(f"{'benchmark':58} {'value':>10}  {'unit':6} target")
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or (only and info.name not in only):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        for row in module.run():
            target = row.get("target")
            ok = target is None or row["value"] <= target
            missed += not ok
            flag = "" if ok else "  MISSED"
            shown = "-" if target is None else f"<= {target}"
            print(f"{row['name']:58} {row['value']:>10.3f}  {row['unit']:6} {shown}{flag}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
