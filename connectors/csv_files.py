"""The CSV formats of spec section 1 (event log, stage dates, deployments), and CSV writing.

Files are read whole with pandas (vectorized, no loop per row) and validated before anything is
returned, so a bad file is refused whole with its line number and the reason. Accepted: a UTF-8
BOM, `,` or `;` as the separator, column names in any case, and (for the event log) other column
names through a mapping such as `{"item_id": "issue_key"}`.

Line numbers count the header as line 1 and assume no line breaks inside quoted cells.
"""

from __future__ import annotations

import csv
import mmap
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.atomic_write import replace_folder_files, write_atomically
from connectors.csv_text import ESCAPED_START, LINE_BREAK, arrow_csv_parts
from metrics.days import NAT_NS
from metrics.errors import InputError
from metrics.forecast import read_features
from metrics.frames import (
    FlowData,
    conform_deployments,
    conform_events,
    conform_items,
    empty_deployments,
    empty_shipped,
)
from metrics.workflow import Workflow

EVENT_REQUIRED = ("item_id", "changed_at", "status")
EVENT_OPTIONAL = ("title", "type", "labels", "url", "event")
DEPLOY_REQUIRED = ("deploy_id", "deployed_at")
DEPLOY_OPTIONAL = ("environment", "status", "version", "items")
STAGE_FIXED = ("id", "link", "name", "type", "blocked days")
#: Columns only an event log has: a file with one of them is not a stage-date file.
EVENT_HINTS = frozenset({"item_id", "changed_at", "status", "event", "from_status", "to_status"})
#: Dates outside these years are typing errors (and beyond what pandas represents).
MIN_YEAR, MAX_YEAR = 1900, 2200

_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
#: Limits that keep a hostile or broken file from hanging the reader or filling the memory.
MAX_COLUMNS = 2000
MAX_LINE_BYTES = 1_000_000
SCAN_BLOCK = 1 << 22
#: Titles longer than this are cut on reading (and counted as `truncated_titles`).
TITLE_MAX = 2000
TRUNCATED_MARK = "… [cut]"
_LINE_BREAK = re.compile(LINE_BREAK)
_ESCAPED_START = ESCAPED_START


def parse_mapping(text: str) -> dict[str, str]:
    """`item_id=issue_key,changed_at=date` -> {"item_id": "issue_key", ...}."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        canonical, sep, column = part.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise InputError(f"--map {text!r}: expected NAME=COLUMN pairs separated by commas")
        mapping[canonical.strip().lower()] = column.strip()
    valid = EVENT_REQUIRED + EVENT_OPTIONAL
    for key in mapping:
        if key not in valid:
            raise InputError(f"--map: '{key}' is not an event-log column; expected one of {valid}")
    return mapping


def _read_raw(path: Path | str) -> pd.DataFrame:
    """The file as text cells, column names stripped (case kept).

    Refused with one line naming the file and line: a header wider than `MAX_COLUMNS` or with a
    column twice, a line longer than `MAX_LINE_BYTES`, a row whose field count differs from the
    header's. pandas would otherwise take the first field of every row as an index when the
    first row has one field too many, and fill a short row with empty cells.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    header, header_bytes = _read_header(path)
    sep = ";" if header.count(";") > header.count(",") else ","
    names = next(csv.reader([header], delimiter=sep), [])
    _check_header(names, path)
    _check_line_lengths(path, header_bytes)
    options = {"sep": sep, "dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    try:
        # pyarrow's reader takes a quarter of the C engine's time on a large file, and it
        # refuses every ragged row and every row longer than its block. Whatever it refuses is
        # scanned for the line and the reason; what the scan finds no fault in (bad UTF-8...)
        # the C engine reads again, so a bad file is refused with a message naming the line.
        frame = _read_arrow(path, sep, names)
    except Exception:
        frame = None
    if frame is None:
        _scan_records(path, sep.encode(), len(names), header_bytes)
        try:
            frame = pd.read_csv(path, skipinitialspace=False, index_col=False, **options)
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a UTF-8 text file") from None
        except (pd.errors.ParserError, ValueError) as exc:
            message = str(exc).strip().splitlines()[-1]
            raise InputError(f"{path}: cannot be read as CSV: {message}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_arrow(path: Path, sep: str, names: list[str]) -> pd.DataFrame:
    """Every cell as text, exactly as written. Arrow's reader is asked for text columns itself:
    pandas 2.2's `read_csv(engine="pyarrow", dtype=str)` lets Arrow infer the types first and
    writes them back as text, so an id `001` became `1` and a time lost its `T` and `Z`."""
    from pyarrow import csv as arrow_csv

    table = arrow_csv.read_csv(
        path,
        # The header was read and checked already; naming the columns here is what lets every
        # one of them be declared text.
        read_options=arrow_csv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=arrow_csv.ParseOptions(delimiter=sep),
        convert_options=arrow_csv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas()


def _read_header(path: Path) -> tuple[str, int]:
    """The first line, decoded, and its length in bytes; at most `MAX_LINE_BYTES` are read."""
    with path.open("rb") as handle:
        raw = handle.readline(MAX_LINE_BYTES + 1)
    if len(raw) > MAX_LINE_BYTES:
        raise InputError(
            f"{path}: line 1: the header is longer than {MAX_LINE_BYTES:,} bytes; this is not a "
            "CSV file Flowdeck reads"
        )
    try:
        header = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    if not header.strip():
        raise InputError(f"{path}: the file is empty (expected a header row)")
    return header.rstrip("\r\n"), len(raw)


def _check_header(names: list[str], path: Path) -> None:
    if len(names) > MAX_COLUMNS:
        raise InputError(
            f"{path}: line 1: {len(names)} columns; Flowdeck reads files of at most "
            f"{MAX_COLUMNS} columns (is the separator right?)"
        )
    counts = Counter(name.strip().lower() for name in names)
    dupes = sorted(name for name, count in counts.items() if count > 1)
    if dupes:
        raise InputError(f"{path}: line 1: column {dupes[0]!r} appears more than once")


def _check_line_lengths(path: Path, start: int) -> None:
    """Raise for the first line longer than `MAX_LINE_BYTES`, before any reader holds it whole.

    Such a line contains a whole window of half that size without a line break, so only those
    windows are looked at: one `find` (memchr) per window of the mapped file, a few
    milliseconds for a million rows, and no copy of the file in memory."""
    half = MAX_LINE_BYTES // 2
    size = path.stat().st_size
    if size - start <= half:
        return
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        for window in range(start, size, half):
            if m.find(b"\n", window, window + half) >= 0:
                continue
            begin = m.rfind(b"\n", start, window) + 1 or start
            end = m.find(b"\n", window)
            if (end if end >= 0 else size) - begin > MAX_LINE_BYTES:
                _too_long(path, _line_at(path, begin))


def _line_at(path: Path, position: int) -> int:
    """The line number of the byte at `position` (only on the way to an error)."""
    count = 1
    with path.open("rb") as handle:
        while position > 0 and (block := handle.read(min(SCAN_BLOCK, position))):
            count += block.count(b"\n")
            position -= len(block)
    return count


def _scan_records(path: Path, sep: bytes, width: int, start: int) -> None:
    """Raise for the first record whose field count is not `width`, naming its line. Reads the
    file in blocks with numpy: memory is bounded by the block size, time is linear, and a
    quoted line break or separator (quote parity from the count of `"` before it) does not end
    a record or a field."""
    line = 2  # the physical line number at the start of the current block
    record_line = 2  # where the current record began
    record_start = start  # its byte offset
    fields = 1  # fields of the current record so far
    quotes = 0  # quote characters seen since the header
    offset = start
    with path.open("rb") as handle:
        handle.seek(start)
        while block := handle.read(SCAN_BLOCK):
            data = np.frombuffer(block, dtype=np.uint8)
            newlines = np.flatnonzero(data == 10)
            quote_at = np.flatnonzero(data == 34)
            seps = np.flatnonzero(data == sep[0])
            seps = seps[(quotes + np.searchsorted(quote_at, seps)) % 2 == 0]
            outside = (quotes + np.searchsorted(quote_at, newlines)) % 2 == 0
            record_ends = newlines[outside]
            if len(record_ends):
                before = np.searchsorted(seps, record_ends)
                counts = np.diff(np.concatenate(([0], before))) + 1
                counts[0] += fields - 1
                begins = np.concatenate(([record_start - offset], record_ends[:-1] + 1))
                # A blank line (nothing, or a lone CR) is skipped by the readers: not a record.
                length = record_ends - begins
                blank = (length == 0) | ((length == 1) & (data[record_ends - 1] == 13))
                blank[0] &= fields == 1
                bad = np.flatnonzero((counts != width) & ~blank)
                if len(bad):
                    first = int(bad[0])
                    at = record_line
                    if first > 0:
                        at = line + int(np.searchsorted(newlines, begins[first]))
                    _ragged(path, at, int(counts[first]), width)
                record_start = offset + int(record_ends[-1]) + 1
                record_line = line + int(np.searchsorted(newlines, record_ends[-1])) + 1
                fields = 1 + len(seps) - int(before[-1])
            else:
                fields += len(seps)
            quotes += len(quote_at)
            line += len(newlines)
            offset += len(data)
    if offset > record_start:
        with path.open("rb") as handle:
            handle.seek(record_start)
            rest = handle.read(offset - record_start)
        if rest.strip(b"\r") and fields != width:
            _ragged(path, record_line, fields, width)


def _too_long(path: Path, line: int) -> None:
    raise InputError(
        f"{path}: line {line}: longer than {MAX_LINE_BYTES:,} bytes; no field of a work item is "
        "that long (is a quote left open?)"
    )


def _ragged(path: Path, line: int, fields: int, width: int) -> None:
    hint = (
        " (a comma or semicolon inside a cell that is not quoted?)"
        if fields > width
        else " (a missing separator, or a line break inside a cell that is not quoted?)"
    )
    raise InputError(f"{path}: line {line}: {fields} fields, the header has {width}{hint}")


def _rename(frame: pd.DataFrame, mapping: Mapping[str, str] | None, path: Path) -> pd.DataFrame:
    lower = {c.lower(): c for c in frame.columns}
    renames: dict[str, str] = {}
    for canonical, column in (mapping or {}).items():
        if column.lower() not in lower:
            raise InputError(
                f"{path}: mapped column '{column}' (for {canonical}) is not in the header"
            )
        renames[lower[column.lower()]] = canonical
    for low, original in lower.items():
        if original not in renames and low not in renames.values():
            renames[original] = low
    return frame.rename(columns=renames)


def _require(frame: pd.DataFrame, required: tuple[str, ...], path: Path) -> None:
    for col in required:
        if col not in frame.columns:
            found = ", ".join(frame.columns)
            raise InputError(
                f"{path}: line 1: missing required column '{col}' (found: {found}); "
                "rename it or map it with --map"
            )


def _first_bad(mask: pd.Series) -> int:
    """File line number (header = 1) of the first True in `mask`."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2


def _years_outside(text: pd.Series) -> pd.Series:
    """The year each text starts with, where it is outside MIN_YEAR..MAX_YEAR (or the text
    starts with no year); NaN elsewhere. Float, same index.

    Almost every cell starts with four digits and a non-digit: those are checked by comparing
    the four characters as text (same order as the numbers), without a regular-expression
    group per cell, which cost most of the read of a large log. The rest (signed or longer
    years, out-of-range ones) take the general pattern.
    """
    plain = text.str.match(r"\d{4}(?:\D|$)").to_numpy(dtype=bool, na_value=False)
    lead = text.str.slice(0, 4)
    inside = (
        plain
        & (lead >= f"{MIN_YEAR:04d}").to_numpy(dtype=bool)
        & (lead <= f"{MAX_YEAR:04d}").to_numpy(dtype=bool)
    )
    year = pd.Series(np.nan, index=text.index, dtype="float64")
    if not inside.all():
        rest = text[~inside].str.extract(r"^([+-]?\d{4,})", expand=False)
        year[~inside] = pd.to_numeric(rest, errors="coerce").to_numpy(dtype="float64")
    return year


def parse_times(
    values: pd.Series,
    timezone: str,
    path: Path,
    column: str,
    lines: np.ndarray | None = None,
) -> pd.Series:
    """ISO 8601 texts -> UTC timestamps. Texts without an offset are local times in `timezone`.

    A local time that does not exist (spring-forward gap) moves forward to the first valid
    instant; an ambiguous one (the repeated hour in autumn) is read as the earlier instant.
    `lines`: the file line of each value, when values are not one per row in file order.
    """

    fast = _utc_seconds_texts(values)
    if fast is not None:
        ok = fast != NAT_NS
        if ok.all():
            return pd.Series(_utc_series(fast), index=values.index)
        rest = ~ok
        at = np.arange(len(values)) + 2 if lines is None else np.asarray(lines)
        slow = _parse_times_general(values[rest], timezone, path, column, at[rest])
        fast[rest] = slow.to_numpy(dtype="datetime64[ns]").view("int64")
        return pd.Series(_utc_series(fast), index=values.index)
    return _parse_times_general(values, timezone, path, column, lines)


_FAST_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_FAST_RANGE = (  # seconds since the epoch: MIN_YEAR to the end of MAX_YEAR
    pd.Timestamp(f"{MIN_YEAR:04d}-01-01").value // 10**9,
    pd.Timestamp(f"{MAX_YEAR + 1:04d}-01-01").value // 10**9,
)


def _utc_series(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def _utc_seconds_texts(values: pd.Series) -> np.ndarray | None:
    """int64 UTC nanoseconds of each text written exactly `YYYY-MM-DDTHH:MM:SSZ` with a year in
    range (what GitHub, Jira and our own exports write), `NAT_NS` for every other text; the
    general parser takes those. Arrow parses the common form in C++, without the
    pattern matches, the strip and pandas' format inference per cell; None when the
    column is not text."""
    try:
        texts = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    exact = pc.equal(pc.binary_length(texts), 20)
    parsed = pc.strptime(texts, format=_FAST_FORMAT, unit="s", error_is_null=True)
    # Arrow's parser carries overflowing fields over (February 30 -> March 1, second 60 -> the
    # next minute), which the general parser refuses: the day and second written must be the
    # ones parsed.
    for field, begin in ((pc.day, 8), (pc.second, 17)):
        digits = pc.utf8_slice_codeunits(texts, begin, begin + 2)
        digits = pc.if_else(pc.utf8_is_digit(digits), digits, "-1")
        exact = pc.and_kleene(exact, pc.equal(field(parsed), pc.cast(digits, pa.int64())))
    seconds = pc.if_else(exact, parsed.cast(pa.int64()), None)
    valid = seconds.is_valid().to_numpy(zero_copy_only=False)
    whole = seconds.fill_null(0).to_numpy()
    # In seconds, before scaling: a year like 1600 is beyond int64 nanoseconds.
    valid &= (whole >= _FAST_RANGE[0]) & (whole < _FAST_RANGE[1])
    out = np.where(valid, whole, 0) * 10**9
    out[~valid] = NAT_NS
    return out


def _parse_times_general(
    values: pd.Series,
    timezone: str,
    path: Path,
    column: str,
    lines: np.ndarray | None = None,
) -> pd.Series:
    def line_of(mask: pd.Series) -> int:
        if lines is None:
            return _first_bad(mask)
        return int(lines[np.flatnonzero(mask.to_numpy())[0]])

    text = values.str.strip()
    empty = text.eq("")
    if empty.any():
        raise InputError(f"{path}: line {line_of(empty)}: empty {column}")
    year = _years_outside(text)
    outside = year.lt(MIN_YEAR) | year.gt(MAX_YEAR)
    if outside.any():
        raise InputError(
            f"{path}: line {line_of(outside)}: {column} {text[outside].iloc[0]!r} is in the year "
            f"{int(year[outside].iloc[0])}; Flowdeck reads dates from {MIN_YEAR} to {MAX_YEAR}"
        )
    has_offset = text.str.contains(_OFFSET)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], utc=True, format="ISO8601", errors="coerce")
        out[has_offset] = parsed
    naive = ~has_offset
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # pragma: no cover - defensive
            parsed = parsed.dt.tz_convert("UTC")
        else:
            parsed = parsed.dt.tz_localize(
                timezone,
                ambiguous=np.ones(len(parsed), dtype=bool),
                nonexistent="shift_forward",
            ).dt.tz_convert("UTC")
        out[naive] = parsed
    bad = out.isna()
    if bad.any():
        line = line_of(bad)
        raise InputError(
            f"{path}: line {line}: {column} {text[bad].iloc[0]!r} is not an ISO 8601 date-time"
        )
    return out


def read_event_log(
    path: Path | str, timezone: str = "UTC", mapping: Mapping[str, str] | None = None
) -> FlowData:
    """Read an event-log CSV (spec 1.1) into items and events (ids as in the file)."""
    path = Path(path)
    frame = _rename(_read_raw(path), mapping, path)
    _require(frame, EVENT_REQUIRED, path)
    if frame.empty:
        raise InputError(f"{path}: the file has a header but no rows")
    ids = frame["item_id"].str.strip()
    if ids.eq("").any():
        raise InputError(f"{path}: line {_first_bad(ids.eq(''))}: empty item_id")
    kind = (
        frame["event"].str.strip().str.lower().replace("", "status")
        if "event" in frame
        else pd.Series("status", index=frame.index)
    )
    bad_kind = ~kind.isin(["status", "blocked", "unblocked"])
    if bad_kind.any():
        raise InputError(
            f"{path}: line {_first_bad(bad_kind)}: event {frame['event'][bad_kind].iloc[0]!r} "
            "is not one of status, blocked, unblocked"
        )
    status = frame["status"].str.strip()
    no_status = kind.eq("status") & status.eq("")
    if no_status.any():
        raise InputError(f"{path}: line {_first_bad(no_status)}: empty status on a status event")
    changed_at = parse_times(frame["changed_at"], timezone, path, "changed_at")
    events = pd.DataFrame(
        {"item_id": ids, "changed_at": changed_at, "event": kind, "status": status}
    )
    events["seq"] = np.arange(len(events), dtype="int64")
    # One factorization of the ids serves both the repeat check and the item attributes.
    item_codes, item_ids = pd.factorize(ids)
    events = _without_repeats(events, item_codes)
    items = _items_from_rows(frame, item_codes, np.asarray(item_ids))
    return FlowData(items=items, events=conform_events(events))


def _without_repeats(events: pd.DataFrame, item_codes: np.ndarray) -> pd.DataFrame:
    """Exact duplicate rows are ignored (spec 1.1); the first copy keeps its file position.

    Only rows sharing an item and an instant can repeat. Those are found first by one hash key
    per row mixing the item's code and the instant (a collision only adds a candidate), and only
    the candidates are compared on every column: hashing four columns of every row cost a fifth
    of the read of a large log.
    """
    if events.empty:
        return events
    moment = events["changed_at"].to_numpy(dtype="datetime64[ns]").view("uint64")
    with np.errstate(over="ignore"):
        key = moment * np.uint64(0x9E3779B97F4A7C15) + item_codes.astype("uint64")
    maybe = np.flatnonzero(pd.Series(key).duplicated(keep=False).to_numpy())
    if not len(maybe):
        return events
    repeats = events.iloc[maybe].duplicated(subset=["item_id", "changed_at", "event", "status"])
    drop = np.zeros(len(events), dtype=bool)
    drop[maybe[repeats.to_numpy()]] = True
    return events[~drop]


def _items_from_rows(frame: pd.DataFrame, codes: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    """One row per item (`ids`, each row's item `codes`, in the order of first appearance): for
    each attribute the item's last non-empty value in the file."""
    cols = [c for c in ("title", "type", "labels", "url") if c in frame]
    items = pd.DataFrame({"item_id": ids})
    rows = np.arange(len(frame))
    for col in cols:
        # The last row of each item with a value: a maximum by item code, not a group-by.
        filled = frame[col].ne("").to_numpy(dtype=bool)
        last = np.full(len(ids), -1, dtype="int64")
        np.maximum.at(last, codes[filled], rows[filled])
        values = frame[col].take(np.maximum(last, 0)).reset_index(drop=True)
        items[col] = values.where(last >= 0, "")
    if "title" in items:
        items["title"] = cut_titles(items["title"])
    return conform_items(items)


def cut_titles(titles: pd.Series) -> pd.Series:
    """Titles longer than `TITLE_MAX` cut to it, ending in `TRUNCATED_MARK` (which is how
    `count_cut_titles` finds them for the data-quality report)."""
    long = titles.str.len().gt(TITLE_MAX)
    if not long.any():
        return titles
    keep = TITLE_MAX - len(TRUNCATED_MARK)
    return titles.where(~long, titles.str.slice(0, keep) + TRUNCATED_MARK)


def count_cut_titles(items: pd.DataFrame) -> int:
    if "title" not in items or items.empty:
        return 0
    titles = items["title"].astype("string")
    return int((titles.str.len().eq(TITLE_MAX) & titles.str.endswith(TRUNCATED_MARK)).sum())


def read_stage_dates(path: Path | str, workflow: Workflow) -> FlowData:
    """Read an ActionableAgile stage-date CSV (spec 1.2): each filled stage column becomes a
    status event whose status is the stage column's name. Dates are local to the workflow."""
    path = Path(path)
    frame = _read_raw(path)
    lower = {c.lower(): c for c in frame.columns}
    if "id" not in lower:
        raise InputError(f"{path}: line 1: missing required column 'ID'")
    if frame.empty:
        raise InputError(f"{path}: the file has a header but no rows")
    stage_cols = [c for c in frame.columns if c.lower() not in STAGE_FIXED]
    if not stage_cols:
        raise InputError(f"{path}: line 1: no stage columns between 'Name' and 'Type'")
    ids = frame[lower["id"]].str.strip()
    if ids.eq("").any():
        raise InputError(f"{path}: line {_first_bad(ids.eq(''))}: empty ID")
    long = (
        frame.assign(item_id=ids, _row=np.arange(len(frame)))
        .melt(id_vars=["item_id", "_row"], value_vars=stage_cols, var_name="status")
        .assign(value=lambda f: f["value"].str.strip())
    )
    long["_col"] = long["status"].map({c: i for i, c in enumerate(stage_cols)})
    long = long[long["value"].ne("")].sort_values(["_row", "_col"], kind="stable")
    # Report the line of the original row, not of the reshaped frame.
    lines = long["_row"].to_numpy() + 2
    changed = parse_times(long["value"], workflow.timezone, path, "stage date", lines)
    events = pd.DataFrame(
        {
            "item_id": long["item_id"].to_numpy(),
            "changed_at": changed.to_numpy(),
            "event": "status",
            "status": long["status"].to_numpy(),
            "seq": np.arange(len(long), dtype="int64"),
        }
    )
    items = pd.DataFrame({"item_id": ids})
    if "name" in lower:
        items["title"] = cut_titles(frame[lower["name"]])
    if "type" in lower:
        items["type"] = frame[lower["type"]]
    if "link" in lower:
        items["url"] = frame[lower["link"]]
    items = items.drop_duplicates("item_id", keep="last")
    return FlowData(items=conform_items(items), events=conform_events(events))


def read_deployments(path: Path | str, timezone: str = "UTC") -> FlowData:
    """Read a deployments CSV (spec 1.3) into deployments and shipped items."""
    path = Path(path)
    frame = _rename(_read_raw(path), None, path)
    _require(frame, DEPLOY_REQUIRED, path)
    if frame.empty:
        return FlowData(deployments=empty_deployments())
    ids = frame["deploy_id"].str.strip()
    if ids.eq("").any():
        raise InputError(f"{path}: line {_first_bad(ids.eq(''))}: empty deploy_id")
    repeated = ids.duplicated()
    if repeated.any():
        raise InputError(
            f"{path}: line {_first_bad(repeated)}: deploy_id {ids[repeated].iloc[0]!r} "
            "appears twice"
        )
    status = (
        frame["status"].str.strip().str.lower().replace("", "success")
        if "status" in frame
        else pd.Series("success", index=frame.index)
    )
    bad = ~status.isin(["success", "failure"])
    if bad.any():
        raise InputError(
            f"{path}: line {_first_bad(bad)}: status {status[bad].iloc[0]!r} is not "
            "'success' or 'failure'"
        )
    env = frame["environment"].str.strip() if "environment" in frame else "production"
    deployments = pd.DataFrame(
        {
            "deploy_id": ids,
            "deployed_at": parse_times(frame["deployed_at"], timezone, path, "deployed_at"),
            "environment": env,
            "status": status,
            "version": frame.get("version", ""),
        }
    )
    deployments["environment"] = deployments["environment"].replace("", "production")
    shipped = empty_shipped()
    if "items" in frame:
        pairs = (
            pd.DataFrame({"deploy_id": ids, "item_id": frame["items"].str.split(";")})
            .explode("item_id")
            .assign(item_id=lambda f: f["item_id"].str.strip())
        )
        shipped = pairs[pairs["item_id"].ne("")].drop_duplicates().reset_index(drop=True)
    return FlowData(deployments=conform_deployments(deployments), shipped=shipped)


def read_features_csv(path: Path | str) -> pd.DataFrame:
    """A features file (`feature`, `remaining`, in priority order) checked row by row: see
    `metrics.forecast.read_features`. Errors name the file and its line."""
    path = Path(path)
    return read_features(_read_raw(path), str(path), header_lines=1)


def sniff_csv_kind(path: Path | str) -> str:
    """Which format a CSV is in, from its header: "events", "stage_dates" or "deployments"."""
    columns = {c.lower() for c in _read_raw(path).columns}
    if {"deploy_id", "deployed_at"} <= columns:
        return "deployments"
    if {"item_id", "changed_at", "status"} <= columns:
        return "events"
    hints = sorted(columns & EVENT_HINTS)
    if hints:
        # A stage-date file has stage columns, never these: reading this one as stage dates
        # would report a date error in a column that is not a date.
        missing = ", ".join(c for c in EVENT_REQUIRED if c not in columns)
        raise InputError(
            f"{path}: line 1: looks like an event log (it has {', '.join(hints)}) but has no "
            f"{missing} column; rename the columns, or map them with --map, e.g. "
            "--map item_id=ID,changed_at=Changed"
        )
    if "id" in columns:
        return "stage_dates"
    raise InputError(
        f"{path}: line 1: not an event log (item_id, changed_at, status), a stage-date file "
        "(ID, Name, one column per stage) or a deployments file (deploy_id, deployed_at)"
    )


def escape_formula(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells and column names made safe for a spreadsheet (spec section 4).

    Line breaks inside a cell become `\n` first: the CSV writer quotes a cell holding `\n` (its
    line terminator) but not a bare `\r`, which a spreadsheet takes as the end of a row, so a
    title `\r=1+1` would start a new row with a formula. Then every cell or header that starts
    with `=`, `+`, `-`, `@`, tab or a line break is prefixed with `'`.
    """
    out = frame.copy()
    out.columns = [_escape_name(c) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            out.isetitem(position, _escape_texts(column))
    return out


def _escape_texts(column: pd.Series) -> pd.Series:
    # Only real strings change: numbers, lists and missing values in an object column stay.
    # A column of strings (and missing values) is told apart without a Python loop per cell,
    # and stays in its vectorized string dtype: at 100,000 items a loop per cell cost seconds.
    if pd.api.types.infer_dtype(column, skipna=True) == "string":
        is_text = column.notna().to_numpy()
    else:
        is_text = np.fromiter((isinstance(v, str) for v in column), dtype=bool, count=len(column))
    if not is_text.any():
        return column
    text = column[is_text].astype("str")
    broken = text.str.contains(_LINE_BREAK, regex=True)
    if broken.any():
        text = text.str.replace(_LINE_BREAK, "\n", regex=True)
    risky = text.str.startswith(_ESCAPED_START)
    if not (broken.any() or risky.any()):
        return column
    text = text.where(~risky, "'" + text)
    out = column.astype(object).copy()
    out[is_text] = text.to_numpy(dtype=object)
    return out


def _escape_name(name: object) -> object:
    if not isinstance(name, str):
        return name
    name = _LINE_BREAK.sub("\n", name)
    return "'" + name if name.startswith(_ESCAPED_START) else name


def csv_parts(frame: pd.DataFrame) -> list:
    """The CSV file of a frame, formula-escaped, as UTF-8 pieces to write one after the other
    (Arrow's writer when it takes the frame's column types, else pandas)."""
    parts = arrow_csv_parts(frame, escape=True)
    if parts is not None:
        return parts
    text = escape_formula(frame).to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return [text.encode("utf-8")]


def csv_text(frame: pd.DataFrame) -> str:
    """A frame as the CSV text `write_csv` writes (formula-escaped), for files that go
    elsewhere than a folder (a zip)."""
    return b"".join(csv_parts(frame)).decode("utf-8")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame as UTF-8 CSV, formula-escaped, atomically (a temp file, then rename), so a
    failure never leaves a half-written file behind."""
    write_atomically(path, csv_parts(frame))


def write_csv_set(tables: Mapping[str, pd.DataFrame], folder: Path) -> None:
    """Write each frame as `folder/NAME`, all of them or none: the folder keeps its old set when
    anything fails (see `replace_folder_files`)."""

    def write(into: Path) -> None:
        for name, frame in tables.items():
            write_csv(frame, into / name)

    replace_folder_files(folder, tables.keys(), write)


__all__ = [
    "read_event_log",
    "read_stage_dates",
    "read_deployments",
    "read_features_csv",
    "sniff_csv_kind",
    "write_csv",
    "write_csv_set",
    "csv_text",
    "escape_formula",
    "parse_mapping",
    "parse_times",
]
