"""Files that cannot hang or fool the reader: each crafted CSV is refused with one line naming
the file, the line and the reason (or read, with what was cut counted), never silently misread."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.csv_files import (
    MAX_LINE_BYTES,
    TITLE_MAX,
    TRUNCATED_MARK,
    read_deployments,
    read_event_log,
    sniff_csv_kind,
)
from connectors.store import open_store
from flowdeck.cli import main
from metrics.errors import InputError

HEADER = "item_id,changed_at,status,title\n"
ROW = "{id},2026-03-0{day}T09:00:00Z,Dev,Title {id}\n"


def rows(*ids: str) -> str:
    return "".join(ROW.format(id=i, day=n % 9 + 1) for n, i in enumerate(ids))


def refused(path: Path, reader=read_event_log) -> str:
    with pytest.raises(InputError) as caught:
        reader(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def test_a_row_with_one_field_more_than_the_header_is_refused_naming_its_line(tmp_path):
    first = tmp_path / "first.csv"
    # pandas would take the first field of every row as an index: X, Y, Z merged into one item.
    first.write_text(HEADER + "X,2026-03-01T09:00:00Z,Dev,t,extra\n" + rows("Y", "Z"))
    later = tmp_path / "later.csv"
    later.write_text(HEADER + rows("X", "Y") + "Z,2026-03-04T09:00:00Z,Dev,hello, world\n")

    assert "line 2: 5 fields, the header has 4" in refused(first)
    message = refused(later)
    assert "line 4: 5 fields, the header has 4" in message
    assert "comma" in message  # the likely cause, an unquoted comma, is named


def test_a_short_row_is_refused_naming_its_line(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(HEADER + rows("X") + "Y,2026-03-02T09:00:00Z\n" + rows("Z"))

    assert "line 3: 2 fields, the header has 4" in refused(path)


def test_quoted_line_breaks_and_blank_lines_keep_the_line_numbers_true(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text(
        HEADER + 'X,2026-03-01T09:00:00Z,Dev,"two\nlines, and a comma"\n\n'
        + rows("Y") + "Z,2026-03-04T09:00:00Z,Dev\n"
    )  # fmt: skip

    assert "line 6: 3 fields, the header has 4" in refused(path)


def test_duplicate_columns_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("item_id,changed_at,status,Status\nX,2026-03-01T09:00:00Z,Dev,Dev\n")

    assert "line 1: column 'status' appears more than once" in refused(path)


def test_an_absurdly_wide_header_is_refused_at_once(tmp_path):
    path = tmp_path / "wide.csv"
    width = 100_000
    path.write_text(",".join(f"c{i}" for i in range(width)) + "\n" + "x," * (width - 1) + "x\n")
    assert f"line 1: {width} columns" in refused(path)
    # 200,000 columns (2.3 MB) hung the reader for over 300 s
    wider = tmp_path / "wider.csv"
    wider.write_text(",".join(f"column{i}" for i in range(200_000)) + "\n")
    assert "line 1: the header is longer than" in refused(wider)


def test_a_huge_line_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(HEADER + rows("X") + "Y,2026-03-02T09:00:00Z,Dev," + "x" * (MAX_LINE_BYTES + 10)
                    + "\n" + rows("Z"))  # fmt: skip

    message = refused(path)
    assert "line 3:" in message and "longer than" in message


@pytest.mark.parametrize("year", ["1600", "9999"])
def test_out_of_range_years_name_the_file_and_line(tmp_path, year):
    path = tmp_path / f"y{year}.csv"
    path.write_text(HEADER + rows("X") + f"Y,{year}-01-02T09:00:00,Dev,t\n")

    message = refused(path)
    assert "line 3:" in message and year in message and "year" in message
    deploys = tmp_path / f"d{year}.csv"
    deploys.write_text(f"deploy_id,deployed_at\nD1,{year}-01-02T09:00:00Z\n")
    assert "line 2:" in refused(deploys, read_deployments)


def test_long_titles_are_cut_and_counted(tmp_path):
    path = tmp_path / "titles.csv"
    path.write_text(HEADER + "X,2026-03-01T09:00:00Z,Dev," + "t" * (TITLE_MAX * 3) + "\n"
                    + rows("Y"))  # fmt: skip

    data = read_event_log(path)

    title = data.items.set_index("item_id").loc["X", "title"]
    assert len(title) <= TITLE_MAX and title.endswith(TRUNCATED_MARK)
    assert data.items.set_index("item_id").loc["Y", "title"] == "Title Y"

    config = tmp_path / "flowdeck.toml"
    config.write_text(
        "[workflow]\n[[workflow.stages]]\nname = 'Todo'\n[[workflow.stages]]\nname = 'Dev'\n"
        "[[workflow.stages]]\nname = 'Done'\n"
        "[[sources]]\nname = 'f'\nkind = 'csv'\nevents = 'titles.csv'\n"
    )
    assert main(["sync", "--config", str(config)]) == 0
    with open_store(tmp_path / ".flowdeck" / "flowdeck.db", create=False) as store:
        quality = store.quality()
    counts = dict(zip(quality["key"], quality["count"], strict=True))
    assert counts.get("truncated_titles") == 1


def test_an_event_log_with_wrong_column_names_is_not_taken_for_stage_dates(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text("ID,Changed,Status\nX,2026-03-01T09:00:00Z,Dev\n")

    with pytest.raises(InputError, match="event log") as caught:
        sniff_csv_kind(path)
    assert "changed_at" in str(caught.value) and "--map" in str(caught.value)

    assert main(["import", str(path), "--source", "s", "--db", str(tmp_path / "x.db")]) == 1
    err = capsys.readouterr().err
    assert "event log" in err and "ISO 8601" not in err
