"""End to end: resolve() on hand-made and generated records (ground truth from the sample
generator's population, with the noise real feeds carry)."""

from __future__ import annotations

import gc
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from itertools import combinations
from typing import Any

import pytest
from stdnum.cn import ric

from demo.noise import to_traditional
from demo.population import EntityKind, SyntheticEntity, iter_entities
from matching.identifiers import parse_identifier
from matching.model import Decision, MatchConfig, score_pair
from matching.records import MatchRecord
from matching.resolve import ALGORITHM, resolve, resolve_incremental

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_record(**overrides: Any) -> MatchRecord:
    fields: dict[str, Any] = {"record_id": "r1", "name": "北京星河科技有限公司"}
    fields.update(overrides)
    return MatchRecord(**fields)


# --------------------------------------------------------------------------- generated data


def _company_code(rng: random.Random, entity: SyntheticEntity) -> tuple[str, ...]:
    code = entity.uscc
    if code is None:
        return (
            (entity.registration_number,)
            if entity.registration_number and rng.random() < 0.5
            else ()
        )
    draw = rng.random()
    if draw < 0.03:
        return ()
    if draw < 0.07 and entity.org_code:
        return (f"{entity.org_code[:8]}-{entity.org_code[8]}",)
    if draw < 0.12:
        return (code[2:17],)  # old taxpayer number
    if draw < 0.14:
        return (code.lower(),)
    if draw < 0.16:
        wrong = rng.choice(_USCC_ALPHABET.replace(code[17], ""))
        return (code[:17] + wrong,)
    return (code,)


def _company_name(rng: random.Random, entity: SyntheticEntity) -> str:
    name = entity.name
    if entity.alt_names and rng.random() < 0.15:
        name = rng.choice(entity.alt_names)
    if rng.random() < 0.03:
        name = to_traditional(name)
    if rng.random() < 0.02 and entity.brand in name and len(entity.brand) >= 2:
        i = rng.randrange(len(entity.brand))
        typo = entity.brand[:i] + "鑫" + entity.brand[i + 1 :]
        name = name.replace(entity.brand, typo, 1)
    if rng.random() < 0.03:
        name = name.replace("（", "(").replace("）", ")") + "\u3000"
    return name


def _person_code(rng: random.Random, number: str) -> tuple[str, ...]:
    draw = rng.random()
    if draw < 0.3:
        return (number[:6] + "********" + number[14:],)  # public-list mask: region + tail
    if draw < 0.38:
        return (number[:14] + "****",)  # mask keeping the birth date
    if draw < 0.42 and number[6:8] == "19":
        return (number[:6] + number[8:17],)  # old 15-digit form
    if draw < 0.47:
        return ()
    return (number,)


def generated_records(entities: int, seed: int = 7) -> Iterator[tuple[MatchRecord, str]]:
    """(record, true entity key) for a noisy population of ``entities`` entities."""
    rng = random.Random(seed)
    serial = 0
    for entity in iter_entities(entities, seed=seed):
        copies = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        for _ in range(copies):
            serial += 1
            record_id = f"R{serial:07d}"
            if entity.kind is EntityKind.NATURAL_PERSON:
                assert entity.resident_id is not None
                name = to_traditional(entity.name) if rng.random() < 0.01 else entity.name
                record = MatchRecord(
                    record_id=record_id,
                    name=name,
                    kind="natural_person",
                    codes=_person_code(rng, entity.resident_id),
                )
            else:
                kind = (
                    "individual_business"
                    if entity.kind is EntityKind.INDIVIDUAL_BUSINESS
                    else "legal_entity"
                )
                rep = entity.legal_rep if rng.random() < 0.9 else None
                record = MatchRecord(
                    record_id=record_id,
                    name=_company_name(rng, entity),
                    kind=kind if rng.random() < 0.8 else None,
                    codes=_company_code(rng, entity),
                    legal_rep=rep,
                    address=entity.address if rng.random() < 0.4 else None,
                )
            yield record, entity.key


def pairwise_scores(clusters: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of predicted clusters against true entities."""

    def pairs(labels: dict[str, str]) -> set[tuple[str, str]]:
        groups: dict[str, list[str]] = defaultdict(list)
        for record_id, label in labels.items():
            groups[label].append(record_id)
        return {p for members in groups.values() for p in combinations(sorted(members), 2)}

    predicted, actual = pairs(clusters), pairs(truth)
    hits = len(predicted & actual)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(actual) if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@pytest.fixture(scope="module")
def generated() -> tuple[list[MatchRecord], dict[str, str]]:
    data = list(generated_records(900, seed=11))
    return [r for r, _ in data], {r.record_id: key for r, key in data}


# --------------------------------------------------------------------------- tests


def test_resolve_links_variants_of_one_company_and_explains_why() -> None:
    records = [
        make_record(record_id="a", name="北京星河科技有限公司", codes=("91110108551385082Q",)),
        make_record(record_id="b", name="星河科技（北京）有限公司", codes=("55138508-2",)),
        make_record(record_id="c", name="北京市星河科技有限公司", legal_rep="张伟"),
        make_record(record_id="d", name="北京星河科技有限公司", legal_rep="张伟"),
    ]
    result = resolve(records)
    assert result.algorithm == ALGORITHM
    assert len(set(result.clusters.values())) == 1
    assert result.clusters["a"] == "a"
    positive = [p for p in result.pairs if p.decision is Decision.POSITIVE]
    assert positive
    json.dumps([p.to_dict() for p in result.pairs], ensure_ascii=False)


def test_same_trade_name_in_two_cities_stays_apart() -> None:
    records = [
        make_record(record_id="bj", name="北京星河科技有限公司", codes=("91110108551385082Q",)),
        make_record(record_id="sh", name="上海星河科技有限公司", codes=("91110000600037341L",)),
    ]
    result = resolve(records)
    assert result.clusters["bj"] != result.clusters["sh"]
    (pair,) = result.pairs if result.pairs else (None,)
    assert pair is None or pair.decision is Decision.NEGATIVE


def test_reviewer_rejection_is_never_overridden() -> None:
    records = [
        make_record(record_id="a", codes=("91110108551385082Q",)),
        make_record(record_id="b", codes=("91110108551385082Q",)),
    ]
    assert resolve(records).clusters["b"] == "a"
    result = resolve(records, forbidden=[("b", "a")])
    assert result.clusters["b"] == "b"
    assert any(p.rule == "reviewer_rejected" for p in result.pairs)


def _resident_id(born: str, sequence: str) -> str:
    body = f"110105{born}{sequence}"
    return body + ric.calc_check_digit(body + "0")


def test_a_record_matching_two_persons_kept_apart_by_their_ids_goes_to_review() -> None:
    """Two persons of one rare name and birth date with different valid ids, and a record
    with the name and birth date only: it is not joined to whichever scored a little higher,
    but left alone with both pairs queued for review (rule ambiguous_candidates)."""
    first = _resident_id("19850302", "031")
    second = _resident_id("19850302", "051")
    records = [
        make_record(record_id="a", name="欧阳明远", kind="natural_person", codes=(first,)),
        make_record(
            record_id="a2",
            name="欧阳明远",
            kind="natural_person",
            codes=(first,),
            address="北京市东城区东四十条1号",
        ),
        make_record(record_id="b", name="欧阳明远", kind="natural_person", codes=(second,)),
        make_record(
            record_id="x",
            name="欧阳明远",
            kind="natural_person",
            birth_date="1985-03-02",
            address="北京市东城区东四十条1号",
        ),
    ]
    result = resolve(records)
    assert result.clusters["a"] == result.clusters["a2"]
    assert result.clusters["x"] == "x"
    assert result.clusters["b"] == "b"
    queued = result.review_queue()
    # One question for each party the record could be: the record's own entity against each.
    assert {frozenset((item.left, item.right)) for item in queued} == {
        frozenset(("a", "x")),
        frozenset(("b", "x")),
    }
    assert {item.pair.rule for item in queued} == {"ambiguous_candidates"}
    assert result.counts["ambiguous_records"] == 1
    # Without the second person, the record joins the first as before.
    alone = resolve([r for r in records if r.record_id != "b"])
    assert alone.clusters["x"] == alone.clusters["a"]
    assert alone.counts["ambiguous_records"] == 0


def test_duplicate_record_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        resolve([make_record(), make_record()])


def test_f1_on_generated_population(generated: tuple[list[MatchRecord], dict[str, str]]) -> None:
    records, truth = generated
    result = resolve(records)
    precision, recall, f1 = pairwise_scores(result.clusters, truth)
    assert len(records) >= 2000
    assert f1 >= 0.95, (precision, recall, f1)
    assert precision >= 0.98, (precision, recall, f1)


def test_no_cluster_holds_two_valid_usccs_or_resident_ids(
    generated: tuple[list[MatchRecord], dict[str, str]],
) -> None:
    records, _ = generated
    # Loose thresholds push many more pairs into clustering; the rules must still hold.
    result = resolve(records, MatchConfig(positive_threshold=0.2, prior=0.0))
    codes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in records:
        cluster = result.clusters[record.record_id]
        for raw in record.codes:
            ident = parse_identifier(raw)
            if ident.valid and ident.kind.value in ("uscc", "resident_id"):
                codes[cluster][ident.kind.value].add(ident.value)
    for kinds in codes.values():
        for values in kinds.values():
            assert len(values) == 1, values


def test_incremental_batches_give_the_same_clusters_as_one_run(
    generated: tuple[list[MatchRecord], dict[str, str]],
) -> None:
    records, _ = generated
    full = resolve(records)
    half = len(records) // 2
    first = resolve(records[:half])
    second = resolve_incremental(first, records[half:])
    assert second.counts["pairs"] < full.counts["pairs"]
    assert second.clusters == full.clusters


def test_pairs_are_kept_compactly_and_explained_as_decided(
    generated: tuple[list[MatchRecord], dict[str, str]],
) -> None:
    records, _ = generated
    result = resolve(records)
    pairs = result.pairs
    assert len(pairs) >= 1000
    by_id = {r.record_id: r for r in records}
    resolver = result.state
    for k in (0, len(pairs) // 2, -1):
        explanation = pairs[k]
        # Reading a pair scores it again: the same explanation as scoring it directly.
        left = resolver.records[resolver.positions[explanation.left]]
        right = resolver.records[resolver.positions[explanation.right]]
        assert explanation == score_pair(left, right, resolver.config)
        assert explanation.decision is pairs.decision(k % len(pairs))
        assert {explanation.left, explanation.right} <= set(by_id)
    assert pairs[:3] == [pairs[0], pairs[1], pairs[2]]
    with pytest.raises(IndexError):
        pairs[len(pairs)]
    unsure = [p for p in pairs if p.decision is Decision.UNSURE]
    assert len(unsure) == result.counts["unsure"]
    queue = result.review_queue()
    # Every unsure pair is accounted for: settled, kept apart, or supporting one question.
    assert queue.unsure_pairs == len(unsure)
    assert queue.settled + queue.kept_apart + sum(i.support for i in queue) == len(unsure)
    assert {(i.pair.left, i.pair.right) for i in queue} <= {(p.left, p.right) for p in unsure}
    positives = [p for p in pairs if p.decision is Decision.POSITIVE]
    assert len(positives) == result.counts["positive"]


def test_the_garbage_collector_is_restored_even_on_error() -> None:
    assert gc.isenabled()
    resolve([make_record(record_id="a"), make_record(record_id="b")])
    assert gc.isenabled()
    with pytest.raises(ValueError, match="duplicate"):
        resolve([make_record(), make_record()])
    assert gc.isenabled()
    gc.disable()
    try:
        resolve([make_record()])
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()
