"""The new-code locks a batch takes before linking on PostgreSQL: only codes no entity holds,
at most ``BUCKETS`` of them, none on SQLite (its write lock already orders batches)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from ingest.pipeline.link_locks import BUCKETS, lock_new_codes
from matching.exact import PartyKeys, party_keys
from tests.ingest.test_parallel_feeds import company_code
from tests.support.credit import make_company


def keys_of(*codes: str) -> list[PartyKeys]:
    return [
        party_keys({"party_name": f"锁{n}科技有限公司", "uscc": code})
        for n, code in enumerate(codes)
    ]


def test_only_codes_no_entity_holds_are_locked(session: Session, backend: str) -> None:
    make_company(session, name="已知科技有限公司", uscc=company_code(0))
    session.flush()
    known = lock_new_codes(session, keys_of(company_code(0)))
    new = lock_new_codes(session, keys_of(company_code(0), company_code(1), company_code(2)))
    if backend == "sqlite":
        assert (known, new) == (0, 0)
        return
    assert (known, new) == (0, 2)
    held = session.scalar(
        text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
    )
    assert held == 2


def test_a_batch_holds_at_most_the_bucket_count(session: Session, backend: str) -> None:
    taken = lock_new_codes(session, keys_of(*(company_code(n) for n in range(3 * BUCKETS))))
    if backend == "sqlite":
        assert taken == 0
    else:
        assert BUCKETS * 0.9 < taken <= BUCKETS
