"""The held-out generator (benchmarks/heldout): deterministic, identifiers right by python-stdnum,
typos wrong by it, phenomena at the README's rates, and the pairwise scorer right by hand."""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from benchmarks.heldout import entities as ents
from benchmarks.heldout import identifiers as ids
from benchmarks.heldout import model
from benchmarks.heldout.records import Record, generate
from benchmarks.heldout.run import main, resolve_command, review_count, unsure_pair_count
from benchmarks.heldout.scoring import conflicting_clusters, pairwise, strong_identifier
from benchmarks.heldout.vocab import COMMON_NAMES, DISTRICTS

N = 20000


@cache
def _records() -> tuple[Record, ...]:
    return tuple(generate(N, seed=11))


def _of(kind: str) -> list[Record]:
    return [r for r in _records() if r.kind == kind]


def _assert_rate(hits: int, total: int, expected: float) -> None:
    """Within four binomial standard deviations (plus a little slack for tiny rates)."""
    tolerance = 4 * math.sqrt(expected * (1 - expected) / total) + 0.002
    assert abs(hits / total - expected) <= tolerance, (hits, total, expected)


# --- determinism ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_records() -> None:
    first = [r.row() for r in generate(3000, seed=5)]
    again = [r.row() for r in generate(3000, seed=5)]
    other = [r.row() for r in generate(3000, seed=6)]
    assert first == again
    assert first != other
    assert len(first) == 3000
    assert len({r["record_id"] for r in first}) == 3000


# --- identifiers ---------------------------------------------------------------------------


def test_check_characters_agree_with_the_domain_examples_and_stdnum() -> None:
    for code in ("91110000600037341L", "91110108551385082Q", "9135021359498494XQ"):
        assert ids.uscc_check(code[:17]) == code[17]
    assert ids.ric_from_15("110105491231002") == "11010519491231002X"
    rng = random.Random(3)
    for _ in range(500):
        district = rng.choice(DISTRICTS).code
        assert uscc.is_valid(ids.make_uscc(district, ids.new_org_code(rng)))
        digits17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert ids.ric_check(digits17) == ric.calc_check_digit(digits17 + "0")  # wants 18
        assert ric.is_valid(ents.new_person("P", rng, set()).ric)


def test_every_valid_form_passes_stdnum_and_points_at_the_entity() -> None:
    uscc_of: dict[str, set[str]] = defaultdict(set)
    for r in _records():
        if "code_uscc" in r.tags:
            assert uscc.is_valid(r.code)
            uscc_of[r.true_entity].add(r.code)
        elif "code_org_code" in r.tags:
            org = r.code.replace("-", "")
            assert len(org) == 9 and ids.org_code_check(org[:8]) == org[8]
        elif "code_taxpayer15" in r.tags:
            assert len(r.code) == 15 and ids.org_code_check(r.code[6:14]) == r.code[14]
        elif "id_ric18" in r.tags:
            assert ric.is_valid(r.id_number)
        elif "id_ric15" in r.tags:
            assert len(r.id_number) == 15 and ric.is_valid(ids.ric_from_15(r.id_number))
        elif "id_masked" in r.tags:
            assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", r.id_number)
    assert all(len(codes) == 1 for codes in uscc_of.values())


def test_deliberate_typos_fail_stdnum() -> None:
    typos = [r for r in _records() if {"code_uscc_typo", "id_typo", "id_transposed"} & set(r.tags)]
    assert len(typos) > 300
    for r in typos:
        assert not uscc.is_valid(r.code) if r.kind == "company" else not ric.is_valid(r.id_number)
        assert strong_identifier(r.code, r.id_number) is None


# --- rates and phenomena --------------------------------------------------------------------


def _tag_rate(records: list[Record], tag: str, expected: float) -> None:
    _assert_rate(sum(tag in r.tags for r in records), len(records), expected)


def test_kinds_departments_and_company_code_forms_follow_the_model() -> None:
    entity_kinds = {r.true_entity: r.kind for r in _records()}
    _assert_rate(Counter(entity_kinds.values())["company"], len(entity_kinds), model.COMPANY_SHARE)
    for kind in ("company", "person"):
        departments = Counter(r.department for r in _of(kind))
        for dept, share in model.DEPARTMENT_MIX[kind].items():
            _assert_rate(departments[dept], len(_of(kind)), share)
    for form, share in model.COMPANY_CODE_MIX.items():
        _tag_rate(_of("company"), f"code_{form}", share)


def test_person_id_forms_follow_the_per_department_mix() -> None:
    for dept in model.DEPARTMENT_MIX["person"]:
        records = [r for r in _of("person") if r.department == dept]
        for form, share in model.PERSON_ID_MIX[dept].items():
            _tag_rate(records, f"id_{form}", share)


def test_name_and_address_variants_follow_the_model() -> None:
    companies = _of("company")
    for variant in ("homophone", "traditional", "full_width", "space"):
        _tag_rate(companies, f"name_{variant}", model.COMPANY_NAME_NOISE[variant])
    not_branches = [r for r in companies if "分公司" not in r.name]
    _tag_rate(not_branches, "name_region_moved", model.COMPANY_NAME_NOISE["region_moved"])
    swappable = [r for r in companies if "股份" not in r.name]
    _tag_rate(swappable, "name_legal_form", model.COMPANY_NAME_NOISE["legal_form"])
    for variant in ("traditional", "space"):
        _tag_rate(_of("person"), f"name_{variant}", model.PERSON_NAME_NOISE[variant])
    _tag_rate(companies, "address_missing", model.ADDRESS_NOISE["missing"])
    _tag_rate(companies, "legal_rep_missing", model.LEGAL_REP_MISSING)


def test_the_named_phenomena_appear() -> None:
    names = [r.name for r in _records()]
    assert any(re.search(r"（.+）有限", n) for n in names)  # region in brackets
    assert any("有限責任公司" in n or "貿易" in n for n in names)  # traditional
    assert any(re.search("[Ａ-Ｚ０-９]", n) for n in names)  # full-width Latin / digits
    assert any("分公司" in n for n in names)
    assert any(" " in n for n in names)
    births = [r.birth_date for r in _of("person") if r.birth_date]
    assert any(re.fullmatch(r"\d{8}", b) for b in births)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d", b) for b in births)
    assert any(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", b) for b in births)
    no_id = [r for r in _of("person") if "id_none" in r.tags]
    assert no_id and all(r.birth_date for r in no_id)


def test_common_names_are_shared_by_different_people() -> None:
    people_by_name: dict[str, set[str]] = defaultdict(set)
    for r in _of("person"):
        people_by_name[r.name].add(r.true_entity)
    assert all(len(people_by_name[name]) >= 5 for name in COMMON_NAMES[:3])


def test_branches_and_same_name_companies_are_different_entities() -> None:
    rng, earlier, used = random.Random(2), [], set()  # type: list[ents.Company]
    for serial in range(6000):
        earlier.append(ents.new_company(f"C{serial}", rng, earlier, used))
    branches = [c for c in earlier if c.is_branch]
    twins = [c for c in earlier if c.same_name_as]
    _assert_rate(len(branches), len(earlier), model.BRANCH_RATE)
    _assert_rate(len(twins), len(earlier), model.SAME_NAME_RATE)
    by_id = {c.entity_id: c for c in earlier}
    for branch in branches:
        assert branch.name.startswith(branch.parent_name) and branch.name.endswith("分公司")
    for twin in twins:
        other = by_id[twin.same_name_as]
        assert twin.name.endswith(other.trade + other.industry + other.legal_form)
        assert twin.district.city != other.district.city and twin.uscc != other.uscc
    assert len({c.uscc for c in earlier}) == len(earlier)


# --- scoring --------------------------------------------------------------------------------

TRUTH = {"a": "X", "b": "X", "c": "X", "d": "Y", "e": "Y", "f": "Z"}  # 3 + 1 = 4 true pairs


def test_perfect_clustering_scores_one() -> None:
    scores = pairwise(dict(TRUTH), TRUTH)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)


def test_all_merged_and_all_split() -> None:
    merged = pairwise(dict.fromkeys(TRUTH, "one"), TRUTH)
    assert (merged.true_positives, merged.predicted_pairs, merged.true_pairs) == (4, 15, 4)
    assert merged.recall == 1.0 and merged.precision == pytest.approx(4 / 15)
    split = pairwise({k: k for k in TRUTH}, TRUTH)
    assert (split.predicted_pairs, split.recall, split.f1) == (0, 0.0, 0.0)
    missing = pairwise({}, TRUTH)  # unlinked records are singletons
    assert missing.predicted_pairs == 0 and missing.true_pairs == 4


def test_a_hand_made_mixed_clustering() -> None:
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "2", "f": "3"}
    scores = pairwise(predicted, TRUTH)  # TP: a-b, d-e; predicted: a-b, c-d, c-e, d-e
    assert (scores.true_positives, scores.predicted_pairs) == (2, 4)
    assert scores.precision == 0.5 and scores.recall == 0.5 and scores.f1 == 0.5


def test_conflicting_clusters_count_two_valid_codes_of_one_kind() -> None:
    one, two = "91110000600037341L", "91110108551385082Q"
    person = "11010519491231002X"
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "3", "f": "3"}
    strong = [("a", strong_identifier(one, "")), ("b", strong_identifier(two, ""))]
    strong += [("c", strong_identifier(one, "")), ("d", strong_identifier("", person))]
    strong += [
        ("e", strong_identifier("", "110105491231002")),
        ("f", strong_identifier("", person)),
    ]
    assert conflicting_clusters(predicted, strong) == 1  # only cluster 1


# --- runner ---------------------------------------------------------------------------------


def test_the_resolve_command_maps_every_column() -> None:
    command = resolve_command(Path("in.csv"), Path("out.csv"))
    assert "code=code+id_number" in command and "--kind-column" in command
    summary = (
        "9 records -> 4 entities; 2 entity pairs would go to review (22.22% of records; "
        "5 unsure record pairs: 1 settled by other links, 0 kept apart by a rule or a "
        "reviewer); written to out.csv"
    )
    assert (review_count(summary), unsure_pair_count(summary)) == (2, 5)
    # The summary before the queue held one item per pair of entities.
    assert review_count("9 records -> 4 entities; 3 pairs would go to review; ...") == 3
    assert review_count("no summary") is None and unsure_pair_count("no summary") is None


def test_the_command_runs_the_resolver_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--records", "120", "--seed", "4", "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["records"] == 120 and 0.0 <= result["f1"] <= 1.0
    # The resolver's summary line is read: its questions and the raw unsure pairs.
    assert 0 <= result["review_pairs"] <= result["unsure_pairs"]
    assert (tmp_path / "heldout-120-4.csv").exists()
