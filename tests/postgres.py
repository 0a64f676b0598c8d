"""A throw-away PostgreSQL cluster for the tests that run the store on PostgreSQL.

`PostgresCluster.start()` runs Debian's (or any) PostgreSQL binaries: `initdb` in a fresh
directory under the system temp folder, then `pg_ctl start` on a free local port, waiting on
`pg_isready`. `initdb` refuses to run as root, so under root the cluster belongs to the
`postgres` user. Every test gets its own database (`new_database`), so tests never see each
other's rows; the whole cluster is stopped and deleted at the end of the session.

The superuser has a password (host connections use scram-sha-256), so the tests exercise a URL
with a credential in it, as a deployment has.

When PostgreSQL is not installed the tests that need it are skipped with a message, except
under CI=true, where they fail: CI installs PostgreSQL (.ci/run), so its absence there is a bug.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Seconds allowed for each wait (initdb, the server accepting connections, a stop); generous
#: for a loaded two-core machine.
WAIT = 120.0
SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed here."""


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and pg_isready: $PG_BINDIR, Debian's newest
    /usr/lib/postgresql/N/bin, else the PATH."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    candidates += [Path(p) for p in reversed(versions)]
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "pg_isready")):
            return folder
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl") and shutil.which("pg_isready"):
        return Path(found).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL is not installed (no initdb/pg_ctl/pg_isready in /usr/lib/postgresql/*/bin "
        "or on the PATH; `apt-get install postgresql`, or set PG_BINDIR)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresCluster:
    bindir: Path
    root: Path
    port: int
    password: str
    user: str | None
    """The OS user the server runs as (None: the current user)."""

    @property
    def data(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls) -> PostgresCluster:
        bindir = find_bindir()
        run_as = SERVER_USER if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="flowdeck-pg-"))
        if run_as is not None:
            entry = pwd.getpwnam(run_as)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chmod(root, 0o700)
        cluster = cls(bindir, root, free_port(), secrets.token_hex(12), run_as)
        try:
            cluster._init()
            cluster._start()
            cluster._watch()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _watch(self) -> None:
        """A detached watcher that stops the cluster and deletes its folder once this process
        is gone: a test session killed by a timeout or a signal skips its teardown, and a
        forgotten server would hold memory on a shared machine."""
        script = (
            "import os, shutil, subprocess, sys, time\n"
            "parent, pg_ctl, data, root, user = sys.argv[1:6]\n"
            "while os.path.isdir(data):\n"
            "    try:\n"
            "        os.kill(int(parent), 0)\n"
            "    except ProcessLookupError:\n"
            "        subprocess.run([pg_ctl, 'stop', '-D', data, '-m', 'immediate', '-w'],\n"
            "                       user=user or None, capture_output=True, timeout=120)\n"
            "        shutil.rmtree(root, ignore_errors=True)\n"
            "        break\n"
            "    time.sleep(1)\n"
        )
        subprocess.Popen(
            [sys.executable, "-c", script, str(os.getpid()), str(self.bindir / "pg_ctl"),
             str(self.data), str(self.root), self.user or ""],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def _run(self, *args: str, timeout: float = WAIT) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.user,
            cwd=self.root,
        )
        if result.returncode != 0 and args[0] != "pg_isready":
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
            )
        return result

    def _init(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", SERVER_USER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()

    def _start(self) -> None:
        # Durability settings off: a test cluster is thrown away, and they cut the time of every
        # commit. A crash of a client (the SIGKILL tests) does not depend on them.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-W", "-l", str(self.root / "server.log"),
            "-o", options,
        )  # fmt: skip
        deadline = time.monotonic() + WAIT
        while True:
            ready = self._run(
                "pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-U", SERVER_USER,
                "-d", "postgres", timeout=WAIT,
            )  # fmt: skip
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                log = (self.root / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"PostgreSQL did not accept connections in {WAIT:.0f} s: {log}")
            time.sleep(0.1)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w",
                          "-t", str(int(WAIT)))  # fmt: skip
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
