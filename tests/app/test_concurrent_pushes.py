"""The same records pushed by two requests at once (a department's retry racing its first try,
or two senders of one feed): each item gets an answer, and each record is stored once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import CreditRecord, SourceRecord
from tests.support.push import make_push_feed, penalty_item

ROUNDS = 4
ITEMS = 60


def test_the_same_push_twice_at_once_stores_each_record_once(
    app: Flask, session_factory: sessionmaker[Session]
) -> None:
    headers = make_push_feed(session_factory)
    statuses: list[int] = []
    answers: list[Any] = []
    lock = threading.Lock()

    def send(body: dict[str, Any], barrier: threading.Barrier) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/records", json=body, headers=headers)
        with lock:
            statuses.append(response.status_code)
            answers.append(response.get_json())

    for round_ in range(ROUNDS):
        body = {
            "feed": "epb-push",
            "records": [penalty_item(f"r{round_}-{i}") for i in range(ITEMS)],
        }
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=send, args=(body, barrier)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * (2 * ROUNDS), answers
    with session_factory() as session:
        kept = Counter(session.scalars(select(SourceRecord.source_key)))
        records = session.scalar(select(func.count()).select_from(CreditRecord))
    # Each key once as received, plus at most once more as the duplicate of the second request.
    assert len(kept) == ROUNDS * ITEMS
    assert max(kept.values()) <= 2
    assert records == ROUNDS * ITEMS
