"""Tables as the pages show and download them (no Streamlit): display frames with readable
columns, and CSV bytes formula-escaped exactly like `flowdeck export` writes them."""

from __future__ import annotations

import pandas as pd

from connectors.csv_files import escape_formula


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a table, timestamps ISO 8601 in UTC, every text cell that a spreadsheet
    would run as a formula prefixed with `'` (spec section 4)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = (
                out[col]
                .dt.tz_convert("UTC")
                .map(lambda t: "" if pd.isna(t) else t.isoformat().replace("+00:00", "Z"))
            )
    return escape_formula(out).to_csv(index=False).encode("utf-8")


def items_table(items: pd.DataFrame) -> pd.DataFrame:
    """The report's items as a table: id first, the columns a reader compares with the board."""
    cols = [
        "title", "type", "stage", "labels", "started_at", "done_at", "cycle_time_days",
        "age_days", "pace_band", "blocked_days", "blocked_now", "flow_efficiency", "url",
    ]  # fmt: skip
    return items[cols].rename_axis("item_id").reset_index()
