"""Delivery metrics: deploy frequency, batch size, lead time for changes, change failure rate,
time to restore (spec section 3), over production deployments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.days import local_days

PRODUCTION = "production"

DEPLOY_TABLE_COLUMNS = [
    "deploy_id", "deployed_at", "environment", "status", "version", "source",
    "production", "batch_size", "explicit_items", "restore_hours",
]  # fmt: skip
SHIPPED_ITEM_COLUMNS = [
    "item_id", "deploy_id", "deployed_at", "lead_time_hours", "start_to_production_hours",
]  # fmt: skip


def is_production(deployments: pd.DataFrame) -> pd.Series:
    """Production is the environment named `production` (any case, outer spaces ignored)."""
    return deployments["environment"].str.strip().str.casefold().eq(PRODUCTION)


def shipped_items(
    deployments: pd.DataFrame, shipped: pd.DataFrame, facts: pd.DataFrame
) -> pd.DataFrame:
    """Which successful production deployment shipped each delivered item.

    An item named in `shipped` belongs to the first successful production deployment naming it
    at or after its `done_at` (else the first naming it). Other delivered items belong to the
    first successful production deployment at or after their `done_at`, among the deployments
    that name no items; items delivered after the last one are "waiting to ship" (absent).
    Columns: `SHIPPED_ITEM_COLUMNS` (hours are floats). Empty input -> empty frame.
    """
    ok = deployments[is_production(deployments) & deployments["status"].eq("success")]
    ok = ok.sort_values("deployed_at", kind="stable")
    done = facts.loc[facts["done_at"].notna(), ["started_at", "done_at"]]
    done = done.rename_axis("item_id").reset_index()
    if ok.empty or done.empty:
        return _empty_shipped_items()
    named = shipped[shipped["deploy_id"].isin(ok["deploy_id"])]
    explicit = named.merge(ok[["deploy_id", "deployed_at"]], on="deploy_id").merge(
        done, on="item_id", how="inner"
    )
    explicit = explicit.assign(after=explicit["deployed_at"] >= explicit["done_at"])
    explicit = explicit.sort_values(
        ["item_id", "after", "deployed_at"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("item_id")

    by_time = ok[~ok["deploy_id"].isin(named["deploy_id"])]
    rest = done[~done["item_id"].isin(explicit["item_id"])].sort_values("done_at")
    if not by_time.empty and not rest.empty:
        matched = pd.merge_asof(
            rest,
            by_time[["deploy_id", "deployed_at"]],
            left_on="done_at",
            right_on="deployed_at",
            direction="forward",
            allow_exact_matches=True,
        ).dropna(subset=["deploy_id"])
    else:
        matched = explicit.iloc[0:0]
    both = pd.concat([explicit, matched], ignore_index=True)
    if both.empty:
        return _empty_shipped_items()
    out = pd.DataFrame(
        {
            "item_id": both["item_id"],
            "deploy_id": both["deploy_id"],
            "deployed_at": both["deployed_at"],
            "lead_time_hours": (both["deployed_at"] - both["done_at"]).dt.total_seconds() / 3600,
            "start_to_production_hours": (
                both["deployed_at"] - both["started_at"]
            ).dt.total_seconds()
            / 3600,
        }
    )
    return out.sort_values(["deployed_at", "item_id"], ignore_index=True).round(
        {"lead_time_hours": 4, "start_to_production_hours": 4}
    )


def _empty_shipped_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series(dtype=object),
            "deploy_id": pd.Series(dtype=object),
            "deployed_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "lead_time_hours": pd.Series(dtype="float64"),
            "start_to_production_hours": pd.Series(dtype="float64"),
        }
    )


def deployment_table(
    deployments: pd.DataFrame, shipped: pd.DataFrame, items_shipped: pd.DataFrame
) -> pd.DataFrame:
    """One row per deployment, by time: the deployment's columns plus `production` (bool),
    `batch_size` (items shipped, for successful production deployments; else missing),
    `explicit_items` (the source named the items), `restore_hours` (for a failed production
    deployment: hours until the next successful one; missing if none yet).
    Empty input -> empty frame with `DEPLOY_TABLE_COLUMNS`."""
    table = deployments.sort_values(["deployed_at", "deploy_id"], kind="stable").reset_index(
        drop=True
    )
    production = is_production(table)
    success = table["status"].eq("success")
    table["production"] = production.to_numpy()
    counts = items_shipped.groupby("deploy_id").size()
    batch = table["deploy_id"].map(counts).fillna(0).astype("Int64")
    table["batch_size"] = batch.where(production & success)
    table["explicit_items"] = table["deploy_id"].isin(shipped["deploy_id"])
    prod = table[production]
    # For each production deployment, the first successful one strictly after it.
    next_ok = prod["deployed_at"].where(prod["status"].eq("success")).shift(-1).bfill()
    hours = (next_ok - prod["deployed_at"]).dt.total_seconds() / 3600
    restore = hours.where(prod["status"].eq("failure")).round(4)
    table["restore_hours"] = restore.reindex(table.index)
    return table[DEPLOY_TABLE_COLUMNS]


REWORK_COLUMNS = ["deployed_at", "shipped_items", "rework_items", "is_rework"]


def deployment_rework(
    table: pd.DataFrame,
    items_shipped: pd.DataFrame,
    item_types: pd.Series,
    rework_types: tuple[str, ...],
) -> pd.DataFrame:
    """Per successful production deployment that shipped at least one known item: how many
    items it shipped, how many of them are of a rework type, and `is_rework` (all of them are).

    `table` from `deployment_table`, `items_shipped` from `shipped_items`, `item_types` the item
    type by item_id; types compare case-insensitively, outer spaces ignored. Index `deploy_id`,
    columns `REWORK_COLUMNS`, by time. Deployments that shipped no known item are absent (the
    rework rate counts them neither way). Empty input -> empty frame with these columns.
    """
    ok = table[table["production"] & table["status"].eq("success")]
    wanted = {t.strip().casefold() for t in rework_types}
    shipped = items_shipped[items_shipped["deploy_id"].isin(ok["deploy_id"])]
    kind = shipped["item_id"].map(item_types).fillna("").astype(str).str.strip().str.casefold()
    per = (
        shipped.assign(rework=kind.isin(wanted).to_numpy())
        .groupby("deploy_id", sort=False)
        .agg(shipped_items=("item_id", "size"), rework_items=("rework", "sum"))
    )
    per["rework_items"] = per["rework_items"].astype("int64")
    per["is_rework"] = per["rework_items"].eq(per["shipped_items"])
    when = ok.drop_duplicates("deploy_id").set_index("deploy_id")["deployed_at"]
    per.insert(0, "deployed_at", when.reindex(per.index))
    return per.sort_values("deployed_at", kind="stable")[REWORK_COLUMNS]


def rework_rate(
    rework: pd.DataFrame, timezone: str, first: pd.Timestamp, last: pd.Timestamp
) -> float:
    """The share of the deployments of `deployment_rework` on the local days [first, last]
    whose shipped items are all rework (DORA 2024 rework rate). NaN when none is counted."""
    day = local_days(rework["deployed_at"], timezone)
    counted = rework[(day >= first) & (day <= last)]
    return float(counted["is_rework"].mean()) if len(counted) else np.nan


def delivery_summary(
    table: pd.DataFrame,
    items_shipped: pd.DataFrame,
    timezone: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> dict[str, float]:
    """Rates over the local days [first, last]: `deploy_frequency_per_week` (successful
    production deployments per week), `deployment_days_per_week`, `batch_size_avg`,
    `change_failure_rate` (failed / all production), `lead_time_for_changes_hours_median`,
    `time_to_restore_hours_median`. NaN where there is nothing to average."""
    weeks = ((last - first).days + 1) / 7
    prod = table[table["production"]]
    day = local_days(prod["deployed_at"], timezone)
    prod = prod[(day >= first) & (day <= last)]
    ok = prod[prod["status"].eq("success")]
    ok_days = local_days(ok["deployed_at"], timezone).nunique()
    in_window = items_shipped[items_shipped["deploy_id"].isin(ok["deploy_id"])]
    restore = prod["restore_hours"].dropna()
    return {
        "deploy_frequency_per_week": len(ok) / weeks if weeks > 0 else np.nan,
        "deployment_days_per_week": ok_days / weeks if weeks > 0 else np.nan,
        "batch_size_avg": float(ok["batch_size"].astype("float64").mean()) if len(ok) else np.nan,
        "change_failure_rate": float(prod["status"].eq("failure").mean()) if len(prod) else np.nan,
        "lead_time_for_changes_hours_median": float(in_window["lead_time_hours"].median())
        if len(in_window)
        else np.nan,
        "time_to_restore_hours_median": float(restore.median()) if len(restore) else np.nan,
    }
