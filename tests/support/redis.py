"""A throw-away Redis server for the test session, started from the machine's ``redis-server``
(Debian package ``redis-server``; ``make redis-server`` installs it), like the PostgreSQL one in
``tests/support/postgres.py``: no persistence, a free port on 127.0.0.1, removed at the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.postgres import _free_port


class RedisUnavailable(RuntimeError):
    """No ``redis-server`` binary, or it did not start."""


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls) -> RedisServer:
        binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        )
        if binary is None:
            raise RedisUnavailable(
                "redis-server not found (install the Debian package 'redis-server')"
            )
        root = Path(tempfile.mkdtemp(prefix="credithub-redis-"))
        port = _free_port()
        process = subprocess.Popen(
            [
                binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(root),
                "--save", "",
                "--appendonly", "no",
                "--logfile", str(root / "log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        server = cls(process=process, root=root, port=port)
        server._wait_ready()
        return server

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.root / "log").read_text(errors="replace") if self.root.exists() else ""
                raise RedisUnavailable(f"redis-server exited: {log[-500:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailable("redis-server did not accept connections within 15 s")

    def flush(self) -> None:
        """Forget every key: each test starts with empty counters."""
        with redis.Redis.from_url(self.url) as connection:
            connection.flushdb()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
