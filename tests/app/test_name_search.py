"""Name search from indexes: ranking and reasons, short names, common words, and indexes that
follow every write of a name (ingest, renames, splits, merges) on both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from app.auth.services import create_client
from app.entities.name_grams import COMMON_GRAM, MAX_GRAMS, WORD_SCAN, rare_grams
from app.entities.search import MAX_NAME_CANDIDATES, Hit, name_hits, query_trigrams
from core.models import (
    CreditRecord,
    Entity,
    EntityKind,
    RecordCategory,
    Role,
    search_key_values,
)
from matching.search_names import search_keys
from resolution.corrections import merge_entities, split_entity
from tests.support.builders import make_entity
from tests.support.credit import USCC_XINGHE, ingest, make_credit_feed, registry

NAMES = {
    "xinghe": "北京星河科技有限公司",
    "xinghe_sh": "上海星河科技有限公司",  # same core, other region
    "xinghe_trade": "北京星河科技发展有限公司",  # the query is a prefix of its name
    "xingchen": "北京星辰科技有限公司",  # one character apart in the core
    "far": "广州远洋国际物流有限公司",
}


def _make(session: Session, **names: str) -> dict[str, Entity]:
    made = {key: make_entity(session, display_name=name) for key, name in names.items()}
    session.flush()
    return made


def _found(session: Session, query: str, **extra: Any) -> list[tuple[int, str]]:
    return [(h.entity_id, h.rule) for h in name_hits(session, query, [], **extra)]


def test_exact_then_core_and_prefix_then_fuzzy_with_the_reason(session: Session) -> None:
    e = _make(session, **NAMES)
    hits = name_hits(session, "北京星河科技有限公司", [])
    by_id = {h.entity_id: h for h in hits}
    assert hits[0] == Hit(e["xinghe"].id, 1.0, "name", "exact_name")
    assert by_id[e["xinghe_sh"].id].rule == "core_name"
    assert by_id[e["xingchen"].id].rule == "fuzzy_name"
    assert e["far"].id not in by_id
    ranks = [("exact_name", "core_name", "name_prefix", "fuzzy_name").index(h.rule) for h in hits]
    assert ranks == sorted(ranks)
    # equal cores and prefixes rank together, names the query starts first
    prefix = _found(session, "北京星河科技")
    assert prefix[:3] == [
        (e["xinghe"].id, "core_name"),
        (e["xinghe_trade"].id, "name_prefix"),
        (e["xinghe_sh"].id, "core_name"),
    ]
    assert prefix[3] == (e["xingchen"].id, "fuzzy_name")


def test_noise_in_the_query_does_not_matter(session: Session) -> None:
    e = _make(session, **NAMES)
    for query in ["北京市　星河科技有限公司", " 北京星河科技有限公司 ", "北京星河科技有限公司"]:
        assert _found(session, query)[0][0] == e["xinghe"].id, query
    # traditional characters, full-width letters: the stored search form is simplified
    abc = make_entity(session, display_name="ＡＢＣ數據服務有限公司")
    assert _found(session, "abc数据服务有限公司")[0] == (abc.id, "exact_name")


def test_a_typo_is_found_through_the_trigram_index(session: Session) -> None:
    e = _make(session, **NAMES)
    # a long core: trigrams of the core survive the typo
    assert _found(session, "广州远洋国际物留有限公司")[0] == (e["far"].id, "fuzzy_name")
    # a short core with the region: the trigram across region and core survives
    assert _found(session, "北京星和科技有限公司")[0] == (e["xinghe"].id, "fuzzy_name")
    assert query_trigrams(*search_keys("北京星和科技有限公司")) == [
        "北京星",
        "京星和",
        "星和科",
        "和科技",
    ]
    assert _found(session, "完全无关的名字") == []


def test_names_shorter_than_a_trigram(session: Session) -> None:
    wang = make_entity(session, kind=EntityKind.NATURAL_PERSON, display_name="王伟")
    wang_fang = make_entity(session, kind=EntityKind.NATURAL_PERSON, display_name="王芳")
    li = make_entity(session, kind=EntityKind.NATURAL_PERSON, display_name="李伟")
    found = _found(session, "王伟")
    assert found[0] == (wang.id, "exact_name")
    assert li.id not in [i for i, _ in found]
    assert {i for i, _ in _found(session, "王")} == {wang.id, wang_fang.id}
    assert _found(session, "王", kinds=[EntityKind.LEGAL_ENTITY]) == []


def test_a_prefix_many_names_share_reads_a_bounded_range(session: Session) -> None:
    wang = make_entity(session, kind=EntityKind.NATURAL_PERSON, display_name="张伟")
    session.execute(
        insert(Entity),
        [
            {
                "public_id": f"CHP-Z{n}",
                "kind": EntityKind.NATURAL_PERSON,
                "display_name": f"张伟{n}",
                **search_key_values(f"张伟{n}"),
            }
            for n in range(3 * MAX_NAME_CANDIDATES)
        ],
    )
    found = _found(session, "张伟")
    assert found[0] == (wang.id, "exact_name")
    assert len(found) <= 2 * MAX_NAME_CANDIDATES + WORD_SCAN
    assert found == _found(session, "张伟")
    assert _found(session, "张伟1234")[0][1] == "exact_name"


def test_clauses_and_merged_entities(session: Session) -> None:
    e = _make(session, **NAMES)
    e["xinghe_sh"].merged_into_id = e["xinghe"].id
    session.flush()
    found = [i for i, _ in _found(session, "星河科技")]
    assert e["xinghe"].id in found and e["xinghe_sh"].id not in found
    only = name_hits(session, "星河科技", [Entity.id != e["xinghe"].id])
    assert e["xinghe"].id not in [h.entity_id for h in only]


def test_ingest_renames_and_splits_keep_the_index(session: Session) -> None:
    feed = make_credit_feed(session, code="samr", record_category=RecordCategory.REGISTRY)
    [first] = ingest(session, feed, [registry("r1")])
    entity = session.scalar(select(Entity).where(Entity.public_id == first.entity_id))
    assert entity is not None
    assert _found(session, "北京星河科技有限公司")[0] == (entity.id, "exact_name")
    # the registry renames the company (Core update of the batch's entity views)
    ingest(session, feed, [registry("r2", party_name="北京银河国际贸易有限公司")])
    session.expire_all()
    assert _found(session, "北京银河国际贸易有限公司")[0] == (entity.id, "exact_name")
    assert _found(session, "北京银河国际贸易有限公")[0] == (entity.id, "name_prefix")
    assert _found(session, "北京银河国际贸益有限公司")[0] == (entity.id, "fuzzy_name")
    assert entity.id not in [i for i, _ in _found(session, "北京星河科技有限公司")]
    # a split gives the new entity the moved record's name (ORM write)
    [other] = ingest(
        session, feed, [registry("r3", party_name="北京银河国际贸易有限公司", uscc=USCC_XINGHE)]
    )
    record_ids = list(
        session.scalars(select(CreditRecord.id).where(CreditRecord.entity_id == entity.id))
    )
    client, _token = create_client(session=session, name="reg", role=Role.REGULATOR)
    moved = split_entity(
        session=session,
        client=client,
        public_id=entity.public_id,
        record_ids=record_ids[:1],
        reason="two companies",
    )
    assert moved.search_name == search_keys(moved.display_name)[0]
    assert moved.id in [i for i, _ in _found(session, moved.display_name)]
    # a merge hides the merged entity from search
    twin = make_entity(session, display_name="北京银河国际贸易有限公司")
    assert twin.id in [i for i, _ in _found(session, "北京银河国际贸易有限公司")]
    merge_entities(
        session=session,
        client=client,
        source_id=twin.public_id,
        target_id=entity.public_id,
        reason="one company after all",
    )
    assert twin.id not in [i for i, _ in _found(session, "北京银河国际贸易有限公司")]
    assert other.entity_id == entity.public_id


def _postings(session: Session) -> set[tuple[str, int]]:
    return {
        (g, i) for g, i in session.execute(text("SELECT gram, entity_id FROM entity_name_grams"))
    }


def _expected_postings(session: Session) -> set[tuple[str, int]]:
    return {
        (name[start : start + 3], entity_id)
        for entity_id, name in session.execute(select(Entity.id, Entity.search_name))
        for start in range(len(name) - 2)
    }


def test_the_trigram_postings_follow_every_write_of_a_name(session: Session) -> None:
    e = _make(session, **NAMES)
    assert _postings(session) == _expected_postings(session)
    assert ("星河科", e["xinghe"].id) in _postings(session)
    # an ORM rename, a Core update of many rows, a merge, a delete
    e["far"].display_name = "深圳远洋国际物流有限公司"
    session.flush()
    session.execute(
        update(Entity)
        .where(Entity.id.in_([e["xinghe_sh"].id, e["xingchen"].id]))
        .values(search_name="上海新名字有限公司", search_core="新名字")
    )
    e["xinghe_trade"].merged_into_id = e["xinghe"].id
    session.flush()
    session.delete(e["xingchen"])
    session.flush()
    assert _postings(session) == _expected_postings(session)
    assert _found(session, "深圳远洋国际物流有限公司")[0] == (e["far"].id, "exact_name")
    assert _found(session, "上海新名字有限公司") == [(e["xinghe_sh"].id, "exact_name")]


def test_a_common_word_alone_lists_a_bounded_first_page(session: Session, backend: str) -> None:
    """物流 (two characters) and 有限公司 (every trigram common) find the names holding them:
    all of them while few, the first page in the index's order with ``common_word`` when the
    word is too common to rank."""
    e = _make(session, **NAMES)
    found = _found(session, "物流")
    assert found == [(e["far"].id, "name_contains")]
    assert {i for i, _ in _found(session, "科技")} == {
        e[k].id for k in ("xinghe", "xinghe_sh", "xinghe_trade", "xingchen")
    }
    assert _found(session, "物流", kinds=[EntityKind.NATURAL_PERSON]) == []
    assert _found(session, "有限公司")[0][1] == "name_contains"
    assert len(_found(session, "有限公司")) == len(NAMES)
    # many names: every trigram of 有限公司 is common; a bounded page, the same every time
    many = COMMON_GRAM + 10
    session.execute(
        insert(Entity),
        [
            {
                "public_id": f"CHL-W{n}",
                "kind": EntityKind.LEGAL_ENTITY,
                "display_name": f"测试{n}物流有限公司",
                **search_key_values(f"测试{n}物流有限公司"),
            }
            for n in range(many)
        ],
    )
    common = _found(session, "有限公司")
    assert 0 < len(common) <= WORD_SCAN
    assert {rule for _i, rule in common} == {"common_word"}
    assert common == _found(session, "有限公司")
    logistics = _found(session, "物流有限公司")
    assert 0 < len(logistics) <= WORD_SCAN
    assert {rule for _i, rule in logistics} == {"common_word"}
    # a name the word does not start still ranks by the usual rules when it is exact
    assert _found(session, "广州远洋国际物流有限公司")[0] == (e["far"].id, "exact_name")
    assert _found(session, "完全无关的有限公司") == []


def test_the_rarest_trigrams_within_the_budget_are_read() -> None:
    counts = {
        "北京星": 5,
        "京星和": 0,
        "星和科": COMMON_GRAM,
        "和科技": 999,
        "科技发": 3,
        "技发展": 998,
    }
    # held by none (a typo) or by too many: never; the rarest first while the total fits
    assert rare_grams(counts) == ["科技发", "北京星", "技发展"]
    assert rare_grams({f"g{i}": 1 for i in range(12)}) == [f"g{i}" for i in range(MAX_GRAMS)]
    assert rare_grams({"有限公": COMMON_GRAM}) == []
