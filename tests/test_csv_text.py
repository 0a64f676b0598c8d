"""The Arrow CSV writer writes exactly what pandas' `to_csv` writes (the export files must not
change when the writer does), and takes the fast path for the column types it claims."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from connectors.csv_files import csv_text, escape_formula
from connectors.csv_text import arrow_csv_parts


def arrow_csv_text(frame: pd.DataFrame, escape: bool = False) -> str | None:
    parts = arrow_csv_parts(frame, escape)
    return None if parts is None else b"".join(parts).decode("utf-8")


def to_csv_text(frame: pd.DataFrame) -> str:
    """What the export writes for `frame`, without the formula escaping it adds."""
    return arrow_csv_text(frame) or pandas_text(frame)


def pandas_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")


TRICKY_TEXTS = [
    "plain",
    "a,b",
    'say "hi"',
    "two\nlines",
    "",
    " leading space",
    "trailing space ",
    "'=1+1",
    "ünïcødé ✓",
    '"',
    ",",
    None,
]


def supported_frame() -> pd.DataFrame:
    n = len(TRICKY_TEXTS)
    return pd.DataFrame(
        {
            "text": pd.Series(TRICKY_TEXTS, dtype="str"),
            "object text": pd.Series(TRICKY_TEXTS, dtype=object),
            "count": np.arange(n, dtype="int64") - 3,
            "maybe count": pd.array([None if i % 3 == 0 else i * 1000 for i in range(n)], "Int64"),
            "flag": [i % 2 == 0 for i in range(n)],
            "days": [0.0, -0.0, 5.0, 1e-05, 0.0001, 2.5, np.nan, np.inf, -np.inf, 1e16, 1e15, 0.1],
            'name, with "quotes"': ["x"] * n,
        }
    )


def test_tricky_cells_and_every_supported_type_match_pandas():
    frame = supported_frame()
    assert arrow_csv_text(frame) is not None, "the supported frame must take the Arrow path"
    assert to_csv_text(frame) == pandas_text(frame)


@pytest.mark.parametrize("decimals", [None, 0, 1, 4, 9])
@pytest.mark.parametrize("scale", [1e-7, 1e-4, 1e-1, 1.0, 1e3, 1e8, 1e14, 1e17, 1e25])
def test_floats_of_every_magnitude_match_pandas(scale, decimals):
    values = np.random.default_rng(7).standard_normal(2_000) * scale
    if decimals is not None:
        values = np.round(values, decimals)
    frame = pd.DataFrame({"id": np.arange(len(values)), "value": values})
    assert arrow_csv_text(frame) is not None
    assert to_csv_text(frame) == pandas_text(frame)


def test_empty_frame_writes_the_header_only():
    frame = supported_frame().iloc[:0]
    assert to_csv_text(frame) == pandas_text(frame)
    assert to_csv_text(frame).count("\n") == 1


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"only": ["", "a"]}),  # the csv module quotes a lone empty field
        pd.DataFrame({"a": ["x\ry", "z"], "b": [1, 2]}),  # a bare carriage return
        pd.DataFrame({"a": ["x", 1], "b": [1, 2]}),  # text and numbers mixed
        pd.DataFrame({"a": pd.Categorical(["x", "y"]), "b": [1, 2]}),
        pd.DataFrame({"a": pd.to_datetime(["2025-01-01", None]), "b": [1, 2]}),
        pd.DataFrame({1: ["x", "y"], "b": [1, 2]}),  # a column name that is not text
    ],
    ids=["one column", "carriage return", "mixed", "categorical", "datetime", "int name"],
)
def test_frames_it_does_not_claim_go_to_pandas_unchanged(frame):
    assert arrow_csv_text(frame) is None
    assert csv_text(frame) == pandas_text(escape_formula(frame))


def test_formula_escaping_in_arrow_is_escape_formula_then_pandas():
    risky = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\r=1", "a\r\nb", "a\rb", "\n=x", "ok", None]
    frame = pd.DataFrame(
        {
            "=name": pd.Series(risky, dtype="str"),
            "object": pd.Series(risky, dtype=object),
            "number": np.arange(len(risky), dtype="int64") - 5,  # -5 is a number, not text
        }
    )
    assert arrow_csv_text(frame, escape=True) is not None
    expected = pandas_text(escape_formula(frame))
    assert csv_text(frame) == expected
    assert expected.startswith("'=name,") and "'=1+1" in expected and "\r" not in expected
