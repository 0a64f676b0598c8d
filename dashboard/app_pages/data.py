"""Data: where the numbers come from. Sources and their last sync, "Sync now", counts, and the
data-quality report to read before trusting any chart."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from connectors.base import Progress
from connectors.sync import SourceResult
from dashboard import data
from dashboard.filters import Filters
from dashboard.view import current_view
from dashboard.widgets import code, md, no_data, table
from metrics.quality import data_quality

QUALITY_LABELS = {
    "unmapped_status": "unmapped status",
    "backward_moves": "backward moves",
    "skipped_stages": "skipped stages",
    "straight_to_done": "zero-time items (straight to done)",
    "discarded_then_delivered": "discarded, then delivered",
    "mass_moves": "board clean-ups (mass moves)",
}


class _StatusProgress:
    """One source's live line inside the `st.status` box."""

    def __init__(self, name: str, kind: str) -> None:
        self._label = f"{name} ({kind})"
        self._line = st.empty()
        self._line.text(f"{self._label}: starting")

    def update(self, fetched: int, total: int | None = None, note: str = "") -> None:
        of = f" of {total}" if total else ""
        self._line.text(f"{self._label}: {fetched}{of} fetched {note}".rstrip())


class StatusReporter:
    """`connectors.sync.SyncReporter` drawing into the current `st.status` container."""

    def start(self, name: str, kind: str) -> Progress:
        return _StatusProgress(name, kind)

    def finish(self, result: SourceResult) -> None:
        if result.ok:
            st.text(result.line())
        else:
            st.error(md(result.line()))


def show_outcome(runner) -> None:
    outcome = runner.last if runner is not None else None
    if outcome is None:
        return
    when = outcome.finished_at.tz_convert(current_view().loaded.workflow.timezone)
    how = "from the Sync now button" if outcome.trigger == "button" else "on schedule"
    offset = f"{when:%z}"
    head = (
        f"Last sync by this dashboard {how}, finished {when:%Y-%m-%d %H:%M} "
        f"{offset[:3]}:{offset[3:]}"
    )
    if outcome.ok:
        st.success(f"{head}: " + "; ".join(md(line) for line in outcome.lines()))
    else:
        st.error(f"{head}: " + "; ".join(md(line) for line in outcome.lines()))


def sync_controls(loaded) -> None:
    setup = loaded.setup
    config = loaded.config
    runner = data.sync_runner(setup)
    if not config.sources:
        stored = loaded.sources is not None and not loaded.sources.empty
        if stored:
            # The store's sources came from `flowdeck import`: there is data, just nothing
            # this page can sync.
            st.info(
                "The sources below were loaded with `flowdeck import`: import a newer file "
                "to refresh them. To sync from here, add a `[[sources]]` table to "
                f"{code(setup.config_path)} (see docs/store.md)."
            )
        else:
            st.info(
                f"**No sources in** {code(setup.config_path)}**.** Add a `[[sources]]` table "
                "(see docs/store.md) to sync from here, or load a file with "
                "`flowdeck import FILE --source NAME`."
            )
        return
    if setup.read_only:
        every = f" It syncs every {setup.sync_every:g} minutes." if setup.sync_every else ""
        st.info(
            "This dashboard is shared on the network, so it is read-only: no Sync now here "
            f"(run `flowdeck sync` on the server).{every}"
        )
        show_outcome(runner)
        return
    names = [s.name for s in config.sources]
    cols = st.columns([2, 1, 1])
    choice = cols[0].selectbox("Source to sync", ["All sources", *names], key="sync_source")
    full = cols[1].checkbox("Full re-sync", key="sync_full", help="Ignore the cursors.")
    clicked = cols[2].button("Sync now", key="sync_now", type="primary", icon=":material/sync:")
    if setup.sync_every:
        st.caption(
            f"This dashboard also syncs every {setup.sync_every:g} minutes in the background."
        )
    if clicked:
        if runner.busy:
            st.warning("A sync is already running; its result will show here when it ends.")
        else:
            with st.status("Syncing…", expanded=True) as status:
                outcome = runner.run(
                    StatusReporter(), names=None if choice == "All sources" else [choice],
                    full=full, trigger="button",
                )  # fmt: skip
                if outcome is None:
                    status.update(label="A sync is already running", state="error")
                elif outcome.ok:
                    status.update(label="Sync finished", state="complete", expanded=False)
                else:
                    for line in outcome.lines():
                        st.error(md(line))
                    status.update(label="Sync failed", state="error")
            if outcome is not None and outcome.ok:
                st.rerun()  # show the new data everywhere (its data version changed)
    show_outcome(runner)


def sources_table(loaded) -> None:
    sources = loaded.sources
    if sources is None or sources.empty:
        st.caption("The store has no sources yet.")
        return
    shown = sources.drop(columns=["cursor"])  # times shown in the workflow's zone by `table`
    for _, row in sources[sources["last_result"].eq("failed")].iterrows():
        st.error(f"Source **{md(row['name'])}** failed its last sync: {md(row['last_error'])}")
    table(shown, "sources", key="sources")


def quality_table(loaded, report) -> pd.DataFrame:
    rows = data_quality(report, loaded.workflow)
    rows = rows.assign(check=rows["check"].map(QUALITY_LABELS).fillna(rows["check"]))
    extra = loaded.source_quality
    if extra is not None and len(extra):
        more = pd.DataFrame(
            {
                "check": extra["key"].str.replace("_", " "),
                "count": extra["count"].astype("int64"),
                "detail": "reported by source " + extra["source"].astype(str),
            }
        )
        rows = pd.concat([rows, more], ignore_index=True)
    return rows


view = current_view()
loaded = view.loaded
st.title("Data")
setup = loaded.setup
if loaded.demo:
    st.caption("The built-in demo data: a simulated team (nothing to sync).")
else:
    st.caption(f"Workflow file {code(setup.config_path)} · store {code(setup.db_path)}")
    sync_controls(loaded)
    st.subheader("Sources")
    sources_table(loaded)

st.subheader("Counts")
frames = loaded.data
tiles = st.columns(4)
tiles[0].metric("Items", f"{len(frames.items)}")
tiles[1].metric("Events", f"{len(frames.events)}")
tiles[2].metric("Deployments", f"{len(frames.deployments)}")
tiles[3].metric("Sources", f"{frames.items['source'].nunique()}")

st.subheader("Data quality")
if loaded.empty:
    no_data(
        "No events yet, so nothing to check.",
        "Sync a source (above) or run `flowdeck import FILE --source NAME`.",
    )
else:
    # Quality describes the whole history, whatever the sidebar's filters.
    full = data.report(loaded, Filters())
    quality = quality_table(loaded, full)
    st.caption(
        "Read this before trusting the charts: an unmapped status leaves items where they were; "
        "backward moves and skipped stages are normal in small numbers; zero-time items usually "
        "mean the start of the workflow is mapped wrong."
    )
    table(quality, "data_quality", key="quality")
