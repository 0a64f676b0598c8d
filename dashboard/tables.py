"""Tables as the pages show and download them (no Streamlit): display frames with readable
columns, and CSV bytes formula-escaped exactly like `flowdeck export` writes them."""

from __future__ import annotations

import pandas as pd

from connectors.csv_files import escape_formula


def plain_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as the export writes them: `yes`/`no` for booleans (not True/False), an empty cell
    for a missing text (never the word None)."""
    out = frame.copy()
    for col in out.columns:
        column = out[col]
        if pd.api.types.is_bool_dtype(column):
            out[col] = column.map({True: "yes", False: "no"}).astype(object)
        elif column.dtype == object or pd.api.types.is_string_dtype(column):
            if column.map(lambda v: isinstance(v, bool)).any():
                column = column.map(lambda v: {True: "yes", False: "no"}.get(v, v)
                                    if isinstance(v, bool) else v)  # fmt: skip
            out[col] = column.where(column.notna(), "")
        elif pd.api.types.is_numeric_dtype(column) and column.isna().any():
            # A grid draws a missing number as the word None: show those cells empty, the
            # others as the export writes them.
            text = column.astype(object).map(_number_text)
            out[col] = text.where(column.notna(), "")
    return out


def _number_text(value: object) -> object:
    if value is None or pd.isna(value):
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.4g}"


def on_screen(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """A table for the screen: `plain_values`, and every timestamp in the workflow's time zone
    with its offset (`2026-07-03 11:21 +01:00`): one zone on every page. The downloads keep UTC,
    as the export files do (`csv_bytes`)."""
    out = plain_values(frame)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            local = out[col].dt.tz_convert(timezone)
            text = local.dt.strftime("%Y-%m-%d %H:%M %z").str.replace(
                r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True
            )
            out[col] = text.where(local.notna(), "")
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a table, timestamps ISO 8601 in UTC, `yes`/`no` for booleans, every text
    cell that a spreadsheet would run as a formula prefixed with `'` (spec section 4)."""
    out = plain_values(frame)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = (
                out[col]
                .dt.tz_convert("UTC")
                .map(lambda t: "" if pd.isna(t) else t.isoformat().replace("+00:00", "Z"))
            )
    return escape_formula(out).to_csv(index=False).encode("utf-8")


def items_table(items: pd.DataFrame) -> pd.DataFrame:
    """The report's items as a table: the columns and names of the export's `items.csv`
    (without `cycle_time_hours`: one unit per number), plus `pace_band`, the board's words."""
    cols = [
        "title", "type", "stage", "started_at", "done_at", "cycle_time_days", "age_days",
        "blocked_days", "flow_efficiency", "pace", "pace_band", "blocked_now", "labels", "url",
        "likely_done_by_85",
    ]  # fmt: skip
    out = items[cols].rename_axis("item_id").reset_index()
    day = out["likely_done_by_85"]
    out["likely_done_by_85"] = day.dt.strftime("%Y-%m-%d").where(day.notna(), "")
    return out
