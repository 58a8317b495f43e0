"""Companies: a record without a code links only with corroboration (region, address, legal
representative, a code on the other side), never across cities by name alone; trade-name
variants compared on the parsed parts link at the same address or with the same legal
representative; a branch is never its parent, typos included."""

from __future__ import annotations

from typing import Any

import pytest

from matching.blocking import blocking_keys
from matching.compare import compare_name, compare_region
from matching.model import Decision, MatchConfig, score_pair
from matching.records import MatchRecord, Prepared, prepare
from matching.resolve import resolve

# A valid USCC registered in Guangzhou's Tianhe district (division 440106).
USCC_GZ = "91440106MA59C1XQ55"
ADDRESS = "广州市天河区体育西路100号"
REP = "陈建国"


def make_company(**overrides: Any) -> Prepared:
    fields: dict[str, Any] = {"record_id": "r", "name": "广州市鑫明科技有限公司"}
    fields.update(overrides)
    return prepare(MatchRecord(**fields))


def decide(a: Prepared, b: Prepared) -> Decision:
    return score_pair(a, b, MatchConfig()).decision


def test_the_fixture_code_is_a_valid_uscc_of_guangzhou() -> None:
    record = make_company(codes=(USCC_GZ,))
    assert record.usccs == {USCC_GZ}
    assert record.region == "4401"


# --------------------------------------------------------------------------- corroboration


def test_a_bare_name_without_region_or_code_goes_to_review_not_a_link() -> None:
    a = make_company(name="鑫明科技有限公司")
    b = make_company(name="鑫明科技有限公司")
    assert compare_region(a, b).level == "uncorroborated"
    assert decide(a, b) is Decision.UNSURE


@pytest.mark.parametrize(
    "corroboration",
    [
        pytest.param({"address": ADDRESS}, id="same address"),
        pytest.param({"legal_rep": REP}, id="same legal representative"),
    ],
)
def test_a_codeless_name_links_with_corroboration(corroboration: dict[str, str]) -> None:
    a = make_company(name="鑫明科技有限公司", **corroboration)
    b = make_company(name="鑫明科技有限公司", **corroboration)
    assert decide(a, b) is Decision.POSITIVE


def test_a_codeless_name_links_to_a_code_of_the_same_city() -> None:
    registered = make_company(name="鑫明科技有限公司", codes=(USCC_GZ,))
    bare = make_company(name="鑫明科技有限公司")
    in_city = make_company(name="鑫明科技有限公司", address="广州市越秀区中山路1号")
    assert decide(registered, bare) is Decision.POSITIVE
    assert compare_region(registered, in_city).level == "exact"
    assert decide(registered, in_city) is Decision.POSITIVE


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param(
            {"address": ADDRESS},
            {"address": "深圳市南山区科技园路1号"},
            id="addresses in two cities",
        ),
        pytest.param(
            {"codes": (USCC_GZ,)},
            {"address": "深圳市南山区科技园路1号"},
            id="USCC of one city, address in another",
        ),
        pytest.param(
            {"address": ADDRESS, "legal_rep": REP},
            {"address": "深圳市南山区科技园路1号", "legal_rep": REP},
            id="even with the same legal representative",
        ),
    ],
)
def test_the_same_name_in_two_cities_never_links(
    left: dict[str, Any], right: dict[str, Any]
) -> None:
    a = make_company(name="鑫明科技有限公司", **left)
    b = make_company(name="鑫明科技有限公司", **right)
    assert compare_region(a, b).level == "different"
    assert decide(a, b) is Decision.NEGATIVE


def test_two_same_name_companies_in_two_cities_stay_apart_when_resolved() -> None:
    records = [
        MatchRecord("gz1", "鑫明科技有限公司", codes=(USCC_GZ,), address=ADDRESS),
        MatchRecord("gz2", "鑫明科技有限公司", address=ADDRESS),
        MatchRecord("sz1", "鑫明科技有限公司", address="深圳市南山区科技园路1号"),
        MatchRecord("sz2", "鑫明科技有限公司", address="深圳市南山区科技园路1号"),
    ]
    clusters = resolve(records).clusters
    assert clusters["gz1"] == clusters["gz2"]
    assert clusters["sz1"] == clusters["sz2"]
    assert clusters["gz1"] != clusters["sz1"]


# --------------------------------------------------------------------------- trade-name variants

# (variant of 广州市鑫明科技有限公司, the level compare_name gives it)
VARIANTS = [
    pytest.param("广州市鑫名科技有限公司", "trade_homophone", id="homophone"),
    pytest.param("廣州市鑫明科技有限公司", "exact", id="traditional"),
    pytest.param("广州市鑫明科技有限责任公司", "exact", id="有限责任公司"),
    pytest.param("鑫明科技（广州）有限公司", "exact", id="region in brackets"),
    pytest.param("广州 鑫明 科技有限公司", "exact", id="stray spaces"),
]


@pytest.mark.parametrize(("variant", "level"), VARIANTS)
@pytest.mark.parametrize(
    "shared",
    [
        pytest.param({"address": ADDRESS}, id="at the same address"),
        pytest.param({"legal_rep": REP}, id="with the same legal representative"),
    ],
)
def test_a_trade_name_variant_links(variant: str, level: str, shared: dict[str, str]) -> None:
    a = make_company(**shared)
    b = make_company(name=variant, **shared)
    assert compare_name(a, b).level == level
    assert decide(a, b) is Decision.POSITIVE
    assert blocking_keys(a) & blocking_keys(b)


def test_full_width_letters_are_the_same_name() -> None:
    a = make_company(name="广州市ABC科技有限公司", address=ADDRESS)
    b = make_company(name="广州市ＡＢＣ科技有限公司", address=ADDRESS)
    assert compare_name(a, b).level == "exact"
    assert decide(a, b) is Decision.POSITIVE


def test_a_typo_in_a_two_character_trade_name_needs_address_and_legal_representative() -> None:
    typo = "广州市鑫朋科技有限公司"  # 明 -> 朋, a look-alike, not a homophone
    assert compare_name(make_company(), make_company(name=typo)).level == "trade_typo_short"
    at_address = decide(make_company(address=ADDRESS), make_company(name=typo, address=ADDRESS))
    assert at_address is Decision.UNSURE
    both = {"address": ADDRESS, "legal_rep": REP}
    assert decide(make_company(**both), make_company(name=typo, **both)) is Decision.POSITIVE
    # Nothing shared: a typo'd name alone is not the same company.
    assert decide(make_company(), make_company(name=typo)) is Decision.NEGATIVE


@pytest.mark.parametrize(
    "shared",
    [pytest.param({"address": ADDRESS}, id="address"), pytest.param({"legal_rep": REP}, id="rep")],
)
def test_a_typo_in_a_longer_trade_name_links_with_one_corroboration(shared: dict[str, str]) -> None:
    right, typo = "广州市鑫明达科技有限公司", "广州市鑫朋达科技有限公司"
    assert compare_name(make_company(name=right), make_company(name=typo)).level == "trade_typo"
    assert decide(make_company(name=right, **shared), make_company(name=typo, **shared)) is (
        Decision.POSITIVE
    )
    assert decide(make_company(name=right), make_company(name=typo)) is not Decision.POSITIVE


def test_sound_alike_covers_polyphones_and_fuzzy_finals() -> None:
    # 航 / 行 share the reading hang; 星 / 心 are xing / xin (front and back nasal).
    assert (
        compare_name(
            make_company(name="北京长航贸易有限公司"), make_company(name="北京长行贸易有限公司")
        ).level
        == "trade_homophone"
    )
    assert (
        compare_name(
            make_company(name="北京星金投资有限公司"), make_company(name="北京心金投资有限公司")
        ).level
        == "trade_homophone"
    )


def test_a_homophone_alone_is_not_a_link() -> None:
    assert decide(make_company(), make_company(name="广州市鑫名科技有限公司")) is not (
        Decision.POSITIVE
    )


def test_a_trade_name_of_another_industry_is_not_a_variant() -> None:
    a = make_company(address=ADDRESS)
    b = make_company(name="广州市鑫名贸易有限公司", address=ADDRESS)
    assert compare_name(a, b).level not in ("trade_homophone", "trade_typo")
    assert decide(a, b) is Decision.NEGATIVE


def test_a_homophone_in_another_city_never_links() -> None:
    a = make_company(address=ADDRESS, legal_rep=REP)
    b = make_company(name="深圳市鑫名科技有限公司", legal_rep=REP)
    assert compare_name(a, b).level == "region_differs"
    assert decide(a, b) is Decision.NEGATIVE


# --------------------------------------------------------------------------- branches

PARENT = "鑫明科技有限公司"
BRANCH = "鑫明科技有限公司西安分公司"
XIAN = "西安市雁塔区长安路5号"


@pytest.mark.parametrize(
    "typo",
    [
        pytest.param("鑫名科技有限公司西安分公司", id="trade-name homophone"),
        pytest.param("鑫明科技有限公司西按分公司", id="place homophone"),
        pytest.param("鑫明科技有限责任公司西安分公司", id="有限责任公司"),
    ],
)
def test_a_branch_written_with_a_typo_joins_the_branch_never_the_parent(typo: str) -> None:
    branch = make_company(name=BRANCH, address=XIAN, legal_rep=REP)
    written = make_company(name=typo, address=XIAN, legal_rep=REP)
    parent = make_company(name=PARENT, address=XIAN, legal_rep=REP)
    assert decide(branch, written) is Decision.POSITIVE
    explanation = score_pair(parent, written, MatchConfig())
    assert explanation.rule == "branch_not_parent"
    records = [
        MatchRecord("parent", PARENT, address=XIAN, legal_rep=REP),
        MatchRecord("branch", BRANCH, address=XIAN, legal_rep=REP),
        MatchRecord("typo", typo, address=XIAN, legal_rep=REP),
    ]
    clusters = resolve(records).clusters
    assert clusters["typo"] == clusters["branch"] != clusters["parent"]


def test_branches_in_two_places_stay_apart() -> None:
    xian = make_company(name=BRANCH, address=XIAN, legal_rep=REP)
    chengdu = make_company(name="鑫明科技有限公司成都分公司", address=XIAN, legal_rep=REP)
    assert decide(xian, chengdu) is Decision.NEGATIVE
