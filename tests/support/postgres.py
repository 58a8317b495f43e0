"""A throw-away PostgreSQL server for the test session, started from the machine's binaries.

Written by hand because pytest-postgresql runs ``pg_ctl`` as the current user, and PostgreSQL
refuses to run as root, which is who CI is here: when root, the server runs as the ``postgres``
system user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL binaries (or no non-root user to run them as)."""


def find_bin_dir() -> Path:
    """The folder holding ``initdb``/``pg_ctl``: $CREDITHUB_PG_BIN, Debian's layout, or PATH."""
    candidates: list[str] = []
    if os.environ.get("CREDITHUB_PG_BIN"):
        candidates.append(os.environ["CREDITHUB_PG_BIN"])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (install the Debian package 'postgresql' "
        "or set CREDITHUB_PG_BIN)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database ``name`` on this server; returns its URL."""
        from sqlalchemy import create_engine, text

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url_for(name)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = find_bin_dir()
        run_as = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable("running as root and no 'postgres' user") from exc
            run_as = "postgres"
        root = Path(tempfile.mkdtemp(prefix="credithub-pg-"))
        if run_as:
            shutil.chown(root, user=run_as)
        server = cls(bin_dir=bin_dir, root=root, port=_free_port(), run_as=run_as)
        data = root / "data"
        init = server._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()}")
        # fsync off: a test server's data is thrown away, and it makes the suite much faster.
        options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        started = server._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"
        )
        if started.returncode != 0:
            log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()} {log}")
        server._wait_ready()
        return server

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise PostgresUnavailable("PostgreSQL did not accept connections within 30 s")

    def version(self) -> str:
        result = self._run("postgres", "--version")
        return result.stdout.strip()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
