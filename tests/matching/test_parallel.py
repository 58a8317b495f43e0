"""Preparing and comparing on several processes gives exactly the serial result."""

from __future__ import annotations

import multiprocessing
from array import array

import pytest

from matching import parallel
from matching.blocking import BlockIndex
from matching.pair_levels import PairLevels, level_code
from matching.parallel import compare_codes, default_workers, prepare_all
from matching.records import MatchRecord, prepare
from matching.resolve import resolve
from matching.training import TrainingOptions
from tests.matching.test_resolve import generated_records

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)


@pytest.fixture(scope="module")
def records() -> list[MatchRecord]:
    # About 3,400 records: enough for two slices of the default minimum size.
    return [record for record, _ in generated_records(1_500, seed=5)]


def _same_levels(a: PairLevels, b: PairLevels) -> None:
    assert list(a.left) == list(b.left)
    assert list(a.right) == list(b.right)
    assert a.group == b.group
    assert a.rule == b.rule
    assert a.levels == b.levels


def test_prepare_all_on_three_processes_equals_serial(records: list[MatchRecord]) -> None:
    parallel = prepare_all(records, workers=3, min_slice=100)
    assert parallel == [prepare(r) for r in records]


def test_prepare_all_keeps_prepared_records_as_they_are(records: list[MatchRecord]) -> None:
    prepared = [prepare(r) for r in records[:300]]
    mixed = [*prepared, *records[300:600]]
    result = prepare_all(mixed, workers=2, min_slice=100)
    assert all(a is b for a, b in zip(result[:300], prepared, strict=True))
    assert result[300:] == [prepare(r) for r in records[300:600]]


def test_compare_codes_on_two_processes_equals_serial(records: list[MatchRecord]) -> None:
    prepared = [prepare(r) for r in records]
    index = BlockIndex()
    index.add(prepared)
    codes = array("q", index.pairs_for(range(len(prepared))))
    assert len(codes) > 200
    serial, serial_ruled = compare_codes(prepared, codes, workers=1)
    parallel, parallel_ruled = compare_codes(prepared, codes, workers=2, min_slice=100)
    _same_levels(parallel, serial)
    assert parallel_ruled == serial_ruled
    assert len(serial) + serial_ruled == len(codes)


def test_extend_recodes_levels_of_another_process() -> None:
    exact, missing = level_code("exact"), level_code("missing")
    other = PairLevels()
    other.left.append(0)
    other.right.append(1)
    other.group.append(0)
    other.rule.append(0)
    other.levels.extend(bytes([1, 0] + [0] * 7))  # that process coded "exact" 1
    recode = bytes([missing, exact]) + bytes(range(2, 256))
    joined = PairLevels()
    joined.extend(other, recode)
    assert joined.matrix()[0, 0] == exact
    assert joined.matrix()[0, 1] == missing


def test_resolve_with_two_workers_gives_the_same_clusters_and_model(
    records: list[MatchRecord],
) -> None:
    serial = resolve(records, training=TrainingOptions())
    parallel = resolve(records, training=TrainingOptions(), workers=2)
    assert parallel.clusters == serial.clusters
    assert parallel.confidence == serial.confidence
    assert parallel.counts == serial.counts
    assert serial.state.model is not None and parallel.state.model is not None
    assert parallel.state.model.weights == serial.state.model.weights
    assert [p.to_dict() for p in parallel.review_queue()] == [
        p.to_dict() for p in serial.review_queue()
    ]


def test_default_workers_is_at_least_one() -> None:
    assert default_workers() >= 1


def test_a_workers_slice_sent_back_in_pieces_keeps_the_order(
    records: list[MatchRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pieces of 250 items instead of 50,000: the joining is the same at any size.
    monkeypatch.setattr(parallel, "MAX_PIECE", 250)
    prepared = [prepare(r) for r in records]
    assert parallel.prepare_all(records, workers=2, min_slice=100) == prepared
    index = BlockIndex()
    index.add(prepared)
    codes = array("q", index.pairs_for(range(len(prepared))))
    serial, serial_ruled = compare_codes(prepared, codes, workers=1)
    pieces, pieces_ruled = compare_codes(prepared, codes, workers=2, min_slice=100)
    _same_levels(pieces, serial)
    assert pieces_ruled == serial_ruled


def test_records_prepared_by_a_worker_share_the_one_empty_code_set(
    records: list[MatchRecord],
) -> None:
    from matching.records import _NO_CODES

    parallel_ = prepare_all(records, workers=2, min_slice=100)
    worker_half = parallel_[len(parallel_) // 2 :]
    empty = [r.usccs for r in worker_half if not r.usccs]
    assert empty and all(codes is _NO_CODES for codes in empty)
