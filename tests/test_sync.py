"""`flowdeck sync`, `flowdeck import` and `flowdeck status` with the csv source, against real
SQLite files: incremental and idempotent syncs, a failing source, two syncs at once, a sync
killed with SIGKILL inside its transaction, a reader process during a sync, bad input."""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from connectors.base import Chunk, SourceKind
from connectors.config import load_config
from connectors.kinds import KIND_MODULES
from connectors.secrets import forget_secrets, remember_secret, scrub
from connectors.store import open_store
from connectors.sync import import_file, sync_every, sync_lock, sync_sources
from flowdeck.cli import main
from metrics.errors import ConfigError, FlowdeckError

REPO = Path(__file__).resolve().parents[1]
HELPER = REPO / "tests" / "store_helper.py"

WORKFLOW = """
[workflow]
timezone = "Europe/London"
start = "Dev"
done = "Done"

[[workflow.stages]]
name = "Backlog"

[[workflow.stages]]
name = "Dev"

[[workflow.stages]]
name = "Done"
"""


def events_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["item_id,changed_at,status,title"]
    lines += [f"{i},{when},{status},Item {i}" for i, when, status in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def history(items: range, days: int = 3) -> list[tuple[str, str, str]]:
    stages = ["Backlog", "Dev", "Done"]
    return [
        (str(i), f"2024-03-{1 + d:02d}T09:{i % 60:02d}:00Z", stages[d % 3])
        for i in items
        for d in range(days)
    ]


def write_config(folder: Path, sources: str) -> Path:
    path = folder / "flowdeck.toml"
    path.write_text(WORKFLOW + sources, encoding="utf-8")
    return path


def csv_source(name: str, events: str, extra: str = "") -> str:
    return f'\n[[sources]]\nname = "{name}"\nkind = "csv"\nevents = "{events}"\n{extra}\n'


def counts(db: Path | str) -> dict[str, tuple[int, int, int]]:
    with open_store(db, create=False) as store:
        status = store.sources_status()
    return {r.name: (r.items, r.events, r.deployments) for r in status.itertuples()}


@pytest.fixture
def team(tmp_path) -> Path:
    events_csv(tmp_path / "a.csv", history(range(1, 4)))
    (tmp_path / "deploys.csv").write_text(
        "deploy_id,deployed_at,status,items\n"
        "d1,2024-03-04T10:00:00Z,success,1;2\n"
        "d2,2024-03-05T10:00:00Z,failure,jira:X-1\n",
        encoding="utf-8",
    )
    return write_config(tmp_path, csv_source("team", "a.csv", 'deployments = "deploys.csv"'))


def test_sync_is_incremental_idempotent_and_replaces_what_the_files_dropped(team, tmp_path, db):
    config = load_config(team)
    (first,) = sync_sources(config, db, secrets={})
    assert first.ok, first.error
    c = first.counts
    assert (c.items.added, c.events.added, c.deployments.added, c.shipped.added) == (3, 9, 2, 3)
    with open_store(db) as store:
        data = store.read_flow_data()
        cursor = store.source_cursor("team")
    assert sorted(data.items["item_id"]) == ["csv:team:1", "csv:team:2", "csv:team:3"]
    assert set(data.items["source"]) == {"team"}
    assert sorted(data.deployments["deploy_id"]) == ["csv:team:d1", "csv:team:d2"]
    assert sorted(data.shipped["item_id"]) == ["csv:team:1", "csv:team:2", "jira:X-1"]
    assert cursor.startswith("sha256:")

    (again,) = sync_sources(config, db, secrets={})
    assert again.ok and again.chunks == 0 and "no changes" in again.line()
    with open_store(db) as store:
        assert store.read_flow_data().events.equals(data.events)

    # One item moves on: only that event is new.
    events_csv(tmp_path / "a.csv", [*history(range(1, 4)), ("2", "2024-03-09T09:00:00Z", "Dev")])
    (later,) = sync_sources(config, db, secrets={})
    e = later.counts.events
    assert (later.counts.items.added, e.added, e.updated, e.removed) == (0, 1, 0, 0)
    assert counts(db)["team"] == (3, 10, 2)

    # The file no longer has item 3: the csv source is the whole truth, so it goes.
    events_csv(tmp_path / "a.csv", history(range(1, 3)))
    (dropped,) = sync_sources(config, db, secrets={})
    assert (dropped.counts.items.removed, dropped.counts.events.removed) == (1, 4)
    assert counts(db)["team"] == (2, 6, 2)

    # --full reads unchanged files again and changes nothing.
    (full,) = sync_sources(config, db, full=True, secrets={})
    assert full.chunks == 1
    assert all(getattr(full.counts, t).added == 0 for t in ("items", "events", "deployments"))
    assert counts(db)["team"] == (2, 6, 2)


def test_naive_times_are_read_in_the_workflow_time_zone(tmp_path, db):
    events_csv(tmp_path / "a.csv", [("1", "2024-07-01T09:00", "Dev")])
    config = load_config(write_config(tmp_path, csv_source("team", "a.csv")))
    sync_sources(config, db, secrets={})
    with open_store(db) as store:
        when = store.read_flow_data().events["changed_at"].iloc[0]
    assert when == pd.Timestamp("2024-07-01 08:00", tz="UTC")  # London is UTC+1 in July


def test_a_failing_source_is_reported_and_the_others_still_sync(tmp_path, db):
    events_csv(tmp_path / "a.csv", history(range(1, 3)))
    events_csv(tmp_path / "b.csv", history(range(1, 4)))
    config = load_config(
        write_config(tmp_path, csv_source("a", "a.csv") + csv_source("b", "b.csv"))
    )
    assert all(r.ok for r in sync_sources(config, db, secrets={}))
    before = counts(db)

    (tmp_path / "b.csv").write_text(
        "item_id,changed_at,status\n1,2024-03-01T09:00:00Z,Dev\n2,yesterday,Dev\n"
    )
    events_csv(tmp_path / "a.csv", history(range(1, 4)))
    a, b = sync_sources(config, db, secrets={})
    assert a.ok and not b.ok
    assert "b.csv: line 3: changed_at 'yesterday' is not an ISO 8601 date-time" in b.error
    assert "failed" in b.line()
    after = counts(db)
    assert after["a"] == (3, 9, 0) and after["b"] == before["b"]  # b kept its data
    with open_store(db) as store:
        status = store.sources_status().set_index("name")
    assert status.loc["b", "last_result"] == "failed"
    assert "yesterday" in status.loc["b", "last_error"]
    assert status.loc["a", "last_result"] == "ok" and pd.isna(status.loc["a", "last_error"])


def test_an_unset_credential_variable_is_named_and_the_others_still_sync(tmp_path):
    events_csv(tmp_path / "a.csv", history(range(1, 3)))
    github = (
        '\n[[sources]]\nname = "gh"\nkind = "github"\nrepo = "acme/web"\n'
        'token_env = "FLOWDECK_TEST_TOKEN"\napi_url = "http://127.0.0.1:9"\n'
    )
    config = load_config(write_config(tmp_path, github + csv_source("a", "a.csv")))
    gh, a = sync_sources(config, tmp_path / "s.db", secrets={"HOME": "/root"})
    assert a.ok and not gh.ok
    assert "FLOWDECK_TEST_TOKEN" in gh.error and "not set" in gh.error


def test_a_secret_never_reaches_an_error_message():
    forget_secrets()
    remember_secret("ghp_abcdef123456", "GITHUB_TOKEN")
    text = scrub("401 for https://x/?access_token=ghp_abcdef123456 in /root")
    forget_secrets()
    assert "ghp_abcdef123456" not in text and "<GITHUB_TOKEN>" in text and "/root" in text


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ('[[sources]]\nname = "x"\nkind = "cvs"\nevents = "a.csv"\n', "did you mean 'csv'"),
        (
            '[[sources]]\nname = "x"\nkind = "csv"\nevents = "a.csv"\n'
            '[[sources]]\nname = "x"\nkind = "csv"\nevents = "b.csv"\n',
            "source names must be unique",
        ),
        ('[[sources]]\nname = "x"\nkind = "csv"\nevent = "a.csv"\n', "did you mean 'events'"),
        ('[[sources]]\nname = "x"\nkind = "csv"\n', "needs at least one of 'events'"),
        (
            '[[sources]]\nname = "x"\nkind = "csv"\nevents = "a.csv"\nmap = { item = "Key" }\n',
            "did you mean 'item_id'",
        ),
        ('[[sources]]\nname = "x"\nkind = "csv"\nevents = 3\n', "expected a non-empty text"),
    ],
)
def test_bad_sources_tables_are_refused_clearly(tmp_path, sources, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, "\n" + sources))


def test_a_second_sync_waits_briefly_then_stops_clearly(team, tmp_path):
    db = tmp_path / "s.db"
    config = load_config(team)
    open_store(db).close()
    with sync_lock(db):
        began = time.monotonic()
        with pytest.raises(FlowdeckError, match="another flowdeck sync or import is writing"):
            sync_sources(config, db, secrets={}, lock_wait=0.3)
        # It gives up instead of waiting for the lock forever (a bound no slow machine reaches).
        assert time.monotonic() - began < 60
    assert sync_sources(config, db, secrets={})[0].ok  # the lock is free again


def _start_paused_sync(config: Path, db: Path | str, source: str, go: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), str(config), str(db), source, str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    line = proc.stdout.readline().strip()
    if line != "paused":
        proc.kill()
        raise AssertionError(f"helper did not pause: {line!r} {proc.stderr.read()}")
    return proc


def _read_while_the_helper_writes(db: Path | str) -> dict:
    """Read the store from this process (the sync runs in the helper process): per source,
    its items, events and deployments as `read_flow_data` sees them. A reader blocked by the
    writer would fail here with "the store is locked" after the store's busy timeout."""
    with open_store(db, create=False) as store:
        data = store.read_flow_data()
    seen = {}
    for source, group in data.items.groupby("source"):
        events = int(data.events["item_id"].isin(set(group["item_id"])).sum())
        deployments = int((data.deployments["source"] == source).sum())
        seen[str(source)] = (len(group), events, deployments)
    return seen


@pytest.fixture
def two_sources(tmp_path) -> tuple[Path, Path]:
    """Sources a and b synced once into an SQLite store, then both files changed (b a lot)."""
    return _two_sources(tmp_path, tmp_path / ".flowdeck" / "flowdeck.db")


@pytest.fixture
def two_sources_any(tmp_path, db) -> tuple[Path, str]:
    """The same on each engine."""
    return _two_sources(tmp_path, db)


def _two_sources(tmp_path: Path, db: Path | str) -> tuple[Path, Path | str]:
    events_csv(tmp_path / "a.csv", history(range(1, 3)))
    events_csv(tmp_path / "b.csv", history(range(1, 11)))
    config = write_config(tmp_path, csv_source("a", "a.csv") + csv_source("b", "b.csv"))
    assert all(r.ok for r in sync_sources(load_config(config), db, secrets={}))
    events_csv(tmp_path / "a.csv", history(range(1, 5)))
    events_csv(tmp_path / "b.csv", history(range(5, 2000), days=6))
    return config, db


OLD_B = (10, 30, 0)
NEW_A = (4, 12, 0)
NEW_B = (1995, 11970, 0)


def test_a_sync_killed_inside_its_transaction_leaves_the_last_completed_state(two_sources):
    config, db = two_sources
    go = db.parent / "go"
    proc = _start_paused_sync(config, db, "b", go)
    try:
        # Paused with b's rows written into its open transaction; a is already committed.
        assert _read_while_the_helper_writes(db) == {"a": NEW_A, "b": OLD_B}
        # A second sync (here: this process) waits briefly, then stops with a clear message.
        with pytest.raises(FlowdeckError, match="another flowdeck sync or import is writing"):
            sync_sources(load_config(config), db, secrets={}, lock_wait=0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert counts(db) == {"a": NEW_A, "b": OLD_B}
    with open_store(db) as store:
        status = store.sources_status().set_index("name")
    assert status.loc["b", "last_result"] == "ok"  # from the sync before, untouched

    results = sync_sources(load_config(config), db, secrets={})
    assert [r.ok for r in results] == [True, True]
    assert results[0].chunks == 0  # a's files were fully synced before the kill
    assert counts(db) == {"a": NEW_A, "b": NEW_B}


def test_a_reader_during_a_sync_sees_the_old_state_then_the_new(two_sources_any, tmp_path):
    config, db = two_sources_any
    go = tmp_path / "go"
    proc = _start_paused_sync(config, db, "b", go)
    try:
        assert _read_while_the_helper_writes(db)["b"] == OLD_B
        go.touch()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip().endswith("done")
    assert _read_while_the_helper_writes(db) == {"a": NEW_A, "b": NEW_B}


# ---- the CLI ------------------------------------------------------------------------------


def test_import_status_and_sync_on_the_command_line(team, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWDECK_DB", raising=False)
    events_csv(tmp_path / "extra.csv", history(range(1, 6)))
    assert main(["import", "extra.csv", "--source", "extra"]) == 0
    out = capsys.readouterr().out
    assert "(event log) into source 'extra'" in out and "items 5 added" in out
    db = tmp_path / ".flowdeck" / "flowdeck.db"  # beside ./flowdeck.toml
    assert counts(db)["extra"] == (5, 15, 0)

    assert main(["import", "deploys.csv", "--source", "extra"]) == 0
    assert "(deployments)" in capsys.readouterr().out
    assert counts(db)["extra"] == (5, 15, 2)  # the event log's rows stay

    assert main(["sync"]) == 0
    out = capsys.readouterr().out
    assert "team: items 3 added" in out

    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "extra" in out and "imported" in out and "team" in out and str(db) in out

    assert main(["sync", "--source", "nope"]) == 1
    assert "no source named 'nope'" in capsys.readouterr().err


def test_sync_on_the_command_line_reports_a_failed_source(tmp_path, capsys):
    events_csv(tmp_path / "a.csv", history(range(1, 3)))
    config = write_config(tmp_path, csv_source("a", "a.csv") + csv_source("b", "missing.csv"))
    assert main(["sync", "--config", str(config), "--db", str(tmp_path / "s.db")]) == 1
    captured = capsys.readouterr()
    assert "a: items 2 added" in captured.out
    assert "b: failed after" in captured.out and "missing.csv: file not found" in captured.out
    assert captured.err.startswith("error: 1 of 2 sources failed (b)")
    assert "Traceback" not in captured.err

    config.write_text(config.read_text() + csv_source("c", "a.csv"))
    assert main(["status", "--config", str(config), "--db", str(tmp_path / "s.db")]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "not synced yet" in out
    assert "last error of b: " in out and "missing.csv: file not found" in out


def test_import_of_a_stage_date_file_and_with_a_column_map(team, tmp_path, capsys):
    (tmp_path / "stages.csv").write_text(
        "ID,Link,Name,Backlog,Dev,Done,Type\n"
        "7,,Seven,2024-03-01,2024-03-02,2024-03-04,Bug\n"
        "8,,Eight,2024-03-01,,,Story\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.db"
    args = ["--config", str(team), "--db", str(db)]
    assert main(["import", str(tmp_path / "stages.csv"), "--source", "aa", *args]) == 0
    assert "(stage dates)" in capsys.readouterr().out
    (tmp_path / "jira.csv").write_text("Key,Date,State\nK-1,2024-03-01T10:00:00Z,Dev\n")
    assert main(["import", str(tmp_path / "jira.csv"), "--source", "j", *args,
                 "--map", "item_id=Key,changed_at=Date,status=State"]) == 0  # fmt: skip
    with open_store(db) as store:
        data = store.read_flow_data()
    items = data.items.set_index("item_id")
    assert items.loc["csv:aa:7", "title"] == "Seven" and items.loc["csv:aa:7", "type"] == "Bug"
    assert list(data.events.loc[data.events["item_id"] == "csv:aa:7", "status"]) == [
        "Backlog", "Dev", "Done"
    ]  # fmt: skip
    assert "csv:j:K-1" in items.index


def test_bad_imports_are_one_line_errors_and_write_nothing(team, tmp_path, capsys):
    db = tmp_path / "s.db"
    args = ["--config", str(team), "--db", str(db)]
    (tmp_path / "bad.csv").write_text("item_id,changed_at,status\n1,2024-03-01T10:00:00Z,\n")
    assert main(["import", str(tmp_path / "bad.csv"), "--source", "x", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "line 2: empty status" in err
    assert len(err.strip().splitlines()) == 1
    assert not db.exists() or counts(db) == {}

    assert main(["import", str(tmp_path / "deploys.csv"), "--source", "x", *args,
                 "--map", "item_id=Key"]) == 1  # fmt: skip
    assert "--map applies to event logs only, not deployments" in capsys.readouterr().err

    gh = team.read_text() + '\n[[sources]]\nname = "gh"\nkind = "github"\nrepo = "a/b"\n'
    team.write_text(gh)
    assert main(["import", str(tmp_path / "a.csv"), "--source", "gh", *args]) == 1
    assert "is a github source" in capsys.readouterr().err

    assert main(["status", "--db", str(tmp_path / "none.db")]) == 1
    assert "no Flowdeck store at" in capsys.readouterr().err

    (tmp_path / "corrupt.db").write_bytes(b"garbage" * 500)
    assert main(["import", str(tmp_path / "a.csv"), "--source", "x", "--db",
                 str(tmp_path / "corrupt.db")]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "corrupt.db" in err and "--db" in err and "Traceback" not in err


def test_importing_the_real_event_logs(real_set, tmp_path):
    config = load_config(real_set / "flowdeck.toml")
    db = tmp_path / "s.db"
    kind, result = import_file(db, real_set / "events.csv", "real", config)
    rows = pd.read_csv(real_set / "events.csv", dtype=str)
    assert kind == "events" and result.ok
    with open_store(db) as store:
        data = store.read_flow_data()
    assert len(data.items) == rows["item_id"].nunique()
    assert len(data.events) == len(rows.drop_duplicates())
    assert data.items["item_id"].str.startswith("csv:real:").all()
    _, again = import_file(db, real_set / "events.csv", "real", config)
    assert again.counts.events.added == 0 and again.counts.items.added == 0


def test_a_sync_leaves_no_credential_in_the_store(tmp_path):
    events_csv(tmp_path / "a.csv", history(range(1, 2)))
    github = (
        '\n[[sources]]\nname = "gh"\nkind = "github"\nrepo = "acme/web"\n'
        'token_env = "FLOWDECK_TEST_TOKEN"\napi_url = "http://127.0.0.1:9"\ntimeout = 2\n'
        "retries = 0\n"
    )
    config = load_config(write_config(tmp_path, github))
    secret = "ghp_secretvalue123456"
    db = tmp_path / "s.db"
    (gh,) = sync_sources(config, db, secrets={"FLOWDECK_TEST_TOKEN": secret})
    assert not gh.ok  # nothing listens on port 9
    assert secret not in gh.error
    assert secret.encode() not in db.read_bytes()
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or secret.encode() not in wal.read_bytes()


# ---- the sync loop with a scripted connector (what GitHub and Jira sources go through) ----

SCRIPT: dict = {"calls": [], "fetch": None}


def _scripted_fetch(settings, client, since, progress):
    SCRIPT["calls"].append(since)
    yield from SCRIPT["fetch"](since, progress)


KIND = SourceKind(
    name="scripted",
    parse=lambda table, where: dict(table),
    make_client=lambda settings, secrets: object(),
    fetch=_scripted_fetch,
)


def _events(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [r[0] for r in rows],
            "changed_at": [pd.Timestamp(r[1], tz="UTC") for r in rows],
            "status": [r[2] for r in rows],
        }
    )


@pytest.fixture
def scripted(tmp_path, monkeypatch) -> Path:
    monkeypatch.setitem(KIND_MODULES, "scripted", __name__)
    SCRIPT["calls"].clear()
    return write_config(tmp_path, '\n[[sources]]\nname = "s"\nkind = "scripted"\n')


def test_the_sync_loop_passes_the_cursor_and_merges_a_closed_range(scripted, tmp_path):
    config, db = load_config(scripted), tmp_path / "s.db"

    def first(since, progress):
        progress.update(2, None, "page 1")
        yield Chunk(events=_events(("s:1", "2024-03-01", "Dev"), ("s:1", "2024-03-02", "Done")),
                    cursor="2024-03-02T00:00:00Z")  # fmt: skip
        yield Chunk(events=_events(("s:2", "2024-03-03", "Dev")), cursor="2024-03-03T00:00:00Z",
                    quality={"incomplete_history": 1})  # fmt: skip

    SCRIPT["fetch"] = first
    (result,) = sync_sources(config, db, secrets={})
    assert result.ok and result.chunks == 2 and result.counts.events.added == 3
    assert SCRIPT["calls"] == [None]
    with open_store(db) as store:
        assert list(store.quality().itertuples(index=False, name=None)) == [
            ("s", "incomplete_history", 1)
        ]

    def boundary(since, progress):
        # From the cursor inclusive: s:2 again (same history), plus one new event of s:3.
        yield Chunk(events=_events(("s:2", "2024-03-03", "Dev"), ("s:3", "2024-03-04", "Dev")),
                    cursor="2024-03-04T00:00:00Z")  # fmt: skip

    SCRIPT["fetch"] = boundary
    (result,) = sync_sources(config, db, secrets={})
    assert SCRIPT["calls"][-1] == "2024-03-03T00:00:00Z"
    e = result.counts.events
    assert (e.added, e.updated, e.removed, result.counts.items.removed) == (1, 0, 0, 0)
    with open_store(db) as store:
        assert store.source_cursor("s") == "2024-03-04T00:00:00Z"
        assert len(store.read_flow_data().events) == 4  # s:1 kept: an incremental fetch
        # Quality counts describe the last sync that fetched something.
        assert store.quality().empty

    def broken(since, progress):
        yield Chunk(events=_events(("s:4", "2024-03-05", "Dev")), cursor="2024-03-05T00:00:00Z")
        raise ConnectionResetError("connection reset by peer")

    SCRIPT["fetch"] = broken
    (result,) = sync_sources(config, db, secrets={})
    assert not result.ok and result.error == "ConnectionResetError: connection reset by peer"
    with open_store(db) as store:
        assert store.source_cursor("s") == "2024-03-04T00:00:00Z"  # all or nothing
        assert len(store.read_flow_data().events) == 4
        assert store.sources_status()["last_result"].iloc[0] == "failed"

    def everything(since, progress):
        yield Chunk(events=_events(("s:3", "2024-03-04", "Dev")), cursor="2024-03-06T00:00:00Z")

    SCRIPT["fetch"] = everything
    (result,) = sync_sources(config, db, full=True, secrets={})
    assert SCRIPT["calls"][-1] is None
    assert (result.counts.items.removed, result.counts.events.removed) == (2, 3)
    with open_store(db) as store:
        assert list(store.read_flow_data().items["item_id"]) == ["s:3"]
        assert store.sources_status()["last_result"].iloc[0] == "ok"


# ---- PostgreSQL: several processes on one shared store -------------------------------------


def _advisory_locks(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[
            0
        ]


def test_two_syncs_on_postgresql_one_killed_mid_transaction(tmp_path, pg_url):
    """Process A pauses inside source b's transaction; process B (`flowdeck sync --wait`) syncs
    a, then waits for b's lock; A is killed with SIGKILL: its transaction is rolled back, the
    server releases its lock, B syncs b and completes. Nothing committed is lost."""
    config, db = _two_sources(tmp_path, pg_url)
    go = tmp_path / "go"
    first = _start_paused_sync(config, db, "b", go)
    second = None
    try:
        assert _read_while_the_helper_writes(db) == {"a": NEW_A, "b": OLD_B}
        # A third process with no patience says which source is busy and who holds it.
        results = sync_sources(load_config(config), db, secrets={}, lock_wait=0.3)
        assert [r.ok for r in results] == [True, False]
        assert "source 'b' is being synced by another process" in results[1].error
        assert f"pid {first.pid}" in results[1].error
        second = subprocess.Popen(
            [sys.executable, "-c", "from flowdeck.cli import main; raise SystemExit(main())",
             "sync", "--config", str(config), "--db", db, "--wait", "300"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        # B reports a (nothing new: A committed it) before it turns to b, and waits for it.
        line = second.stdout.readline()
        assert line.startswith("a: no changes"), (line, second.stderr.read())
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        out, err = second.communicate(timeout=300)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    assert second.returncode == 0, err
    assert out.startswith("b: items 1989 added"), out
    assert counts(db) == {"a": NEW_A, "b": NEW_B}
    with open_store(db) as store:
        status = store.sources_status().set_index("name")
    assert list(status["last_result"]) == ["ok", "ok"]
    assert _advisory_locks(db) == 0  # both holders gone, nothing left behind


def test_db_upgrade_sync_and_status_name_the_store_never_its_password(
    team, tmp_path, db, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLOWDECK_DB", db)  # the URL (with its password) from the environment
    assert main(["db", "upgrade"]) == 0
    assert "created at schema version" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["sync", "--wait", "5"]) == 0
    assert "team: items 3 added" in capsys.readouterr().out
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "team" in out and "ok" in out
    assert main(["export", "--as-of", "2024-03-10", "--out", str(tmp_path / "report")]) == 0
    capsys.readouterr()
    items = pd.read_csv(tmp_path / "report" / "items.csv")
    assert sorted(items["item_id"]) == ["csv:team:1", "csv:team:2", "csv:team:3"]
    if "://" in db:
        password = db.split(":")[2].split("@")[0]
        assert password not in out and "127.0.0.1" in out


# ---- the sync worker ------------------------------------------------------------------------


def _lines(proc: subprocess.Popen) -> queue.Queue:
    """The process's output lines as they come (a thread reads them: every wait has its own
    deadline, and none blocks the test forever)."""
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _next_line(lines: queue.Queue, proc: subprocess.Popen, wait: float = 120) -> str:
    try:
        line = lines.get(timeout=wait)
    except queue.Empty:
        raise AssertionError(f"no output from the worker in {wait} s") from None
    if line is None:
        raise AssertionError(f"the worker ended: {proc.wait(timeout=60)} {proc.stderr.read()}")
    return line


def test_the_sync_worker_runs_on_a_schedule_and_stops_cleanly_on_sigterm(team, tmp_path, db):
    cli = "from flowdeck.cli import main; raise SystemExit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", cli, "sync", "--every", "0.005", "--config", str(team),
         "--db", db],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        lines = _lines(proc)
        assert _next_line(lines, proc).startswith("sync worker: every 0.005 minutes into ")
        first = _next_line(lines, proc)
        assert " UTC run 1: 1 of 1 sources synced (" in first and "; next at " in first
        # The file changes between runs: the next run picks it up.
        events_csv(
            tmp_path / "a.csv", [*history(range(1, 4)), ("9", "2024-03-09T09:00:00Z", "Dev")]
        )
        while counts(db).get("team", (0,))[0] != 4:
            assert " sources synced " in _next_line(lines, proc)
        proc.send_signal(signal.SIGTERM)
        rest = []
        while (line := lines.get(timeout=120)) is not None:
            rest.append(line)
        out = "\n".join(rest)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read()
    assert rest[-1].startswith("sync worker: stopped after ")
    if "://" in db:
        assert db.split(":")[2].split("@")[0] not in out  # the URL's password


def test_the_sync_worker_stops_only_for_configuration_errors(team, tmp_path, capsys):
    assert main(["sync", "--every", "1", "--source", "nope", "--config", str(team),
                 "--db", str(tmp_path / "s.db")]) == 1  # fmt: skip
    assert "no source named 'nope'" in capsys.readouterr().err
    assert main(["sync", "--every", "0", "--config", str(team)]) == 2
    assert "--every" in capsys.readouterr().err

    # A store that cannot be opened is a failed run, not the end of the worker.
    stop = threading.Event()
    seen: list[str] = []

    def echo(line: str) -> None:
        seen.append(line)
        if len(seen) == 2:
            stop.set()

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage" * 500)
    runs = sync_every(load_config(team), corrupt, 0.0001, stop, echo)
    assert runs == 2 and all("the run failed: " in line and "corrupt.db" in line for line in seen)
