"""`flowdeck export` writes its set whole or not at all, with the user's file permissions, and
never reports days after the moment it describes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from connectors import csv_files
from flowdeck.cli import main


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def export(out: Path, *extra: str) -> int:
    return main(["export", "--demo", "--out", str(out), *extra])


def test_files_get_the_users_umask_not_0600(tmp_path, umask_022, capsys):
    out = tmp_path / "r"
    assert export(out) == 0, capsys.readouterr().err
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes
    assert stat.S_IMODE(out.stat().st_mode) == 0o755


def test_a_failed_export_leaves_the_old_set_whole_and_no_temporary_files(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "r"
    assert export(out, "--as-of", "2025-03-31") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    written: list[str] = []
    real = csv_files.write_csv

    def failing(frame, path):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(Path(path).name)
        real(frame, path)

    monkeypatch.setattr(csv_files, "write_csv", failing)

    assert export(out, "--as-of", "2025-06-30") == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "unchanged" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]

    monkeypatch.setattr(csv_files, "write_csv", real)
    assert export(out, "--as-of", "2025-06-30") == 0
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(after) == set(before) and after != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_other_files_in_the_folder_are_kept(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert export(out) == 0, capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine" and (out / "daily.csv").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_to_after_as_of_is_cut_at_as_of_and_says_so(tmp_path, capsys):
    out = tmp_path / "r"
    assert export(out, "--as-of", "2025-06-30", "--to", "2025-07-31") == 0
    said = capsys.readouterr()
    daily = pd.read_csv(out / "daily.csv", dtype=str)
    assert daily["date"].iloc[-1] == "2025-06-30"
    assert "--to 2025-07-31 is after --as-of 2025-06-30" in said.err + said.out

    assert export(out, "--as-of", "2025-06-30", "--from", "2025-07-01") == 1
    assert "--from 2025-07-01 is after --as-of" in capsys.readouterr().err
