"""The shared rate-limit store: ``limits`` on the database (both backends) and on a real Redis.

"Shared" is the point: two engines on one database stand for two worker processes (or two
servers), and they must count together."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine

from core.db import make_engine
from core.rate_limits import BATCH_SHARE, BatchedFixedWindow, DatabaseStorage, storage_for
from tests.support.redis import RedisServer


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    other = make_engine(database_url)
    yield other
    other.dispose()


def test_two_processes_on_one_database_share_the_count(
    engine: Engine, second_engine: Engine
) -> None:
    one = FixedWindowRateLimiter(DatabaseStorage(engine))
    two = FixedWindowRateLimiter(DatabaseStorage(second_engine))
    budget = RateLimitItemPerMinute(5)
    allowed = [limiter.hit(budget, "client:1") for limiter in (one, two, one, two, one, two)]
    assert allowed == [True] * 5 + [False]
    # another caller has its own budget
    assert two.hit(budget, "client:2")
    stats = one.get_window_stats(budget, "client:1")
    assert stats.remaining == 0 and 0 < stats.reset_time - time.time() <= 60


def test_concurrent_hits_are_all_counted(engine: Engine, second_engine: Engine) -> None:
    storages = [DatabaseStorage(engine), DatabaseStorage(second_engine)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(lambda i: storages[i % 2].incr("key", 60), range(40)))
    assert sorted(counts) == list(range(1, 41))
    assert storages[0].get("key") == 40


def test_an_expired_window_starts_again(engine: Engine) -> None:
    storage = DatabaseStorage(engine)
    limiter = FixedWindowRateLimiter(storage)
    budget = RateLimitItemPerSecond(2)
    assert limiter.hit(budget, "k") and limiter.hit(budget, "k") and not limiter.hit(budget, "k")
    time.sleep(1.1)
    assert storage.get(budget.key_for("k")) == 0
    assert limiter.hit(budget, "k")
    storage.clear(budget.key_for("k"))
    assert storage.get(budget.key_for("k")) == 0
    assert storage.check()
    storage.incr("a", 60)
    assert storage.reset() == 1


def test_batched_windows_write_large_budgets_in_batches_and_overrun_them_by_little(
    engine: Engine, second_engine: Engine
) -> None:
    storages = [DatabaseStorage(engine), DatabaseStorage(second_engine)]
    one, two = (BatchedFixedWindow(s) for s in storages)
    budget = RateLimitItemPerMinute(1000)  # a process holds back at most 10 hits
    allowed = sum(limiter.hit(budget, "client:1") for limiter in (one, two) * 600)
    # every process wrote its hits at least every eleventh one: the shared count lags by < 11
    shared = storages[0].get(budget.key_for("client:1"))
    assert 1200 - 2 * (1000 // BATCH_SHARE) <= shared <= 1200
    # the budget held, overrun by at most what each process holds back
    assert 1000 <= allowed <= 1000 + 2 * (1000 // BATCH_SHARE)
    assert not one.hit(budget, "client:1") and not two.hit(budget, "client:1")


def test_batched_windows_write_small_budgets_hit_by_hit(
    engine: Engine, second_engine: Engine
) -> None:
    storage = DatabaseStorage(engine)
    one, two = BatchedFixedWindow(storage), BatchedFixedWindow(DatabaseStorage(second_engine))
    budget = RateLimitItemPerMinute(BATCH_SHARE - 1)
    allowed = [limiter.hit(budget, "k") for limiter in (one, two) * BATCH_SHARE]
    assert allowed == [True] * (BATCH_SHARE - 1) + [False] * (BATCH_SHARE + 1)
    assert storage.get(budget.key_for("k")) == 2 * BATCH_SHARE


def test_batched_windows_start_again_when_the_window_expires(engine: Engine) -> None:
    limiter = BatchedFixedWindow(DatabaseStorage(engine))
    budget = RateLimitItemPerSecond(2)
    assert limiter.hit(budget, "k") and limiter.hit(budget, "k") and not limiter.hit(budget, "k")
    time.sleep(1.1)
    assert limiter.hit(budget, "k")


def test_the_database_is_the_default_and_redis_is_used_when_configured(
    engine: Engine, redis_server: RedisServer
) -> None:
    assert isinstance(storage_for(engine=engine), DatabaseStorage)
    redis = storage_for(engine=engine, redis_url=redis_server.url)
    assert isinstance(redis, RedisStorage) and redis.check()


def _shared(storages: list[Storage]) -> list[bool]:
    limiters = [FixedWindowRateLimiter(s) for s in storages]
    budget = RateLimitItemPerMinute(3)
    return [limiters[i % len(limiters)].hit(budget, "shared") for i in range(4)]


def test_two_servers_on_one_redis_share_the_count(redis_server: RedisServer) -> None:
    one = storage_for(engine=None, redis_url=redis_server.url)  # type: ignore[arg-type]
    two = storage_for(engine=None, redis_url=redis_server.url)  # type: ignore[arg-type]
    one.reset()
    assert _shared([one, two]) == [True, True, True, False]
