"""Delivery: how often and how safely finished work reaches users (the four DORA metrics)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, dora, pull_request_charts
from dashboard.filters import within_days
from dashboard.view import current_view
from dashboard.widgets import chart, fmt, no_data, table
from metrics.pull_requests import WAIT_NAMES, WAITS, slowest, weekly_waits

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
st.title("Delivery")

if loaded.data.deployments.empty:
    no_data(
        "No deployments yet, so no delivery metrics.",
        "Add a deployments file to a CSV source (docs/store.md), `deployments = ...` to a GitHub "
        "source, or use a Jira source's released fix versions; then sync.",
    )
    st.stop()

report = data.report(loaded, view.filters)
tz = workflow.timezone
first, last = report.first_day, report.last_day
deployments = within_days(report.deployments, "deployed_at", tz, first, last)
shipped = within_days(report.shipped_items, "deployed_at", tz, first, last)
if not deployments["production"].any():
    no_data(
        f"No production deployment between {first:%d %b %Y} and {last:%d %b %Y}.",
        "Widen the date range in the sidebar. Only deployments to the environment named "
        "'production' count.",
    )
    st.stop()

values = dict(zip(report.summary["metric"], report.summary["value"], strict=True))
ratings = [
    (dora.deploy_frequency(values.get("deploy_frequency_per_week")),
     fmt(values.get("deploy_frequency_per_week"), 2, " per week")),
    (dora.lead_time(values.get("lead_time_for_changes_hours_median")),
     fmt(values.get("lead_time_for_changes_hours_median"), 1, " hours")),
    (dora.change_failure_rate(values.get("change_failure_rate")),
     fmt(values.get("change_failure_rate", float("nan")) * 100, 0, "%")),
    (dora.time_to_restore(values.get("time_to_restore_hours_median")),
     fmt(values.get("time_to_restore_hours_median"), 1, " hours")),
]  # fmt: skip
st.caption(
    f"Production deployments from {first:%d %b %Y} to {last:%d %b %Y}. Bands after the DORA "
    "State of DevOps reports (see docs/dashboard.md for the boundaries)."
)
tiles = st.columns(4)
for tile, (rating, shown) in zip(tiles, ratings, strict=True):
    with tile:
        label = rating.metric[0].upper() + rating.metric[1:]
        median = " (median)" if "time" in rating.metric else ""
        st.metric(label + median, shown)
        colour = dora.BAND_COLOURS[rating.band]
        st.markdown(f":{colour}-badge[{rating.band or 'not enough data'}]")
        st.caption(rating.meaning)

more = st.columns(4)
more[0].metric("Average batch size", fmt(values.get("batch_size_avg"), 1, " items"))
more[1].metric("Deployment days per week", fmt(values.get("deployment_days_per_week"), 2))
more[2].metric(
    "Waiting to ship", fmt(values.get("waiting_to_ship"), 0),
    help="Delivered items no production deployment has shipped yet.",
)  # fmt: skip
rework = values.get("rework_rate", float("nan"))
with more[3]:
    st.metric("Rework rate", fmt(rework * 100, 0, "%"))
    kinds = ", ".join(workflow.rework_types) or "none"
    st.caption(
        "The share of successful production deployments that shipped only rework "
        f"({kinds}): work spent fixing what was already delivered (DORA 2024). "
        "Set the types with `[delivery] rework_types`."
    )

left, right = st.columns(2)
with left:
    chart(charts.deploys_per_week(deployments, tz), key="deploys")
    st.caption("Successful and failed production deployments each week.")
with right:
    lines = None
    known = loaded.data.items.set_index("item_id")["lines_changed"]
    if known.notna().any() and len(shipped):
        per_item = shipped.assign(lines=shipped["item_id"].map(known))
        lines = per_item.groupby("deploy_id")["lines"].sum(min_count=1)
    chart(charts.batch_sizes(deployments, lines), key="batches")
    st.caption(
        "Items each successful deployment shipped (and pull-request lines changed, where "
        "known): smaller batches mean less risk per deployment."
    )
left, right = st.columns(2)
with left:
    chart(charts.lead_times(shipped), key="lead_times")
    st.caption("Days from done to the production deployment that shipped each item.")
with right:
    chart(charts.restore_times(deployments), key="restore")
    st.caption("Each failed production deployment, and the hours until the next successful one.")

prs = within_days(report.pull_requests, "merged_at", tz, first, last)
st.subheader("Pull requests")
if prs.empty:
    st.caption(
        "No merged pull request in the date range: a GitHub source reads them (docs/github.md)."
    )
else:
    medians = prs[list(WAITS)].median()
    tiles = st.columns(4)
    for tile, wait in zip(tiles, WAITS, strict=True):
        tile.metric(f"Median {WAIT_NAMES[wait]}", fmt(medians[wait], 1, " h"))
    worst = medians.idxmax()
    st.caption(
        f"{len(prs)} pull requests merged. Coding is first commit to ready for review, waiting "
        "for review runs to the first review by someone else, in review to the merge, waiting "
        f"to deploy to the production deployment. The longest wait is {WAIT_NAMES[worst]}: "
        "that is where shortening helps most."
    )
    left, right = st.columns(2)
    with left:
        chart(pull_request_charts.weekly_waits(weekly_waits(prs, tz)), key="pr_waits")
    with right:
        chart(pull_request_charts.size_against_time(prs), key="pr_size")
        st.caption(
            "Each merged pull request by size and time from opening to merge: when the big ones "
            "sit highest, smaller batches would flow faster."
        )
    with st.expander("The slowest pull requests"):
        table(slowest(prs, 15), "slowest_pull_requests", key="slowest_prs")

with st.expander(f"Deployments ({len(deployments)})"):
    shown = deployments.assign(
        deployed_at=deployments["deployed_at"].dt.tz_convert(tz).dt.tz_localize(None)
    )
    table(shown, "deployments", key="deployments")
with st.expander(f"Shipped items ({len(shipped)})"):
    table(pd.DataFrame(shipped), "shipped_items", key="shipped")
