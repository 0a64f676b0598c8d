"""The CSV formats of spec section 1: separators, BOM, case, mapping, and whole-file refusal."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.csv_files import (
    escape_formula,
    parse_mapping,
    read_deployments,
    read_event_log,
    read_stage_dates,
    sniff_csv_kind,
    write_csv,
)
from metrics.errors import InputError
from tests.flowbuild import ts, workflow


def write(tmp_path, text, name="events.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolons_bom_and_any_case(tmp_path):
    path = write(
        tmp_path,
        "\ufeffITEM_ID;Changed_At;Status;Title;Labels\n"
        "A-1;2024-06-01T09:00:00Z;To Do;Fix it;ui;bug\n".replace("ui;bug", '"ui;bug"'),
    )
    data = read_event_log(path)
    assert data.events.loc[0, "changed_at"] == ts("2024-06-01 09:00")
    assert data.items.loc[0, ["item_id", "title", "labels"]].tolist() == ["A-1", "Fix it", "ui;bug"]


def test_mapping_renames_other_tools_columns(tmp_path):
    path = write(
        tmp_path,
        "issue_key,status_change_date,status_to_name\nK-1,2024-06-01 10:00+02:00,Open\n",
    )
    mapping = parse_mapping("item_id=issue_key,changed_at=status_change_date,status=status_to_name")
    data = read_event_log(path, "UTC", mapping)
    assert data.events.loc[0, "item_id"] == "K-1"
    assert data.events.loc[0, "changed_at"] == ts("2024-06-01 08:00")
    with pytest.raises(InputError, match="'colour' is not an event-log column"):
        parse_mapping("colour=c")


def test_duplicates_and_blocked_rows(tmp_path):
    path = write(
        tmp_path,
        "item_id,changed_at,status,event\n"
        "A,2024-06-01T09:00Z,Dev,\n"
        "A,2024-06-01T09:00Z,Dev,\n"
        "A,2024-06-02T09:00Z,,blocked\n"
        "A,2024-06-03T09:00Z,,UNBLOCKED\n",
    )
    events = read_event_log(path).events
    assert events["event"].tolist() == ["status", "blocked", "unblocked"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("item_id,status\nA,Dev\n", "line 1: missing required column 'changed_at'"),
        (
            "item_id,changed_at,status\nA,2024-06-01,Dev\nB,yesterday,Dev\n",
            "line 3: changed_at 'yesterday' is not an ISO 8601 date-time",
        ),
        (
            "item_id,changed_at,status\nA,2024-06-01,Dev\n ,2024-06-01,Dev\n",
            "line 3: empty item_id",
        ),
        ("item_id,changed_at,status\nA,,Dev\n", "line 2: empty changed_at"),
        ("item_id,changed_at,status\nA,2024-06-01,\n", "line 2: empty status on a status event"),
        ("item_id,changed_at,status,event\nA,2024-06-01,Dev,moved\n", "line 2: event 'moved'"),
        ("", "the file is empty"),
        ("item_id,changed_at,status\n", "has a header but no rows"),
    ],
)
def test_bad_event_logs_are_refused_whole_with_the_line(tmp_path, text, message):
    with pytest.raises(InputError) as err:
        read_event_log(write(tmp_path, text))
    assert message in str(err.value) and "events.csv" in str(err.value)


def test_missing_file_and_not_utf8(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_event_log(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        read_event_log(write(tmp_path, "item_id,changed_at,status\nä,x,y\n", encoding="latin-1"))


def test_stage_dates_round_trip(tmp_path):
    path = write(
        tmp_path,
        "ID,Link,Name,Backlog,Dev,Review,Done,Type,Blocked Days\n"
        "S-1,http://x/S-1,Thing,2024-06-01,2024-06-02,,2024-06-05,Bug,0\n",
        name="aa.csv",
    )
    assert sniff_csv_kind(path) == "stage_dates"
    data = read_stage_dates(path, workflow())
    assert data.events["status"].tolist() == ["Backlog", "Dev", "Done"]
    assert data.items.loc[0, ["title", "type", "url"]].tolist() == ["Thing", "Bug", "http://x/S-1"]
    bad = write(tmp_path, "ID,Name,Dev,Done\nS-1,T,2024-06-01,June\n", name="bad.csv")
    with pytest.raises(InputError, match="line 2: stage date 'June' is not an ISO 8601 date"):
        read_stage_dates(bad, workflow())


def test_deployments(tmp_path):
    path = write(
        tmp_path,
        "deploy_id,deployed_at,status,items,environment\n"
        "d1,2024-06-03T12:00Z,,A;B,\n"
        "d2,2024-06-04T12:00Z,failure,,staging\n",
        name="deploys.csv",
    )
    assert sniff_csv_kind(path) == "deployments"
    data = read_deployments(path)
    assert data.deployments["status"].tolist() == ["success", "failure"]
    assert data.deployments["environment"].tolist() == ["production", "staging"]
    assert data.shipped.values.tolist() == [["d1", "A"], ["d1", "B"]]
    dup = write(tmp_path, "deploy_id,deployed_at\nd1,2024-06-03\nd1,2024-06-04\n", name="dup.csv")
    with pytest.raises(InputError, match="line 3: deploy_id 'd1' appears twice"):
        read_deployments(dup)


def test_formula_escaping_and_atomic_write(tmp_path):
    frame = pd.DataFrame({"t": ["=1+1", "+x", "-y", "@z", "\tt", "\rr", "ok", None], "n": range(8)})
    escaped = escape_formula(frame)
    # a carriage return inside a cell becomes a line break the CSV writer quotes (it would end
    # the row in a spreadsheet otherwise), then the cell is escaped
    assert escaped["t"].tolist()[:7] == ["'=1+1", "'+x", "'-y", "'@z", "'\tt", "'\nr", "ok"]
    assert escaped["n"].tolist() == list(range(8))  # numbers are not text: untouched
    out = tmp_path / "x.csv"
    write_csv(frame, out)
    assert out.read_text().splitlines()[1] == "'=1+1,0"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temp file left behind


TIME_FORMS = [
    "2024-03-01T09:00:00Z",  # the common form, parsed by Arrow
    " 2024-03-01T09:00:01Z",  # padded: the general parser strips it
    "2024-03-01T10:00:02+01:00",
    "2024-03-01T09:00:03.250Z",
    "2024-03-31T02:30:00",  # a local time in Berlin's spring-forward gap
    "2024-10-27T02:30:00",  # the repeated autumn hour: the earlier instant
    "2200-12-31T23:59:59Z",  # the last second Flowdeck reads
    "1900-01-01T00:00:00Z",
]


def test_the_fast_time_form_and_every_other_form_parse_as_the_general_parser_does():
    from pathlib import Path

    from connectors.csv_files import _parse_times_general, parse_times

    for dtype in ("str", object):
        values = pd.Series(TIME_FORMS * 3, dtype=dtype)
        fast = parse_times(values, "Europe/Berlin", Path("e.csv"), "changed_at")
        general = _parse_times_general(values, "Europe/Berlin", Path("e.csv"), "changed_at")
        pd.testing.assert_series_equal(fast, general)
        assert fast.iloc[0] == pd.Timestamp("2024-03-01T09:00:00Z")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("2024-02-30T09:00:00Z", "is not an ISO 8601 date-time"),
        ("1899-12-31T23:59:59Z", "is in the year 1899"),
        ("2201-01-01T00:00:00Z", "is in the year 2201"),
        ("1600-01-02T09:00:00Z", "is in the year 1600"),
    ],
)
def test_a_bad_time_among_fast_ones_names_its_own_line(tmp_path, bad, message):
    rows = [f"A{i},2024-03-01T09:00:{i:02d}Z,Dev" for i in range(5)]
    rows.insert(3, f"B,{bad},Dev")
    path = write(tmp_path, "item_id,changed_at,status\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as caught:
        read_event_log(path)
    assert f"line 5: changed_at '{bad}' {message}" in str(caught.value)


@pytest.mark.parametrize(
    "odd",
    [
        "2023-02-29T09:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-00T09:00:00Z",
        "2024-01-01T23:59:60Z",
        "2024-01-01T24:00:00Z",
        "2024-03- 1T09:00:00Z",
        "2024-1-01T09:00:00Z",
        "2024-01-01t09:00:00z",
    ],
)
def test_odd_texts_of_the_fast_form_get_the_general_parsers_answer(odd):
    from pathlib import Path

    from connectors.csv_files import _parse_times_general, parse_times

    values = pd.Series(["2024-03-01T09:00:00Z", odd], dtype="str")

    def answer(parse):
        try:
            return parse(values, "UTC", Path("e.csv"), "changed_at").tolist()
        except InputError as exc:
            return str(exc)

    assert answer(parse_times) == answer(_parse_times_general)


def test_cells_are_read_exactly_as_written(tmp_path):
    # pandas 2.2's Arrow engine inferred types before giving text back: 001 became 1.
    path = write(
        tmp_path,
        "item_id,changed_at,status,title,type\n"
        "001,2024-03-01T09:00:00Z,Dev,1.50,2024-03-01T09:00:00Z\n"
        "002,2024-03-01T10:00:00Z,Dev,true,NA\n",
    )
    data = read_event_log(path)
    assert data.items["item_id"].tolist() == ["001", "002"]
    assert data.items["title"].tolist() == ["1.50", "true"]
    assert data.items["type"].tolist() == ["2024-03-01T09:00:00Z", "NA"]
