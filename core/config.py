"""The one configuration object: every setting comes from a ``CREDITHUB_*`` variable.

Tests build their own :class:`Config` (``Config.from_env({...})`` or ``Config(...)``) and pass it
to ``create_app``; nothing reads ``os.environ`` at import time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

ENV_PREFIX = "CREDITHUB_"
DEFAULT_INSTANCE_PATH = Path("instance")
_LOG_LEVELS = {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}
_LOG_FORMATS = ("json", "text")


class ConfigError(ValueError):
    """A ``CREDITHUB_*`` variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Config:
    """Settings of one CreditHub process.

    ``database_url`` defaults to an SQLite file inside ``instance_path`` so that a fresh checkout
    runs without any set-up; production points it at PostgreSQL.
    """

    instance_path: Path = DEFAULT_INSTANCE_PATH
    database_url: str = ""
    secret_key: str = "dev-only-change-me"
    log_level: str = "INFO"
    sample_data_path: Path = Path("sample_data")
    # Hard cap on request bodies; Flask answers 413 above it.
    max_request_bytes: int = 16 * 1024 * 1024
    # Cap on the query string (bytes, percent-encoded as sent); the app answers 431 above it.
    # No filter or search needs more; a megabyte of query only costs parsing and logs.
    max_query_bytes: int = 8 * 1024
    testing: bool = False
    # Fixes "today" (ISO date) for demos and tests of publicity periods and deadlines.
    today: str = ""
    # TOML file overriding the rule defaults in core/rules/settings.py (periods, deadlines, grade).
    rules_file: Path | None = None
    # TOML file of joint punishment and reward measures (core/rules/measures.py); unset: the
    # rules file's neighbour measures.toml when there is one, else no measures.
    measures_file: Path | None = None
    # Requests per minute per client (or per address for the public); 0 turns the limit off.
    # Counted in the database (shared by every process and server using it), or in Redis when
    # redis_url is set.
    rate_limit_per_minute: int = 600
    # The lower budget of searches by an identifier (per client or address); 0 turns it off.
    identifier_lookups_per_minute: int = 10
    identifier_lookups_per_hour: int = 60
    # Objections raised without a token, per address; 0 turns the limit off.
    anonymous_objections_per_hour: int = 5
    # Repair applications filed without a token, per address; 0 turns the limit off.
    anonymous_repair_applications_per_hour: int = 5
    # redis://host:port/db for the rate-limit counters; empty: the database holds them.
    redis_url: str = ""
    # Key of the HMAC that the audit trail records of each search query (never the query
    # itself); empty: derived from secret_key. Keep it secret and stable: the same query
    # gives the same hash, so an auditor can tell repeated or enumerated queries apart.
    query_hash_key: str = ""
    # Send the web pages' session cookie over HTTPS only (set it when served behind HTTPS).
    secure_cookies: bool = False
    # Webhooks (app/subscriptions): allow targets on private, loopback and link-local
    # addresses (a closed government network, tests); attempts before a delivery is dead;
    # the first retry's delay in seconds (doubling, with jitter, up to an hour).
    webhook_allow_private: bool = False
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: int = 10
    # Log lines as JSON objects (one a line, with the request id) for a log pipeline, or
    # "text" for reading in a terminal during development (make run sets it).
    log_format: str = "json"
    # Who may read /metrics without a regulator's token: comma-separated addresses or CIDR
    # ranges (the Prometheus server's); default this machine only.
    metrics_allow: str = "127.0.0.1/32,::1/128"
    # The service trains its matcher's scoring model by itself (ingest/auto_training.py) at
    # the end of a pulled feed run and on the scheduler: a first model once this many
    # accepted records exist, a new one when they have grown by this factor since the last.
    matching_auto_train: bool = True
    matching_train_min_records: int = 1_000
    matching_train_growth: float = 2.0
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        level = self.log_level.upper()
        if level not in _LOG_LEVELS:
            allowed = sorted(_LOG_LEVELS)
            message = f"{ENV_PREFIX}LOG_LEVEL must be one of {allowed}, not {self.log_level!r}"
            raise ConfigError(message)
        object.__setattr__(self, "log_level", level)
        object.__setattr__(self, "instance_path", Path(self.instance_path).absolute())
        object.__setattr__(self, "log_format", self.log_format.strip().lower())
        if self.log_format not in _LOG_FORMATS:
            raise ConfigError(
                f"{ENV_PREFIX}LOG_FORMAT must be one of {list(_LOG_FORMATS)}, "
                f"not {self.log_format!r}"
            )
        self.metrics_networks  # noqa: B018 -- refuses a bad range at start-up, not at a scrape
        if not self.database_url:
            db_file = self.instance_path / "credithub.sqlite3"
            object.__setattr__(self, "database_url", f"sqlite:///{db_file}")
        if self.max_request_bytes <= 0:
            raise ConfigError(f"{ENV_PREFIX}MAX_REQUEST_BYTES must be positive")
        if self.max_query_bytes <= 0:
            raise ConfigError(f"{ENV_PREFIX}MAX_QUERY_BYTES must be positive")
        if self.webhook_max_attempts < 1:
            attempts = self.webhook_max_attempts
            message = f"{ENV_PREFIX}WEBHOOK_MAX_ATTEMPTS must be at least 1, not {attempts}"
            raise ConfigError(message)
        if self.webhook_backoff_seconds < 0:
            message = (
                f"{ENV_PREFIX}WEBHOOK_BACKOFF_SECONDS must not be negative, "
                f"not {self.webhook_backoff_seconds}"
            )
            raise ConfigError(message)
        for name in (
            "rate_limit_per_minute",
            "identifier_lookups_per_minute",
            "identifier_lookups_per_hour",
            "anonymous_objections_per_hour",
            "anonymous_repair_applications_per_hour",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{ENV_PREFIX}{name.upper()} must not be negative")
        if self.matching_train_min_records < 2:
            raise ConfigError(f"{ENV_PREFIX}MATCHING_TRAIN_MIN_RECORDS must be at least 2")
        if not self.matching_train_growth > 1.0:
            raise ConfigError(f"{ENV_PREFIX}MATCHING_TRAIN_GROWTH must be more than 1")
        if self.today:
            try:
                date.fromisoformat(self.today)
            except ValueError as exc:
                message = f"{ENV_PREFIX}TODAY must be an ISO date, got {self.today!r}"
                raise ConfigError(message) from exc

    @property
    def fixed_today(self) -> date | None:
        return date.fromisoformat(self.today) if self.today else None

    @property
    def query_hash_secret(self) -> bytes:
        return (self.query_hash_key or f"credithub-query-hash:{self.secret_key}").encode()

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """``metrics_allow`` as networks; raises :class:`ConfigError` for an unreadable one."""
        networks = []
        for part in self.metrics_allow.split(","):
            if not part.strip():
                continue
            try:
                networks.append(ip_network(part.strip(), strict=False))
            except ValueError as exc:
                message = f"{ENV_PREFIX}METRICS_ALLOW: {part.strip()!r} is not an address range"
                raise ConfigError(message) from exc
        return tuple(networks)

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Read ``CREDITHUB_<FIELD>`` variables; keyword overrides win over the environment.

        Raises :class:`ConfigError` when a value cannot be converted.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, f.type)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _convert(name: str, raw: str, annotation: object) -> object:
    kind = str(annotation)
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be a boolean, got {raw!r}")
    if kind == "int":
        try:
            return int(raw)
        except ValueError as exc:
            message = f"{ENV_PREFIX}{name.upper()} must be an integer, got {raw!r}"
            raise ConfigError(message) from exc
    if kind == "float":
        try:
            value = float(raw)
        except ValueError as exc:
            message = f"{ENV_PREFIX}{name.upper()} must be a number, got {raw!r}"
            raise ConfigError(message) from exc
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be a finite number, got {raw!r}")
        return value
    if kind in {"Path", "Path | None"}:
        return Path(raw)
    return raw
