"""`flowdeck dashboard`: the Streamlit app on this machine.

It checks the inputs first (so a bad workflow file is one clear line here, not a page of red in
the browser), then runs `python -m streamlit run dashboard/server.py` (the app behind a Host
check, see `dashboard/host_guard.py`), telling the app where its data is and which host names
it answers to through environment variables. Streamlit is not imported here: every other
command would pay for it at start-up.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import click

from connectors.config import DEFAULT_CONFIG
from metrics.errors import ConfigError, FlowdeckError

APP = Path(__file__).resolve().parents[2] / "dashboard" / "server.py"
CONFIG_ENV_VAR = "FLOWDECK_CONFIG"  # the names dashboard/data.py reads
DB_ENV_VAR = "FLOWDECK_DB"
SYNC_EVERY_ENV_VAR = "FLOWDECK_SYNC_EVERY"
READ_ONLY_ENV_VAR = "FLOWDECK_READ_ONLY"
ALLOWED_HOSTS_ENV_VAR = "FLOWDECK_ALLOWED_HOSTS"  # the name dashboard/host_guard.py reads
LOOPBACK = ("127.0.0.1", "::1", "localhost")

#: Streamlit options that must hold wherever the command is started (a `.streamlit/config.toml`
#: is only read from the working directory): no usage statistics, no browser opened by the
#: server, no file watcher, the same theme as the repository's config.
STREAMLIT_OPTIONS = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "client.toolbarMode": "minimal",
    "theme.base": "light",
    "theme.primaryColor": "#1565c0",
}


def check_port(host: str, port: int) -> None:
    """Refuse a port another program already listens on, before Streamlit says it less clearly."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(
            f"--host {host!r}: cannot resolve this address ({exc.strerror})"
        ) from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise FlowdeckError(
                    f"port {port} on {host} is already in use (another dashboard?); "
                    "pass --port with a free port"
                ) from None
            raise FlowdeckError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def allowed_host_names(
    host: str, declared_by_option: tuple[str, ...], declared_in_config: tuple[str, ...]
) -> tuple[str, ...]:
    """The host names the dashboard answers to; a declared name that is not a host name (a URL,
    a path) is refused naming where it came from."""
    from dashboard.host_guard import hosts_for, normalize_host_pattern

    for where, names in (
        ("--allowed-host", declared_by_option),
        ("dashboard.allowed_hosts", declared_in_config),
    ):
        for name in names:
            if normalize_host_pattern(name) is None:
                raise ConfigError(
                    f"{where} {name!r}: not a host name (give a name such as flow.example.org, "
                    "an address, *.example.org, or *)"
                )
    return hosts_for(host, (*declared_by_option, *declared_in_config))


def is_loopback(host: str) -> bool:
    return host.strip("[]") in LOOPBACK or host.startswith("127.")


def app_environment(
    config_path: str | None,
    db: str | None,
    sync_every: float | None,
    host: str = "127.0.0.1",
    allowed_hosts: tuple[str, ...] = (),
) -> dict[str, str]:
    """The environment for the app, after checking what it will find there."""
    from connectors.config import find_config_path, load_config

    env = dict(os.environ)
    for name in (CONFIG_ENV_VAR, SYNC_EVERY_ENV_VAR, READ_ONLY_ENV_VAR, ALLOWED_HOSTS_ENV_VAR):
        env.pop(name, None)
    path = find_config_path(config_path)
    declared: tuple[str, ...] = ()
    if path is not None:
        from connectors.portfolio import is_portfolio, load_portfolio

        if is_portfolio(path):
            # A portfolio is checked whole (every team's file); the app shows a team picker.
            portfolio = load_portfolio(path)
            configs = [team.config for team in portfolio.teams]
        else:
            configs = [load_config(path)]
        declared = tuple(host for config in configs for host in config.allowed_hosts)
        env[CONFIG_ENV_VAR] = str(path)
        if sync_every is not None and not any(config.sources for config in configs):
            raise ConfigError(
                f"--sync-every: {path} has no [[sources]] to sync; add one (see docs/store.md)"
            )
    elif sync_every is not None:
        raise ConfigError(
            f"--sync-every needs a workflow file with [[sources]]: pass --config PATH "
            f"({DEFAULT_CONFIG} is not in this folder)"
        )
    else:
        from connectors.store import resolve_db_path, store_exists

        store = resolve_db_path(None, db)
        if store_exists(store):
            raise ConfigError(
                f"there is a store at {store} but no workflow file to read it with: pass "
                f"--config PATH ({DEFAULT_CONFIG} is not in this folder)"
            )
    if db is not None:
        from connectors.store_engine import is_database_url

        # A URL goes to the app as it is (the environment, never the command line shown in
        # the process list of the app's own process); a file as an absolute path.
        env[DB_ENV_VAR] = db if is_database_url(db) else str(Path(db).expanduser().resolve())
    if sync_every is not None:
        env[SYNC_EVERY_ENV_VAR] = f"{sync_every:g}"
    env[ALLOWED_HOSTS_ENV_VAR] = ",".join(allowed_host_names(host, allowed_hosts, declared))
    if not is_loopback(host):
        env[READ_ONLY_ENV_VAR] = "1"
    return env


def streamlit_command(host: str, port: int, allowed: tuple[str, ...] = ()) -> list[str]:
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP)]
    options = {**STREAMLIT_OPTIONS, "server.address": host, "server.port": str(port)}
    for key, value in options.items():
        cmd += [f"--{key}", value]
    # Streamlit's own check of the WebSocket's Host, behind the guard's (same names).
    for name in allowed:
        cmd += ["--server.allowedHosts", name]
    return cmd


def banner(host: str, port: int, what: str, allowed: tuple[str, ...]) -> list[str]:
    shown = "localhost" if is_loopback(host) else host
    lines = [f"Flowdeck dashboard for {what}: http://{shown}:{port}  (Ctrl+C to stop)"]
    if not is_loopback(host):
        lines += [
            f"Listening on {host}: anyone who can reach this machine on port {port} can open "
            "the dashboard and read all its data; there is no login (put one in front, with "
            "TLS, see docs/security.md).",
            "While shared it is read-only: the Sync now button is off (--sync-every still "
            "syncs), and WIP limits can be changed only with the editor password "
            "(FLOWDECK_EDITOR_PASSWORD), else not at all.",
            f"Answers to the host names: {', '.join(allowed)} (add more with --allowed-host).",
        ]
    return lines


def register(main: click.Group, init: click.Group) -> None:
    @main.command("dashboard")
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="Workflow file (default: ./flowdeck.toml; without one, the built-in demo).",
    )
    @click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
    @click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        help="Address to listen on; 0.0.0.0 shares the dashboard with your network.",
    )
    @click.option(
        "--allowed-host",
        "allowed_hosts",
        multiple=True,
        metavar="NAME",
        help="Another host name the dashboard may be opened by (repeatable; e.g. the name of a "
        "reverse proxy). Requests naming any other host are refused.",
    )
    @click.option("--db", help="Store to read (default: .flowdeck/flowdeck.db beside the config).")
    @click.option(
        "--sync-every",
        "sync_every",
        type=click.FloatRange(min=0, min_open=True),
        metavar="MINUTES",
        help="Sync the sources in the background every MINUTES (one sync at a time).",
    )
    def dashboard(config_path, port, host, allowed_hosts, db, sync_every):
        """Open the dashboard: board, flow, cycle time, delivery and data pages."""
        env = app_environment(config_path, db, sync_every, host, tuple(allowed_hosts))
        check_port(host, port)
        what = env.get(CONFIG_ENV_VAR, "the built-in demo data")
        allowed = tuple(env[ALLOWED_HOSTS_ENV_VAR].split(","))
        for line in banner(host, port, what, allowed):
            click.echo(line)
        cmd = streamlit_command(host, port, allowed)
        sys.stdout.flush()
        if os.name == "posix":
            # Become the server: Ctrl+C and a supervisor's SIGTERM reach Streamlit directly, and
            # no orphaned server is left behind when this process is stopped.
            os.execve(cmd[0], cmd, env)
        try:
            completed = subprocess.run(cmd, env=env, check=False)
        except KeyboardInterrupt:
            raise click.exceptions.Exit(0) from None
        if completed.returncode not in (0, 130):
            raise FlowdeckError(
                f"the dashboard server stopped with exit code {completed.returncode}"
            )
