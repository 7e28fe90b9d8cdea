"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, pg_ctl start on a
free port of 127.0.0.1 (and a Unix socket in that folder), stopped and removed at the end.

The server binaries come from $LISTENPOST_PG_BIN, else the newest /usr/lib/postgresql/*/bin,
else the PATH. initdb refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

USER = "postgres"
PASSWORD = "listenpost-test-password"
SERVER_USER = "postgres"  # the operating-system account the server runs as when we are root


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start; the message says which."""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl."""
    chosen = os.environ.get("LISTENPOST_PG_BIN")
    if chosen:
        if not (Path(chosen) / "initdb").is_file():
            raise PostgresUnavailable(f"LISTENPOST_PG_BIN={chosen}: no initdb there")
        return Path(chosen)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable(
        "the PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql (or set LISTENPOST_PG_BIN); .ci/run installs them. "
        "To run without the PostgreSQL tests, set LISTENPOST_SKIP_POSTGRES=1 explicitly")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    """One server for a test session; ``create_database()`` gives each test its own database."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.port = free_port()
        self.host = "127.0.0.1"
        self.root = Path(tempfile.mkdtemp(prefix="listenpost-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.running = False
        self._as_root = os.geteuid() == 0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n", encoding="utf-8")
        if self._as_root:
            account = pwd.getpwnam(SERVER_USER)
            for path in (self.root, pwfile):
                os.chown(path, account.pw_uid, account.pw_gid)
        os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "-E", "UTF8",
                  "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        pwfile.unlink()
        options = (f"-p {self.port} -k {self.root} -c listen_addresses={self.host} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        atexit.register(self.stop)  # also when the session ends on Ctrl-C or an error
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self.running = False
            with contextlib.suppress(PostgresUnavailable):  # already gone: the folder goes all the same
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, timeout=120, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(f"{program} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{log}")

    # -- databases -------------------------------------------------------------------------------

    def url(self, database: str = "postgres", *, with_password: bool = False) -> str:
        """A URL for the database; the user and password normally come from PGUSER / PGPASSWORD."""
        who = f"{USER}:{PASSWORD}@" if with_password else ""
        return f"postgresql://{who}{self.host}:{self.port}/{database}"

    def environ(self) -> dict[str, str]:
        """What the environment holds for listenpost to connect: the standard libpq variables."""
        return {"PGUSER": USER, "PGPASSWORD": PASSWORD}

    def admin(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        return psycopg.connect(self.url(with_password=True), autocommit=True)

    def create_database(self, template: str = "template0") -> str:
        """A fresh database, empty (from template0) or a copy of ``template``; its name."""
        name = "test_" + uuid.uuid4().hex[:12]
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" ENCODING \'UTF8\'')
        return name

    def drop_database(self, name: str) -> None:
        """Drop it, ending any connection a test left open."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def databases(self) -> set[str]:
        with self.admin() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate").fetchall()
        return {row[0] for row in rows}
