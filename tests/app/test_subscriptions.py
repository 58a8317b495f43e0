"""Subscriptions end to end: changes stored by the real pipeline, events in the outbox,
deliveries to a real local HTTP receiver (signatures, retries with the same idempotency key,
dead letter), sharing and masking for the subscriber, and the outbox surviving ``kill -9``."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.subscriptions.fanout import fan_out
from app.subscriptions.services import new_webhook_secret
from app.subscriptions.webhooks import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookRefused,
    check_webhook_url,
    verify,
)
from app.subscriptions.worker import DeliveryPolicy, Poster, deliver_due, run_loop, run_once
from core.config import Config
from core.models import AuditEvent, CreditRecord, CreditStatus, Feed, OutboxEvent
from core.rules.settings import GradeRules
from core.rules.sharing import MaskLevel, scrub
from tests.support.credit import USCC_HUAXIN, ingest, list_entry, penalty
from tests.support.credit_checks import SAMPLE_MEASURES, World, build_world
from tests.support.receiver import Receiver, run_receiver

TODAY = "2026-06-01"
URL = "/api/v1/subscriptions"
FAST = DeliveryPolicy(max_attempts=3, base_seconds=0, allow_private=True, timeout_seconds=5)


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(
        config, today=TODAY, measures_file=SAMPLE_MEASURES, webhook_allow_private=True
    )


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def receiver() -> Any:
    with run_receiver() as running:
        yield running


def subscribe(client: FlaskClient, world: World, who: str, **body: Any) -> dict[str, Any]:
    response = client.post(URL, json=body, headers=world.headers[who])
    assert response.status_code == 201, response.json
    result: dict[str, Any] = response.json
    return result


def watch_zhang(client: FlaskClient, world: World, url: str, kind: str) -> dict[str, Any]:
    return subscribe(client, world, "fin", url=url, kinds=[kind], public_ids=[world.ids["zhang"]])


def work(session_factory: sessionmaker[Session], policy: DeliveryPolicy = FAST) -> Any:
    return run_once(
        session_factory=session_factory,
        policy=policy,
        today=date.fromisoformat(TODAY),
        grade_rules=GradeRules(),
    )


def store(session_factory: sessionmaker[Session], feed_code: str, payloads: list[Any]) -> None:
    with session_factory() as session:
        feed = session.scalar(select(Feed).where(Feed.code == feed_code))
        assert feed is not None
        ingest(session, feed, payloads)
        session.commit()


def revoke_huaxin_licence(session_factory: sessionmaker[Session]) -> None:
    """A serious penalty for 华信: its grade changes."""
    revoked = penalty(
        "p8",
        party_name="北京华信贸易有限公司",
        uscc=USCC_HUAXIN,
        penalty_category="吊销许可证",
        fine_amount=None,
    )
    store(session_factory, "env-penalties", [revoked])


def kinds_received(receiver: Receiver) -> list[str]:
    return sorted(json.loads(r.body)["kind"] for r in receiver.received)


def test_webhook_url_policy() -> None:
    for url, why in [
        ("ftp://example.org/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:pw@93.184.216.34/hook", "user name"),
        ("http:///hook", "no host"),
        ("http://127.0.0.1:8080/hook", "non-public"),
        ("http://169.254.169.254/latest/meta-data", "non-public"),
        ("http://10.1.2.3/hook", "non-public"),
        ("http://[::1]/hook", "non-public"),
        ("http://0.0.0.0/hook", "non-public"),
    ]:
        with pytest.raises(WebhookRefused, match=why):
            check_webhook_url(url, allow_private=False)
    check_webhook_url("https://93.184.216.34/hook", allow_private=False)
    check_webhook_url("http://127.0.0.1:8080/hook", allow_private=True)
    with pytest.raises(WebhookRefused, match="scheme"):
        check_webhook_url("gopher://127.0.0.1/", allow_private=True)


def test_subscription_refusals(client: FlaskClient, world: World, receiver: Receiver) -> None:
    def post(who: str, **body: Any) -> Any:
        return client.post(URL, json=body, headers=world.headers[who])

    assert post("fin", url="ftp://x/hook", kinds=["record.created"], mine=True).status_code == 422
    assert post("fin", url=receiver.url, kinds=["record.eaten"], mine=True).status_code == 422
    assert post("fin", url=receiver.url, kinds=["record.created"]).status_code == 422
    ambiguous = post("fin", url=receiver.url, kinds=["record.created"], identifiers=["星河科技"])
    assert ambiguous.status_code == 422 and "ambiguous" in str(ambiguous.json)
    assert post("analyst", url=receiver.url, kinds=["record.created"]).status_code == 403


def test_events_are_signed_delivered_and_respect_sharing(
    client: FlaskClient,
    world: World,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
) -> None:
    fin = subscribe(
        client,
        world,
        "fin",
        url=receiver.url,
        kinds=["record.created", "list.entered"],
        public_ids=[world.ids["xinghe"]],
        identifiers=["11010519491231002X"],
    )
    assert len(fin["secret"]) == 64 and len(fin["entities"]) == 2
    with run_receiver() as hrss_receiver:
        hrss = subscribe(
            client, world, "hrss", url=hrss_receiver.url, kinds=["list.entered"], mine=True
        )
        work(session_factory)  # the world's own events: before the subscriptions' watch
        receiver.received.clear()
        hrss_receiver.received.clear()
        store(session_factory, "court-debtors", [list_entry("c9", listed_on="2026-05-01")])
        # Not shared: only HRSS, its owner, may hear of the wage-arrears entry.
        store(
            session_factory,
            "hrss-arrears",
            [list_entry("h9", party_name="北京星河科技有限公司", id_number=None,
                        uscc="91110000600037341L", list_name="拖欠农民工工资失信联合惩戒对象名单")],
        )  # fmt: skip
        counts = work(session_factory)
        assert counts["delivered"] == 3, counts
        assert kinds_received(hrss_receiver) == ["list.entered"]
        hrss_body = json.loads(hrss_receiver.received[0].body)
        assert hrss_body["record"]["list_name"] == "拖欠农民工工资失信联合惩戒对象名单"
        assert hrss["id"] != fin["id"]
    assert kinds_received(receiver) == ["list.entered", "record.created"]
    for got in receiver.received:
        headers = got.headers
        assert verify(fin["secret"], headers[TIMESTAMP_HEADER], got.body, headers[SIGNATURE_HEADER])
        assert not verify("wrong", headers[TIMESTAMP_HEADER], got.body, headers[SIGNATURE_HEADER])
        body = json.loads(got.body)
        assert body["id"] == headers[KEY_HEADER]
        assert body["entity"]["public_id"] == world.ids["zhang"]
        assert "11010519491231002X" not in got.body, "a department's events are masked"
        assert body["record"]["source"]["department"] == "COURT"
    listed = client.get(URL, headers=world.headers["fin"]).json["items"]
    assert {d["status"] for d in listed[0]["deliveries"]} == {"delivered"}
    assert "secret" not in listed[0]


def test_retries_keep_the_key_until_the_receiver_succeeds(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with run_receiver() as flaky:
        made = subscribe(
            client,
            world,
            "fin",
            url=flaky.url,
            kinds=["record.created"],
            public_ids=[world.ids["zhang"]],
        )
        work(session_factory)
        flaky.received.clear()
        flaky.statuses[:] = [500, 503]
        store(session_factory, "court-debtors", [list_entry("c9")])
        first = work(session_factory)
        assert first["pending"] == 1
        assert deliver_due(session_factory=session_factory, policy=FAST)["pending"] == 1
        assert deliver_due(session_factory=session_factory, policy=FAST)["delivered"] == 1
        assert len(flaky.received) == 3
        assert len({r.headers[KEY_HEADER] for r in flaky.received}) == 1
        assert len({r.body for r in flaky.received}) == 1
    shown = client.get(f"{URL}/{made['id']}", headers=world.headers["fin"]).json
    (delivery,) = [d for d in shown["deliveries"] if d["attempts"] > 1]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        3,
        200,
    )


def test_backoff_grows_with_jitter() -> None:
    policy = DeliveryPolicy(base_seconds=10, cap_seconds=60)
    delays = [policy.delay(n) for n in (1, 2, 3, 4, 5)]
    assert timedelta(seconds=5) <= delays[0] <= timedelta(seconds=10)
    assert timedelta(seconds=10) <= delays[1] <= timedelta(seconds=20)
    assert timedelta(seconds=30) <= delays[4] <= timedelta(seconds=60), "capped"


def test_the_last_failure_is_a_dead_letter(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with run_receiver() as failing:
        made = subscribe(
            client,
            world,
            "fin",
            url=failing.url,
            kinds=["record.created"],
            public_ids=[world.ids["zhang"]],
        )
        work(session_factory)
        failing.received.clear()
        failing.statuses[:] = [500] * 10
        store(session_factory, "court-debtors", [list_entry("c9")])
        work(session_factory)
        deliver_due(session_factory=session_factory, policy=FAST)
        assert deliver_due(session_factory=session_factory, policy=FAST)["dead"] == 1
        assert deliver_due(session_factory=session_factory, policy=FAST) == {
            "delivered": 0,
            "pending": 0,
            "dead": 0,
        }
        assert len(failing.received) == 3
    shown = client.get(f"{URL}/{made['id']}", headers=world.headers["fin"]).json
    (dead,) = [d for d in shown["deliveries"] if d["status"] != "delivered"]
    assert (dead["status"], dead["attempts"], dead["last_error"]) == ("dead", 3, "HTTP 500")
    assert client.get(f"{URL}/{made['id']}", headers=world.headers["drc"]).status_code == 404


def test_repairs_disputes_removals_and_grade_changes_are_events(
    client: FlaskClient, world: World, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    kinds = ["record.repaired", "record.disputed", "list.left", "record.updated", "grade.changed"]
    subscribe(client, world, "regulator", url=receiver.url, kinds=kinds, identifiers=[USCC_HUAXIN])
    store(
        session_factory,
        "env-penalties",
        [penalty("p7", party_name="北京华信贸易有限公司", uscc=USCC_HUAXIN)],
    )
    work(session_factory)  # sets the grade the subscriber knows
    receiver.received.clear()
    revoke_huaxin_licence(session_factory)
    with session_factory() as session:
        records = session.scalars(
            select(CreditRecord).where(CreditRecord.decision_number.like("%p7%"))
        ).all()
        (general,) = records
        general.status = CreditStatus.DISPUTED
        session.commit()
        general.status = CreditStatus.REPAIRED
        session.commit()
    work(session_factory)
    got = [json.loads(r.body) for r in receiver.received]
    assert sorted(b["kind"] for b in got) == ["grade.changed", "record.disputed", "record.repaired"]
    change = next(b for b in got if b["kind"] == "grade.changed")
    assert change["data"]["from"] != change["data"]["to"]


def test_the_outbox_survives_kill_9_between_commit_and_delivery(
    client: FlaskClient,
    world: World,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    database_url: str,
) -> None:
    subscribe(
        client,
        world,
        "fin",
        url=receiver.url,
        kinds=["list.entered"],
        public_ids=[world.ids["zhang"]],
    )
    work(session_factory)
    receiver.received.clear()
    script = (
        "import os, signal, sys\n"
        "from sqlalchemy import select\n"
        "from core.db import make_engine, make_session_factory\n"
        "from core.models import Feed\n"
        "from tests.support.credit import ingest, list_entry\n"
        "factory = make_session_factory(make_engine(sys.argv[1]))\n"
        "with factory() as session:\n"
        "    feed = session.scalar(select(Feed).where(Feed.code == 'court-debtors'))\n"
        "    ingest(session, feed, [list_entry('c9', listed_on='2026-05-02')])\n"
        "    session.commit()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script, database_url], cwd=root, env=env, timeout=120, check=False
    )
    assert done.returncode == -signal.SIGKILL
    with session_factory() as session:
        waiting = session.scalars(
            select(OutboxEvent.kind).where(OutboxEvent.fanned_out.is_(False))
        ).all()
        assert "list.entered" in waiting
    assert work(session_factory)["delivered"] == 1
    (got,) = receiver.received
    assert json.loads(got.body)["record"]["decision_date"] == "2026-05-02"


def audit_actions(session_factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_cancelled_subscription_gets_no_new_deliveries(
    client: FlaskClient, world: World, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    made = watch_zhang(client, world, receiver.url, "record.created")
    other = watch_zhang(client, world, receiver.url, "list.entered")
    work(session_factory)
    receiver.received.clear()
    # An event fanned out but not yet posted when the subscription is cancelled: never posted.
    store(session_factory, "court-debtors", [list_entry("c9")])
    with session_factory() as session:
        fan_out(session=session, today=date.fromisoformat(TODAY), grade_rules=GradeRules())
        session.commit()
    url = f"{URL}/{made['id']}"
    assert client.delete(url, headers=world.headers["drc"]).status_code == 404
    assert client.delete(url, headers=world.headers["fin"]).status_code == 204
    (audited,) = audit_actions(session_factory, "subscription.cancel")
    assert audited.target_id == str(made["id"])
    assert audited.details["pending_deliveries_cancelled"] == 1
    store(session_factory, "court-debtors", [list_entry("c10", listed_on="2026-05-03")])
    work(session_factory)
    assert kinds_received(receiver) == ["list.entered", "list.entered"], "only the other one"
    assert {json.loads(r.body)["subscription_id"] for r in receiver.received} == {other["id"]}
    shown = client.get(url, headers=world.headers["fin"]).json
    assert shown["active"] is False
    assert next(d["status"] for d in shown["deliveries"] if d["kind"] == "record.created") == (
        "cancelled"
    )
    # Again: nothing changes, nothing more in the audit trail.
    assert client.delete(url, headers=world.headers["fin"]).status_code == 204
    assert len(audit_actions(session_factory, "subscription.cancel")) == 1
    assert client.delete(f"{URL}/999999", headers=world.headers["fin"]).status_code == 404


def test_a_regulator_may_cancel_any_subscription_an_analyst_none(
    client: FlaskClient, world: World, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    made = watch_zhang(client, world, receiver.url, "record.created")
    url = f"{URL}/{made['id']}"
    assert client.delete(url, headers=world.headers["analyst"]).status_code == 403
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=world.headers["regulator"]).status_code == 204
    (audited,) = audit_actions(session_factory, "subscription.cancel")
    assert audited.role == "regulator"
    assert client.get(url, headers=world.headers["fin"]).json["active"] is False


def test_the_first_grade_change_after_subscribing_is_reported(
    client: FlaskClient, world: World, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    profile = client.get(
        f"/api/v1/entities/{world.ids['huaxin']}", headers=world.headers["regulator"]
    )
    assert profile.status_code == 200, profile.json
    before = profile.json["grade"]["letter"]
    # No worker pass between subscribing and the change: the baseline comes from subscribing.
    subscribe(
        client,
        world,
        "regulator",
        url=receiver.url,
        kinds=["grade.changed"],
        identifiers=[USCC_HUAXIN],
    )
    revoke_huaxin_licence(session_factory)
    work(session_factory)
    changes = [json.loads(r.body) for r in receiver.received]
    assert [c["kind"] for c in changes] == ["grade.changed"]
    assert changes[0]["data"]["from"] == before != changes[0]["data"]["to"]
    assert changes[0]["entity"]["public_id"] == world.ids["huaxin"]
    (audited,) = audit_actions(session_factory, "subscription.create")
    assert audited.details["grade_baselines"] == 1


def test_the_worker_loop_delivers_promptly_and_outlives_a_failing_pass(
    client: FlaskClient, world: World, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    watch_zhang(client, world, receiver.url, "list.entered")
    work(session_factory)
    receiver.received.clear()
    passes: list[str] = []

    def step(poster: Poster) -> dict[str, int]:
        if not passes:
            passes.append("failed")
            raise RuntimeError("database went away")  # logged; the next pass runs
        passes.append("ran")
        return run_once(
            session_factory=session_factory,
            policy=FAST,
            today=date.fromisoformat(TODAY),
            grade_rules=GradeRules(),
            poster=poster,
        )

    stop = threading.Event()
    loop = threading.Thread(
        target=run_loop, args=(step,), kwargs={"policy": FAST, "stop": stop, "poll_seconds": 0.05}
    )
    loop.start()
    try:
        store(session_factory, "court-debtors", [list_entry("c9", listed_on="2026-05-04")])
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(timeout=30)
    assert not loop.is_alive(), "the loop stops when asked"
    assert passes[0] == "failed" and "ran" in passes
    assert kinds_received(receiver) == ["list.entered"]


def test_a_webhook_secret_survives_the_masking_safety_net() -> None:
    # A hex secret (the first design) sometimes held a digit run that reads like a mobile
    # number, and the safety net starred it out of the one answer that shows it.
    assert scrub({"secret": "ab13812345678cd"}, MaskLevel.PARTIAL) != {"secret": "ab13812345678cd"}
    for _ in range(2000):
        secret = new_webhook_secret()
        assert len(secret) == 64 and secret.isalpha()
        assert scrub({"secret": secret}, MaskLevel.PARTIAL) == {"secret": secret}
