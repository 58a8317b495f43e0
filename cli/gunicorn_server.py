"""``credithub serve`` under gunicorn (Linux): one worker process per core, and the scheduler in
exactly one of them.

Which process runs the scheduler: the first worker to take an exclusive ``flock`` on
``<instance>/scheduler.lock`` (:func:`own_scheduler`). The operating system releases the lock
when that process ends, however it ends, and the worker gunicorn starts in its place takes it
again, so there is always exactly one scheduler per host without the master process running
threads across its forks. Across several hosts the feed lease (``ingest.leases``) still lets only
one of them run a given feed.

Each worker opens its own database connections: connections the master opened (the schema
check) are left to it (``Engine.dispose(close=False)`` after the fork).

gunicorn's own log lines (workers booting, timing out, exiting) are written like the app's: as
JSON lines when ``CREDITHUB_LOG_FORMAT=json`` (the default), through gunicorn's
``logconfig_dict`` (:func:`json_log_config`); a log collector reading JSON would otherwise
meet a plain-text line at every start and every failure, the lines that matter most.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from app.runtime import runtime
from core.logs import stderr_handler
from core.metrics import mark_process_dead


def own_scheduler(lock_path: Path) -> IO[str] | None:
    """The open lock file when this process now owns the scheduler lock, None when another
    process holds it. Keep the file open for as long as the scheduler runs."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def json_log_config(level: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict`` for JSON lines: its error and access loggers, and the root
    logger (which gunicorn's defaults would give a plain handler), all on the app's handler
    (``core.logs.stderr_handler``) at ``level``."""
    handler = {"credithub": {"()": stderr_handler, "log_format": "json"}}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["credithub"]},
        "loggers": {
            name: {"level": level, "handlers": ["credithub"], "propagate": False}
            for name in ("gunicorn.error", "gunicorn.access")
        },
        "handlers": handler,
        "formatters": {},
    }


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn serving ``app``; ``start_scheduler`` (when given) runs in the worker that owns
    the scheduler lock and returns a callable that stops it."""

    def __init__(
        self,
        app: Flask,
        *,
        bind: str,
        workers: int,
        threads: int,
        start_scheduler: Callable[[], Callable[[], None]] | None = None,
        lock_path: Path | None = None,
    ) -> None:
        self.application = app
        self.options = {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            # The app refuses long query strings itself, as problem JSON (431).
            "limit_request_line": 0,
            "accesslog": None,
        }
        config = runtime(app).config
        if config.log_format == "json":
            self.options["logconfig_dict"] = json_log_config(config.log_level)
        self.start_scheduler = start_scheduler
        self.lock_path = lock_path
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_fork", self._post_fork)
        self.cfg.set("post_worker_init", self._post_worker_init)
        self.cfg.set("worker_exit", self._worker_exit)
        self.cfg.set("child_exit", self._child_exit)

    def load(self) -> Flask:
        return self.application

    def _post_fork(self, _server: Any, _worker: Any) -> None:
        runtime(self.application).engine.dispose(close=False)

    def _post_worker_init(self, worker: Any) -> None:
        if self.start_scheduler is None or self.lock_path is None:
            return
        lock = own_scheduler(self.lock_path)
        if lock is None:
            return
        worker.credithub_scheduler = (lock, self.start_scheduler())
        worker.log.info("scheduler runs in worker %s", os.getpid())

    def _child_exit(self, _server: Any, worker: Any) -> None:
        # In the master, however the worker ended (even killed): its live gauges (pool use)
        # leave the sum; its counters and histograms stay, as Prometheus expects of counters.
        mark_process_dead(worker.pid)

    def _worker_exit(self, _server: Any, worker: Any) -> None:
        owned = getattr(worker, "credithub_scheduler", None)
        if owned is not None:
            lock, stop = owned
            stop()
            lock.close()
