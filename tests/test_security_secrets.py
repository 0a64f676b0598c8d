"""Credentials never leave the process: servers that echo the request headers back in their error
messages, with a token variable not named like *TOKEN* (GitHub) and Jira Cloud's Basic auth,
through every path a text takes (sync output, init errors, the store, status, the Data page,
logs, --debug tracebacks)."""

from __future__ import annotations

import base64
import io
import logging
import sqlite3
from pathlib import Path

import pytest

from connectors.secrets import forget_secrets, remember_secret, scrub, scrub_logs
from connectors.store import open_store
from flowdeck.cli import main
from tests.fake_github import TOKEN, FakeGithub, FakeItem, FakeProject, FakeRepo
from tests.fake_github.harness import need_schema
from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import small_flow

streamlit_testing = pytest.importorskip("streamlit.testing.v1")

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
GH_VARIABLE = "GH_CREDS"
JIRA_EMAIL = "lead@example.com"
JIRA_SECRET = "jira-api-secret-42"


@pytest.fixture(autouse=True)
def fresh_process_memory():
    # Each test plays a fresh process: nothing remembered from an earlier test may hide a leak.
    forget_secrets()
    yield
    forget_secrets()


def leaks(text: str, *secrets: str) -> list[str]:
    return [s for s in secrets if s in text]


def basic_forms(email: str, token: str) -> tuple[str, ...]:
    pair = f"{email}:{token}"
    return token, pair, base64.b64encode(pair.encode()).decode()


# ---- GitHub --------------------------------------------------------------------------------


@pytest.fixture
def github(tmp_path, monkeypatch):
    need_schema()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv(GH_VARIABLE, TOKEN)
    for name in ("FLOWDECK_CONFIG", "FLOWDECK_DB", "FLOWDECK_SYNC_EVERY"):
        monkeypatch.delenv(name, raising=False)
    with FakeGithub() as server:
        repo = server.add_repo(FakeRepo(owner="acme", name="web"))
        repo.project = FakeProject(
            number=3, owner="acme", title="Web board",
            options=["Backlog", "In Progress", "Done"],
        )  # fmt: skip
        repo.add(FakeItem(1, "One", "2026-03-01T09:00:00Z"))
        yield server


def _init_github(server: FakeGithub) -> int:
    return main(["init", "github", "--repo", "acme/web", "--project", "3", "--api-url",
                 server.url, "--token-env", GH_VARIABLE])  # fmt: skip


def test_init_github_never_prints_an_echoed_token(github, tmp_path, capsys):
    github.fail_next("echo_headers")

    code = _init_github(github)

    out, err = capsys.readouterr()
    assert code == 1
    assert "GitHub answered 422" in err
    assert not leaks(out + err, TOKEN)
    assert not (tmp_path / "flowdeck.toml").exists()


def test_sync_hides_a_token_in_every_place_it_could_show(github, tmp_path, capsys, monkeypatch):
    assert _init_github(github) == 0
    config = tmp_path / "flowdeck.toml"
    config.write_text(config.read_text().replace("retries = 5", "retries = 0"))
    capsys.readouterr()
    github.fail_next("echo_headers", times=3)

    assert main(["sync"]) == 1
    out, err = capsys.readouterr()
    assert "web: failed" in out and "Validation Failed" in out
    assert not leaks(out + err, TOKEN)
    db = tmp_path / ".flowdeck" / "flowdeck.db"
    with open_store(db, create=False) as store:
        stored = store.sources_status()
    (error,) = stored["last_error"].tolist()
    assert "Validation Failed" in error and f"<{GH_VARIABLE}>" in error
    assert not leaks(error, TOKEN)
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in db.parent.glob("*-wal"))
    assert TOKEN.encode() not in raw

    forget_secrets()  # `flowdeck status` is another process
    assert main(["status"]) == 0
    out, err = capsys.readouterr()
    assert "last error of web" in out
    assert not leaks(out + err, TOKEN)

    # The Data page, in a process that has not read the token yet, over a store written before
    # the scrubbing existed (the raw error put back by hand).
    conn = sqlite3.connect(db)
    conn.execute("UPDATE sources SET last_error = ?", (f"echoed {TOKEN} back",))
    conn.commit()
    conn.close()
    forget_secrets()
    monkeypatch.setenv("FLOWDECK_CONFIG", str(config))
    monkeypatch.setenv("FLOWDECK_DB", str(db))
    at = streamlit_testing.AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "failed its last sync" in shown
    frames = " ".join(f.value.to_csv() for f in at.dataframe)
    assert "echoed" in frames
    assert not leaks(shown + frames, TOKEN)


def test_debug_traceback_is_scrubbed_too(github, capsys):
    github.fail_next("echo_headers")

    assert main(["--debug", "init", "github", "--repo", "acme/web", "--project", "3",
                 "--api-url", github.url, "--token-env", GH_VARIABLE]) == 1  # fmt: skip

    err = capsys.readouterr().err
    assert "Traceback" in err
    assert not leaks(err, TOKEN)


# ---- Jira Cloud (Basic auth: e-mail and token, base64) -------------------------------------


@pytest.fixture
def jira(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("JIRA_EMAIL", "JIRA_TOKEN", "JI_CREDS"):
        monkeypatch.delenv(name, raising=False)
    world = world_from_flow(small_flow())
    with FakeJira(world, mode="cloud", email=JIRA_EMAIL, token=JIRA_SECRET) as fake:
        monkeypatch.setenv("JIRA_EMAIL", JIRA_EMAIL)
        yield fake


def test_init_jira_never_prints_echoed_basic_credentials(jira, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JIRA_TOKEN", JIRA_SECRET)
    jira.fail("search", 418, times=5, echo=True)

    code = main(["init", "jira", "--url", jira.url, "--jql", "project = ABC"])

    out, err = capsys.readouterr()
    assert code == 1
    assert "Request rejected" in err
    assert not leaks(out + err, *basic_forms(JIRA_EMAIL, JIRA_SECRET))
    assert not (tmp_path / "flowdeck.toml").exists()


def test_jira_sync_hides_basic_credentials(jira, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JI_CREDS", JIRA_SECRET)
    (tmp_path / "flowdeck.toml").write_text(
        "[workflow]\nstart = 'In Progress'\ndone = 'Done'\n"
        "[[workflow.stages]]\nname = 'To Do'\n"
        "[[workflow.stages]]\nname = 'In Progress'\n"
        "[[workflow.stages]]\nname = 'Done'\n"
        f"[[sources]]\nname = 'abc'\nkind = 'jira'\nurl = '{jira.url}'\n"
        "jql = 'project = ABC'\ntoken_env = 'JI_CREDS'\nretries = 0\n"
    )
    jira.fail("search", 418, times=5, echo=True)

    assert main(["sync"]) == 1

    out, err = capsys.readouterr()
    secrets = basic_forms(JIRA_EMAIL, JIRA_SECRET)
    assert "abc: failed" in out and "Request rejected" in out
    assert not leaks(out + err, *secrets)
    with open_store(tmp_path / ".flowdeck" / "flowdeck.db", create=False) as store:
        (error,) = store.sources_status()["last_error"].tolist()
    assert "Request rejected" in error
    assert not leaks(error, *secrets)
    forget_secrets()
    assert main(["status"]) == 0
    out, err = capsys.readouterr()
    assert "last error of abc" in out and not leaks(out + err, *secrets)


# ---- logs and the scrubber itself ----------------------------------------------------------


def test_log_records_and_their_tracebacks_are_scrubbed():
    secret = "s3cr3t-value-for-logs"
    scrub_logs()
    remember_secret(secret, "SOME_VAR")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("flowdeck.test_security")
    logger.addHandler(handler)
    try:
        logger.error("the server said %s", secret)
        try:
            raise RuntimeError(f"boom with {secret}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "the server said <SOME_VAR>" in text and "RuntimeError: boom with <SOME_VAR>" in text
    assert secret not in text


def test_scrub_hides_header_values_it_never_read():
    text = (
        "{'Authorization': 'token ghp_unknown1234567', 'Host': 'x'} "
        "Authorization: Bearer abc.def.0123456789"
    )
    scrubbed = scrub(text)
    assert "ghp_unknown1234567" not in scrubbed and "abc.def" not in scrubbed
    assert "'Host': 'x'" in scrubbed
    # titles that merely talk about authorization stay as they are
    for title in ("Authorization: token refresh fails", "Fix authorization = basic login"):
        assert scrub(title) == title


# ---- remote text in the terminal -----------------------------------------------------------


def test_terminal_escapes_in_a_github_message_never_reach_the_terminal(github, tmp_path, capsys):
    assert _init_github(github) == 0
    config = tmp_path / "flowdeck.toml"
    config.write_text(config.read_text().replace("retries = 5", "retries = 0"))
    github.fail_next("hostile_message", times=3)
    capsys.readouterr()

    assert main(["sync"]) == 1
    out, err = capsys.readouterr()
    assert "Validation Failed" in out
    assert "\x1b" not in out + err and "\x07" not in out + err

    assert main(["status"]) == 0
    out, err = capsys.readouterr()
    assert "Validation Failed" in out
    assert "\x1b" not in out + err and "\x07" not in out + err

    github.fail_next("hostile_message")
    assert _init_github_forced(github) == 1
    err = capsys.readouterr().err
    assert "Validation Failed" in err and "\x1b" not in err and "\x07" not in err


def _init_github_forced(server: FakeGithub) -> int:
    return main(["init", "github", "--repo", "acme/web", "--project", "3", "--api-url",
                 server.url, "--token-env", GH_VARIABLE, "--force"])  # fmt: skip


def test_a_server_that_does_not_answer_json(github, tmp_path, capsys):
    github.fail_next("not_json", times=5)

    assert _init_github(github) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not answer with JSON" in err
    assert not (tmp_path / "flowdeck.toml").exists()


def test_a_jira_that_does_not_answer_json(jira, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JIRA_TOKEN", JIRA_SECRET)
    jira.fail("search", 200, times=5, body="<html><body>Sign in to the proxy</body></html>")

    code = main(["init", "jira", "--url", jira.url, "--jql", "project = ABC"])

    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "did not answer with JSON" in err
    assert not (tmp_path / "flowdeck.toml").exists()


def test_a_connection_url_password_is_scrubbed():
    from connectors.secrets import remember_url_password

    remember_url_password("postgresql://flow:s3cr%40t-pass@db.example:5432/flow", "FLOWDECK_DB")
    text = scrub("could not connect to postgresql://flow:s3cr%40t-pass@db.example (s3cr@t-pass)")
    assert "s3cr" not in text and "db.example" in text
