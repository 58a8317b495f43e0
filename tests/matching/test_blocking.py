"""Blocking finds true pairs without comparing everything, and caps oversized blocks."""

from __future__ import annotations

from typing import Any

from matching.blocking import BlockIndex, BlockingStats, blocking_keys
from matching.records import MatchRecord, Prepared, prepare


def make_prepared(**overrides: Any) -> Prepared:
    fields: dict[str, Any] = {"record_id": "r", "name": "北京星河科技有限公司"}
    fields.update(overrides)
    return prepare(MatchRecord(**fields))


def _pairs(
    index: BlockIndex, new: range, stats: BlockingStats | None = None
) -> set[tuple[int, int]]:
    return {index.decode(code) for code in index.pairs_for(new, stats)}


def test_old_code_and_uscc_share_the_organization_code_key() -> None:
    new = blocking_keys(make_prepared(codes=("91110108551385082Q",)))
    old = blocking_keys(make_prepared(name="别名", codes=("55138508-2",)))
    assert "O551385082" in new & old


def test_masked_and_full_id_share_region_and_tail() -> None:
    full = make_prepared(name="张伟", kind="natural_person", codes=("11010519491231002X",))
    masked = make_prepared(name="张伟", kind="natural_person", codes=("110105********002X",))
    assert blocking_keys(full) & blocking_keys(masked)


def test_typo_in_a_three_character_trade_name_still_meets() -> None:
    a = blocking_keys(make_prepared(name="北京星河湾科技有限公司"))
    b = blocking_keys(make_prepared(name="北京星鑫湾科技有限公司"))
    assert any(key.startswith("D") for key in a & b)


def test_pairs_come_only_from_shared_keys() -> None:
    index = BlockIndex()
    new = index.add(
        [
            make_prepared(name="北京星河科技有限公司"),
            make_prepared(name="星河科技（北京）有限公司"),
            make_prepared(name="上海云帆物流有限公司"),
        ]
    )
    stats = BlockingStats()
    assert _pairs(index, new, stats) == {(0, 1)}
    assert stats.pairs == 1


def test_oversized_blocks_are_skipped_and_reported() -> None:
    index = BlockIndex(max_block_size=3, max_name_block_size=3)
    new = index.add(
        make_prepared(name="北京星河科技有限公司", phone="13800000000") for _ in range(5)
    )
    stats = BlockingStats()
    assert _pairs(index, new, stats) == set()
    assert stats.skipped["N星河科技"] == 5
    assert stats.to_dict()["oversized_blocks"] == len(stats.skipped)


def test_a_new_batch_only_pairs_with_new_records() -> None:
    index = BlockIndex()
    first = index.add([make_prepared(), make_prepared()])
    assert _pairs(index, first) == {(0, 1)}
    second = index.add([make_prepared(), make_prepared(name="上海云帆物流有限公司")])
    assert _pairs(index, second) == {(0, 2), (1, 2)}


def test_latin_person_names_meet_despite_swaps_and_typos() -> None:
    from matching.blocking import blocking_keys
    from matching.records import MatchRecord, prepare

    def keys(name: str, birth: str, postcode: str = "2600") -> set[str]:
        record = MatchRecord("r", name, "natural_person", birth_date=birth, postcode=postcode)
        return blocking_keys(prepare(record))

    base = keys("Joshua Berry", "1955-05-19")
    assert base & keys("Berry Joshua", "1955-05-19", "2911")  # swapped words
    assert base & keys("Joshau Berry", "1955-05-19", "2911")  # typo, same birth date
    assert base & keys("Jsohua Bery", "1955-09-15", "2600")  # typos, same year + postcode


def _brute_force_pairs(records: list[Prepared], new: range) -> set[tuple[int, int]]:
    keys = [blocking_keys(r) for r in records]
    return {(i, j) for j in new for i in range(j) if keys[i] & keys[j]}


def test_pairs_are_those_sharing_a_key_in_one_fill_and_in_batches() -> None:
    # Keys held by one record are stored as a bare index, shared ones as lists: both must
    # give exactly the pairs of records sharing a key, whether the index is filled at once
    # (no touched-key bookkeeping) or batch by batch.
    names = [
        "北京星河科技有限公司",
        "星河科技（北京）有限公司",
        "北京星河料技有限公司",
        "上海云帆物流有限公司",
        "云帆物流（上海）有限公司",
        "广州白云贸易有限公司",
    ]
    records = [
        make_prepared(name=n, legal_rep="张伟" if k % 2 else None) for k, n in enumerate(names * 2)
    ]
    whole = BlockIndex()
    new = whole.add(records)
    assert _pairs(whole, new) == _brute_force_pairs(records, new)
    batched = BlockIndex()
    found: set[tuple[int, int]] = set()
    for start in range(0, len(records), 5):
        part = batched.add(records[start : start + 5])
        got = _pairs(batched, part)
        assert got == _brute_force_pairs(records[: part.stop], part)
        found |= got
    assert found == _brute_force_pairs(records, range(len(records)))
