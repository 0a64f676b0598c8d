"""A frame as CSV text, byte for byte what `DataFrame.to_csv(index=False,
quoting=csv.QUOTE_MINIMAL, lineterminator="\\n")` writes, built column by column in Arrow.

pandas formats every cell with a Python call (a float's `repr`, the csv module's quoting): at
100,000 items that was a third of the export. Here each column is cast to text in Arrow's C++
kernels and the rows are joined there. The files must not change, so only the column types whose
text is known to match are formatted here (text, integers, nullable integers, floats, booleans);
a frame with any other column, or with a cell whose quoting could differ (a carriage return), is
written by pandas, as is a one-column frame (the csv module quotes a lone empty field).
`tests/test_csv_text.py` compares both writers on tricky frames and on floats of every magnitude.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# QUOTE_MINIMAL quotes a field holding the delimiter, the quote character or the line
# terminator; a bare "\r" is not quoted by every Python version, so such frames go to pandas.
_QUOTED = r'[,"\n]'

#: Formula escaping (spec section 4; `connectors.csv_files.escape_formula` applies the same rule
#: to a frame): line breaks become "\n", then a text starting with one of these gets a "'".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LINE_BREAK = r"\r\n?"
#: After line breaks became `\n`: a cell that started with a carriage return starts with `\n`.
ESCAPED_START = (*FORMULA_START, "\n")
_RISKY = r"^[=+\-@\t\r\n]"


def arrow_csv_parts(frame: pd.DataFrame, escape: bool = False) -> list | None:
    """The CSV file of `frame` (of `escape_formula(frame)` when `escape`) as UTF-8 pieces to
    write one after the other: the header, then Arrow's buffer of rows, not copied (a file of a
    million rows is never copied into one string). None when the frame has a column type or a
    cell this writer leaves to pandas (`connectors.csv_files.csv_parts` then asks pandas)."""
    if frame.shape[1] < 2 or not all(isinstance(name, str) for name in frame.columns):
        return None
    names = pa.array(list(frame.columns), type=pa.string())
    header = _quoted(_escaped(names) if escape else names)
    if header is None:
        return None
    columns = []
    for position in range(frame.shape[1]):
        texts = _column_text(frame.iloc[:, position], escape)
        if texts is None:
            return None
        columns.append(texts)
    head = (",".join(header.to_pylist()) + "\n").encode("utf-8")
    if not len(frame):
        return [head]
    # The rows joined in Arrow, each ending in "\n": the text is the array's data buffer.
    try:
        rows = pc.binary_join_element_wise(pc.binary_join_element_wise(*columns, ","), "\n", "")
        if isinstance(rows, pa.ChunkedArray):
            rows = rows.combine_chunks()
    except (pa.ArrowCapacityError, pa.ArrowInvalid):  # beyond 2 GiB of text: pandas writes it
        return None
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset :]
    begin, end = int(offsets[0]), int(offsets[len(rows)])
    return [head, rows.buffers()[2].slice(begin, end - begin)]


def _escaped(texts: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring(texts, "\r")).as_py():
        texts = pc.replace_substring_regex(texts, LINE_BREAK, "\n")
    risky = pc.match_substring_regex(texts, _RISKY)
    if not pc.any(risky).as_py():
        return texts
    return pc.if_else(risky, pc.binary_join_element_wise("'", texts, ""), texts)


def _column_text(column: pd.Series, escape: bool = False) -> pa.Array | None:
    """The column's cells as Arrow text without nulls (a missing value is an empty cell), or
    None when this type is left to pandas."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return None
    numpy_kind = dtype.kind if isinstance(dtype, np.dtype) else None
    if numpy_kind == "b":
        return pa.array(np.where(column.to_numpy(dtype=bool), "True", "False"), type=pa.string())
    if pd.api.types.is_integer_dtype(dtype):
        missing = column.isna().to_numpy(dtype=bool)
        values = pa.array(
            column.to_numpy(dtype="int64", na_value=0), mask=missing if missing.any() else None
        )
        return _fill(pc.cast(values, pa.string()))
    if numpy_kind == "f":
        return _float_text(column.to_numpy())
    if pd.api.types.is_string_dtype(dtype):
        if numpy_kind == "O" and pd.api.types.infer_dtype(column, skipna=True) not in (
            "string",
            "empty",
        ):
            return None
        # An Arrow-backed column hands over its buffers; an object column is converted.
        texts = pa.array(column, from_pandas=True)
        if not pa.types.is_string(texts.type):
            texts = texts.cast(pa.string())
        texts = _fill(texts)
        return _quoted(_escaped(texts) if escape else texts)
    return None


def _fill(texts: pa.Array) -> pa.Array:
    return texts.fill_null("") if texts.null_count else texts


def _quoted(texts: pa.Array) -> pa.Array | None:
    if pc.any(pc.match_substring(texts, "\r")).as_py():
        return None
    needs = pc.match_substring_regex(texts, _QUOTED)
    if not pc.any(needs).as_py():
        return texts
    doubled = pc.replace_substring(texts, '"', '""')
    wrapped = pc.binary_join_element_wise('"', doubled, '"', "")
    return pc.if_else(needs, wrapped, texts)


def _float_text(values: np.ndarray) -> pa.Array:
    """Floats as pandas writes them (`numpy.ndarray.astype(str)`: Python's `repr`), NaN empty.

    Arrow writes the same shortest digits, but `5` for `5.0` and positional or exponent forms
    at other magnitudes than Python: a whole number gets its `.0`, and every cell outside the
    range where both write positional digits is formatted by numpy.
    """
    finite = np.isfinite(values)
    size = np.abs(np.where(finite, values, 0.0))
    plain = finite & (((size >= 1e-4) & (size < 1e16)) | (values == 0))
    texts = pc.cast(pa.array(values), pa.string())
    plain &= ~pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
    whole = plain & ~pc.match_substring(texts, ".").to_numpy(zero_copy_only=False)
    if whole.any():
        texts = pc.if_else(pa.array(whole), pc.binary_join_element_wise(texts, ".0", ""), texts)
    other = ~plain & ~np.isnan(values)
    if other.any():
        replaced = np.asarray(texts.to_numpy(zero_copy_only=False), dtype=object)
        replaced[other] = values[other].astype(str)
        texts = pa.array(replaced, type=pa.string())
    if np.isnan(values).any():
        texts = pc.if_else(pa.array(np.isnan(values)), "", texts)
    return texts
