"""JQL text: the user's query combined with the sync's own clauses, and the projects it names.

Plain string work, no client and no pandas: `flowdeck init jira` uses it too.
"""

from __future__ import annotations

import re

_ORDER_BY = re.compile(r"\border\s+by\b.*$", re.IGNORECASE | re.DOTALL)
_PROJECT_CLAUSE = re.compile(
    r"\bproject\s*(?:=\s*(\"[^\"]+\"|'[^']+'|[\w-]+)|in\s*\(([^)]*)\))", re.IGNORECASE
)


def without_order_by(jql: str) -> str:
    return _ORDER_BY.sub("", jql).strip()


def compose_jql(base: str, *clauses: str, order_by: str | None = "key ASC") -> str:
    """`(base) AND clause...` in an order that updates during paging cannot change."""
    parts = [f"({without_order_by(base)})" if without_order_by(base) else ""]
    parts += [c for c in clauses if c]
    jql = " AND ".join(p for p in parts if p)
    return f"{jql} ORDER BY {order_by}" if order_by else jql


def projects_in_jql(jql: str) -> set[str]:
    """Project keys named by `project = X` / `project in (X, Y)` clauses of a query."""
    keys: set[str] = set()
    for single, many in _PROJECT_CLAUSE.findall(jql):
        for part in [single] if single else many.split(","):
            key = part.strip().strip("\"'").strip()
            if key:
                keys.add(key.upper())
    return keys
