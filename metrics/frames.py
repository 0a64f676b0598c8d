"""The canonical frames every source produces and every metric reads.

Connectors normalize at the edge: raw source statuses (never stages) with UTC times. Only the
workflow code maps statuses to stages.

- items: one row per work item.
  `item_id` (str, namespaced by source in the store, e.g. `jira:ABC-7`), `title`, `type`,
  `labels` (`;`-joined), `url`, `source` (the source's name, "" for a plain CSV),
  `lines_changed` (nullable Int64: additions + deletions of a pull request, else missing).
- events: one row per event. `item_id`, `changed_at` (datetime64[ns, UTC]),
  `event` (`status`, `blocked` or `unblocked`), `status` (raw source status; for a `blocked`
  event the reason when the source gives one, else ""; "" for `unblocked`), `seq` (int64: the
  order of events of one item at the same instant).
- deployments: one row per deployment. `deploy_id`, `deployed_at` (UTC), `environment`,
  `status` (`success` or `failure`), `version`, `source`.
- shipped: which items a deployment shipped, when the source knows. `deploy_id`, `item_id`.
- pull_requests: one row per pull request the source knows (spec section 8), keyed by the work
  item it belongs to. `item_id`, `created_at`, `ready_at` (a draft became ready for review),
  `first_commit_at` (its earliest commit's authored time), `first_review_at` (the first review
  by someone other than the author), `merged_at`; all UTC, NaT where unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ITEM_COLUMNS = ["item_id", "title", "type", "labels", "url", "source", "lines_changed"]
EVENT_COLUMNS = ["item_id", "changed_at", "event", "status", "seq"]
DEPLOYMENT_COLUMNS = ["deploy_id", "deployed_at", "environment", "status", "version", "source"]
SHIPPED_COLUMNS = ["deploy_id", "item_id"]
PULL_REQUEST_INPUT_COLUMNS = [
    "item_id", "created_at", "ready_at", "first_commit_at", "first_review_at", "merged_at",
]  # fmt: skip
EVENT_KINDS = ("status", "blocked", "unblocked")

_UTC = "datetime64[ns, UTC]"


def empty_items() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_COLUMNS})
    return frame.astype({"lines_changed": "Int64"})


def empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series(dtype=object),
            "changed_at": pd.Series(dtype=_UTC),
            "event": pd.Series(dtype=object),
            "status": pd.Series(dtype=object),
            "seq": pd.Series(dtype="int64"),
        }
    )


def empty_deployments() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in DEPLOYMENT_COLUMNS})
    return frame.astype({"deployed_at": _UTC})


def empty_shipped() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SHIPPED_COLUMNS})


def empty_pull_requests() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=_UTC) for c in PULL_REQUEST_INPUT_COLUMNS})
    return frame.astype({"item_id": object})


def conform_pull_requests(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a pull-requests frame every canonical column (times converted to UTC, NaT where
    missing) in canonical order."""
    out = frame.copy()
    for col in PULL_REQUEST_INPUT_COLUMNS[1:]:
        known = col in out
        out[col] = (
            pd.to_datetime(out[col], utc=True).astype(_UTC)
            if known
            else pd.Series(pd.NaT, index=out.index, dtype=_UTC)
        )
    out["item_id"] = out["item_id"].astype(str)
    return out[PULL_REQUEST_INPUT_COLUMNS].reset_index(drop=True)


def conform_items(frame: pd.DataFrame) -> pd.DataFrame:
    """Give an items frame every canonical column (missing text as "") in canonical order."""
    out = frame.copy()
    for col in ITEM_COLUMNS:
        if col not in out:
            out[col] = pd.NA if col == "lines_changed" else ""
    out = out[ITEM_COLUMNS]
    text = [c for c in ITEM_COLUMNS if c != "lines_changed"]
    out[text] = out[text].fillna("").astype(str)
    out["lines_changed"] = pd.to_numeric(out["lines_changed"], errors="coerce").astype("Int64")
    return out.reset_index(drop=True)


def conform_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Give an events frame the canonical columns and dtypes (times converted to UTC)."""
    out = frame.copy()
    if "seq" not in out:
        out["seq"] = range(len(out))
    if "event" not in out:
        out["event"] = "status"
    out = out[EVENT_COLUMNS]
    out["item_id"] = out["item_id"].astype(str)
    out["status"] = out["status"].fillna("").astype(str)
    out["event"] = out["event"].fillna("status").astype(str)
    out["changed_at"] = pd.to_datetime(out["changed_at"], utc=True).astype(_UTC)
    out["seq"] = out["seq"].astype("int64")
    return out.reset_index(drop=True)


def conform_deployments(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    defaults = {"environment": "production", "status": "success", "version": "", "source": ""}
    for col, default in defaults.items():
        if col not in out:
            out[col] = default
        out[col] = out[col].fillna(default).astype(str)
    out = out[DEPLOYMENT_COLUMNS]
    out["deploy_id"] = out["deploy_id"].astype(str)
    out["deployed_at"] = pd.to_datetime(out["deployed_at"], utc=True).astype(_UTC)
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class FlowData:
    """Everything the metrics read: the canonical frames."""

    items: pd.DataFrame = field(default_factory=empty_items)
    events: pd.DataFrame = field(default_factory=empty_events)
    deployments: pd.DataFrame = field(default_factory=empty_deployments)
    shipped: pd.DataFrame = field(default_factory=empty_shipped)
    pull_requests: pd.DataFrame = field(default_factory=empty_pull_requests)
