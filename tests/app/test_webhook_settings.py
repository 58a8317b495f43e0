"""The three webhook settings, ``CREDITHUB_WEBHOOK_ALLOW_PRIVATE``, ``_MAX_ATTEMPTS`` and
``_BACKOFF_SECONDS``: a bad value stops the service with the variable named, a good one
changes what the service does (which URLs it accepts, when a delivery is dead, how long a
retry waits)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.subscriptions.worker import policy_from
from cli.deliver import deliver_step
from core.config import Config, ConfigError
from core.models import Feed
from tests.support.credit import ingest, list_entry
from tests.support.credit_checks import World, build_world
from tests.support.receiver import run_receiver

ALLOW = "CREDITHUB_WEBHOOK_ALLOW_PRIVATE"
ATTEMPTS = "CREDITHUB_WEBHOOK_MAX_ATTEMPTS"
BACKOFF = "CREDITHUB_WEBHOOK_BACKOFF_SECONDS"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        (ALLOW, "maybe", "must be a boolean, got 'maybe'"),
        (ALLOW, "2", "must be a boolean"),
        (ATTEMPTS, "three", "must be an integer, got 'three'"),
        (ATTEMPTS, "0", "must be at least 1, not 0"),
        (ATTEMPTS, "-2", "must be at least 1"),
        (BACKOFF, "1.5", "must be an integer"),
        (BACKOFF, "-1", "must not be negative, not -1"),
    ],
)
def test_bad_webhook_settings_name_the_variable(variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=f"{variable} {says}"):
        Config.from_env({variable: value})


def test_defaults_are_strict() -> None:
    policy = policy_from(Config.from_env({}))
    assert (policy.allow_private, policy.max_attempts, policy.base_seconds) == (False, 8, 10.0)


def _env_config(config: Config, **env: str) -> Config:
    return Config.from_env(
        env,
        instance_path=config.instance_path,
        database_url=config.database_url,
        secret_key="test-secret",
        testing=True,
        log_level="WARNING",
        today="2026-06-01",
    )


def test_allow_private_decides_whether_a_local_webhook_is_accepted(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> None:
    world: World = build_world(session_factory)
    body = {"url": "http://127.0.0.1:9/hook", "kinds": ["record.created"]}
    body["public_ids"] = [world.ids["zhang"]]
    for value, status in (("false", 422), ("true", 201), ("off", 422), ("1", 201)):
        app = make_app(_env_config(config, **{ALLOW: value}))
        response = app.test_client().post(
            "/api/v1/subscriptions", json=body, headers=world.headers["fin"]
        )
        assert response.status_code == status, (value, response.json)
        if status == 422:
            assert "non-public address" in response.json["errors"]["url"][0]


def test_max_attempts_and_backoff_take_effect(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> None:
    world: World = build_world(session_factory)
    app = make_app(_env_config(config, **{ALLOW: "yes", ATTEMPTS: "2", BACKOFF: "0"}))
    policy = policy_from(app.extensions["credithub"].config)
    assert (policy.allow_private, policy.max_attempts, policy.delay(5)) == (
        True,
        2,
        timedelta(0),
    )
    with run_receiver() as failing:
        made = app.test_client().post(
            "/api/v1/subscriptions",
            json={
                "url": failing.url,
                "kinds": ["list.entered"],
                "public_ids": [world.ids["zhang"]],
            },
            headers=world.headers["fin"],
        )
        assert made.status_code == 201, made.json
        deliver_step(app)  # the world's own events
        failing.received.clear()
        failing.statuses[:] = [500] * 10
        with session_factory() as session:
            feed = session.scalar(select(Feed).where(Feed.code == "court-debtors"))
            assert feed is not None
            ingest(session, feed, [list_entry("c9", listed_on="2026-05-02")])
            session.commit()
        counts = deliver_step(app)
        # Backoff 0: the retry is due at once, but one attempt per pass; two passes, dead.
        assert (counts["pending"], len(failing.received)) == (1, 1)
        counts = deliver_step(app)
        assert (counts["dead"], len(failing.received)) == (1, 2)
        assert deliver_step(app)["dead"] == 0
        assert len(failing.received) == 2, "a dead letter is not posted again"
