"""Comparators on real-looking Chinese records, the hard cases included."""

from __future__ import annotations

from typing import Any

from matching.compare import (
    compare_address,
    compare_birth_date,
    compare_identifiers,
    compare_legal_rep,
    compare_name,
    compare_phone,
)
from matching.records import MatchRecord, Prepared, prepare

USCC_A = "91110108551385082Q"
USCC_B = "91110000600037341L"
PERSON_ID = "11010519491231002X"


def make_prepared(**overrides: Any) -> Prepared:
    fields: dict[str, Any] = {"record_id": "r", "name": "北京星河科技有限公司"}
    fields.update(overrides)
    return prepare(MatchRecord(**fields))


def test_same_uscc_is_exact_and_says_so() -> None:
    result = compare_identifiers(
        make_prepared(codes=(USCC_A,)), make_prepared(codes=(USCC_A.lower(),))
    )
    assert result.level == "exact"
    assert USCC_A in result.why


def test_different_valid_usccs_conflict() -> None:
    result = compare_identifiers(make_prepared(codes=(USCC_A,)), make_prepared(codes=(USCC_B,)))
    assert result.level == "conflict"
    assert "different valid USCCs" in result.why


def test_old_codes_reach_the_uscc_through_the_organization_code() -> None:
    new = make_prepared(codes=(USCC_A,))
    assert compare_identifiers(new, make_prepared(codes=("55138508-2",))).level == "org_code"
    taxpayer = make_prepared(codes=(USCC_A[2:17],))
    assert compare_identifiers(new, taxpayer).level == "org_code"
    mistyped = make_prepared(codes=(USCC_A[:17] + "A",))
    assert compare_identifiers(new, mistyped).level == "org_code"


def test_masked_id_fits_the_full_number() -> None:
    full = make_prepared(name="张伟", kind="natural_person", codes=(PERSON_ID,))
    masked = make_prepared(name="张伟", kind="natural_person", codes=("110105********002X",))
    other = make_prepared(name="张伟", kind="natural_person", codes=("110105********1234",))
    assert compare_identifiers(full, masked).level == "masked"
    assert compare_identifiers(full, other).level == "different"
    old = make_prepared(name="张伟", kind="natural_person", codes=("110105491231002",))
    assert compare_identifiers(full, old).level == "exact"


def test_homonyms_with_different_valid_ids_conflict() -> None:
    a = make_prepared(name="王芳", kind="natural_person", codes=(PERSON_ID,))
    b = make_prepared(name="王芳", kind="natural_person", codes=("110101199001010015",))
    assert compare_name(a, b).level == "exact_common"  # 王芳: one of the commonest names
    assert compare_identifiers(a, b).level == "conflict"


def test_branch_against_its_parent() -> None:
    parent = make_prepared(name="北京星河科技有限公司")
    branch = make_prepared(name="北京星河科技有限公司上海分公司")
    result = compare_name(parent, branch)
    assert result.level == "branch_vs_parent"
    assert "上海分公司" in result.why
    other_branch = make_prepared(name="北京星河科技有限公司天津分公司")
    assert compare_name(branch, other_branch).level == "different"


def test_same_trade_name_in_two_cities() -> None:
    result = compare_name(
        make_prepared(name="北京星河科技有限公司"), make_prepared(name="上海星河科技有限公司")
    )
    assert result.level == "region_differs"
    assert "different regions" in result.why


def test_name_variants_are_exact() -> None:
    a = make_prepared(name="星河貿易（北京）有限公司")
    b = make_prepared(name="北京市星河贸易有限公司")
    assert compare_name(a, b).level == "exact"
    assert compare_name(a, make_prepared(name="星河贸易有限公司")).level == "exact"


def test_typo_in_the_trade_name_is_similar_not_exact() -> None:
    a = make_prepared(name="北京星河网络科技有限公司")
    b = make_prepared(name="北京星鑫网络科技有限公司")
    assert compare_name(a, b).level in ("high", "trade_typo", "trade_typo_short", "partial")


def test_other_fields() -> None:
    a = make_prepared(legal_rep="张伟", address="北京市朝阳区建国路88号", phone="010-8888 6666")
    b = make_prepared(legal_rep="張偉", address="北京朝阳区建国路88号", phone="(010)88886666")
    assert compare_legal_rep(a, b).level == "exact"
    assert compare_address(a, b).level in ("exact", "high")
    assert compare_phone(a, b).level == "exact"
    assert compare_birth_date(a, b).level == "missing"
    assert compare_birth_date(a, b).score is None
    c = make_prepared(address="上海市黄浦区南京东路1号")
    assert compare_address(a, c).level == "different"


def _latin(**overrides: Any) -> Prepared:
    fields: dict[str, Any] = {"record_id": "r", "name": "Joshua Berry", "kind": "natural_person"}
    fields.update(overrides)
    return prepare(MatchRecord(**fields))


def test_latin_names_compare_word_by_word_in_either_order() -> None:
    assert _latin().latin_tokens == ("JOSHUA", "BERRY")
    assert compare_name(_latin(), _latin(name="berry  joshua")).level == "exact"
    swapped = compare_name(_latin(), _latin(name="Bery Joshua"))
    assert swapped.level == "high" and "swapped" in swapped.why
    assert compare_name(_latin(), _latin(name="Joshua")).level == "one_word"
    assert compare_name(_latin(), _latin(name="Zachary Smith")).level == "different"
    assert make_prepared(name="张伟", kind="natural_person").latin_tokens == ()


def test_other_codes_one_typo_apart_are_near() -> None:
    near = compare_identifiers(_latin(codes=("3631759",)), _latin(codes=("3631795",)))
    assert near.level == "near"
    far = compare_identifiers(_latin(codes=("3631759",)), _latin(codes=("3007951",)))
    assert far.level == "other_differs"


def test_birth_dates_with_day_and_month_swapped_or_one_typo_are_near() -> None:
    base = _latin(birth_date="1955-05-09")
    assert compare_birth_date(base, _latin(birth_date="1955-09-05")).level == "near"
    assert compare_birth_date(base, _latin(birth_date="1956-05-09")).level == "near"
    assert compare_birth_date(base, _latin(birth_date="1971-12-30")).level == "different"
