"""Decisions, hard rules and explanations of the scoring model."""

from __future__ import annotations

import json
from typing import Any

from matching.model import Decision, MatchConfig, score_pair
from matching.records import MatchRecord, Prepared, prepare

USCC_A = "91110108551385082Q"
USCC_B = "91110000600037341L"


def make_prepared(**overrides: Any) -> Prepared:
    fields: dict[str, Any] = {"record_id": "r", "name": "北京星河科技有限公司"}
    fields.update(overrides)
    return prepare(MatchRecord(**fields))


CONFIG = MatchConfig()


def test_same_uscc_links_with_an_explanation() -> None:
    result = score_pair(
        make_prepared(record_id="a", codes=(USCC_A,)),
        make_prepared(record_id="b", name="星河科技（北京）有限公司", codes=(USCC_A,)),
        CONFIG,
    )
    assert result.decision is Decision.POSITIVE
    data = result.to_dict()
    json.dumps(data, ensure_ascii=False)
    fields = {c["field"]: c for c in data["comparisons"]}  # type: ignore[attr-defined]
    assert fields["identifiers"]["level"] == "exact"
    assert data["thresholds"] == {"positive": 0.9, "review": 0.5}


def test_different_valid_usccs_never_match_even_with_the_same_name() -> None:
    result = score_pair(
        make_prepared(codes=(USCC_A,), legal_rep="张伟"),
        make_prepared(codes=(USCC_B,), legal_rep="张伟"),
        CONFIG,
    )
    assert result.decision is Decision.NEGATIVE
    assert result.rule == "different_valid_uscc"


def test_branch_is_not_its_parent() -> None:
    result = score_pair(
        make_prepared(legal_rep="张伟"),
        make_prepared(name="北京星河科技有限公司上海分公司", legal_rep="张伟"),
        CONFIG,
    )
    assert result.decision is Decision.NEGATIVE
    assert result.rule == "branch_not_parent"


def test_homonyms_with_different_ids_never_match() -> None:
    result = score_pair(
        make_prepared(name="王芳", kind="natural_person", codes=("11010519491231002X",)),
        make_prepared(name="王芳", kind="natural_person", codes=("110101199001010015",)),
        CONFIG,
    )
    assert result.rule == "different_valid_resident_id"


def test_masked_id_with_the_same_name_links() -> None:
    result = score_pair(
        make_prepared(name="张伟", kind="natural_person", codes=("11010519491231002X",)),
        make_prepared(name="張偉", kind="natural_person", codes=("110105********002X",)),
        CONFIG,
    )
    assert result.decision is Decision.POSITIVE


def test_name_alone_is_not_enough_for_a_person() -> None:
    result = score_pair(
        make_prepared(name="张伟", kind="natural_person"),
        make_prepared(name="张伟", kind="natural_person"),
        CONFIG,
    )
    assert result.decision is Decision.NEGATIVE


def test_reviewer_rejection_wins_over_any_score() -> None:
    result = score_pair(
        make_prepared(codes=(USCC_A,)), make_prepared(codes=(USCC_A,)), CONFIG, rejected=True
    )
    assert (result.decision, result.rule) == (Decision.NEGATIVE, "reviewer_rejected")


def test_thresholds_come_from_the_config() -> None:
    a = make_prepared(name="北京星河科技有限公司")
    b = make_prepared(name="北京星河科技有限公司")
    # A full company name agreeing in the same region is enough by default (p ~ 0.94).
    assert score_pair(a, b, CONFIG).decision is Decision.POSITIVE
    assert score_pair(a, b, MatchConfig(positive_threshold=0.99)).decision is Decision.UNSURE
    strict = MatchConfig(positive_threshold=0.999, review_threshold=0.99)
    assert score_pair(a, b, strict).decision is Decision.NEGATIVE
