"""The dashboard answers only the names it is served under (DNS rebinding): a real
`flowdeck dashboard` process, spoken to with raw HTTP requests and WebSocket upgrades whose
`Host` header names another site that resolves to this machine."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.host_guard import host_allowed, hosts_for
from flowdeck.cli import main

FLOWDECK = Path(sys.executable).with_name("flowdeck")
START_TIMEOUT = 90.0
REPLY_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw(port: int, request: bytes) -> bytes:
    """The status line and headers the server answers `request` with."""
    with socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT) as conn:
        conn.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def page_request(port: int, host: str, path: str = "/") -> int:
    answer = _raw(
        port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    )
    return int(answer.split(b" ", 2)[1])


def websocket_upgrade(port: int, host: str, origin: str | None = None) -> int:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /_stcore/stream HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
        "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: streamlit",
    ]  # fmt: skip
    if origin:
        lines.append(f"Origin: {origin}")
    answer = _raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    return int(answer.split(b" ", 2)[1])


class Dashboard:
    def __init__(self, cwd: Path, *args: str, host: str = "127.0.0.1") -> None:
        self.port = _free_port()
        self.log = cwd / f"dashboard-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDECK_")}
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [str(FLOWDECK), "dashboard", "--host", host, "--port", str(self.port), *args],
            cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the dashboard exited:\n{self.log.read_text()}")
            try:
                if page_request(self.port, f"127.0.0.1:{self.port}", "/_stcore/health") == 200:
                    return
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"the dashboard did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture
def dashboard(tmp_path):
    started: list[Dashboard] = []

    def start(*args: str, host: str = "127.0.0.1") -> Dashboard:
        server = Dashboard(tmp_path, *args, host=host)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


def test_a_foreign_host_gets_neither_the_page_nor_the_websocket(dashboard):
    server = dashboard()
    port = server.port

    assert page_request(port, f"evil.example:{port}") == 403
    assert page_request(port, f"evil.example:{port}", "/_stcore/health") == 403
    assert websocket_upgrade(port, f"evil.example:{port}", f"http://evil.example:{port}") != 101
    # the rebinding page's own origin, with the Host a browser sends after rebinding
    assert websocket_upgrade(port, f"evil.example:{port}") != 101

    for name in ("127.0.0.1", "localhost"):
        assert page_request(port, f"{name}:{port}") == 200
        assert websocket_upgrade(port, f"{name}:{port}", f"http://{name}:{port}") == 101


def test_names_a_deployment_declares_are_served(dashboard, tmp_path):
    config = tmp_path / "flowdeck.toml"
    config.write_text(
        "[workflow]\n[[workflow.stages]]\nname = 'Todo'\n[[workflow.stages]]\nname = 'Done'\n"
        "[dashboard]\nallowed_hosts = ['board.example.org']\n",
        encoding="utf-8",
    )
    server = dashboard("--config", str(config), "--allowed-host", "flow.team.example")
    port = server.port

    for name in ("flow.team.example", "board.example.org", "localhost"):
        assert page_request(port, f"{name}:{port}") == 200, name
        assert websocket_upgrade(port, f"{name}:{port}", f"http://{name}:{port}") == 101, name
    assert page_request(port, f"evil.example:{port}") == 403


def test_serving_the_network_says_so_and_turns_edits_off(dashboard, tmp_path):
    server = dashboard(host="0.0.0.0")
    assert page_request(server.port, f"evil.example:{server.port}") == 403
    banner = server.log.read_text()
    assert "anyone who can reach this machine" in banner
    assert "read-only" in banner


def test_host_matching():
    allowed = hosts_for("127.0.0.1", ("board.example.org", "*.team.example"))
    assert host_allowed("localhost:8501", allowed)
    assert host_allowed("[::1]:8501", allowed)
    assert host_allowed("BOARD.example.org.", allowed)
    assert host_allowed("a.team.example:80", allowed)
    assert not host_allowed("team.example.evil.example", allowed)
    assert not host_allowed("evil.example:8501", allowed)
    assert not host_allowed("localhost@evil.example", allowed)
    assert not host_allowed("", allowed)
    assert not host_allowed(None, allowed)
    assert host_allowed("anything.example", hosts_for("127.0.0.1", ("*",)))


def test_bad_allowed_host_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["dashboard", "--allowed-host", "http://x.example/"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --allowed-host") and err.count("\n") == 1


def test_a_shared_dashboard_is_read_only(tmp_path, monkeypatch):
    from connectors.store import open_store
    from dashboard import data as app_data
    from tests.test_dashboard_app import APP, write_team_files

    testing = pytest.importorskip("streamlit.testing.v1")
    monkeypatch.chdir(tmp_path)
    config = write_team_files(tmp_path)
    db = tmp_path / ".flowdeck" / "flowdeck.db"
    db.parent.mkdir()
    open_store(db, create=True).close()
    from connectors.config import load_config
    from connectors.sync import sync_sources

    assert all(r.ok for r in sync_sources(load_config(config), db))
    monkeypatch.setenv("FLOWDECK_CONFIG", str(config))
    monkeypatch.setenv("FLOWDECK_DB", str(db))
    monkeypatch.delenv("FLOWDECK_SYNC_EVERY", raising=False)
    monkeypatch.setenv("FLOWDECK_READ_ONLY", "1")

    at = testing.AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "sync_now"]
    assert any("read-only" in i.value for i in at.info)
    assert app_data.setup_from_env().read_only
