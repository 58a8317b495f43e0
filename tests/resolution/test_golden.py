"""The golden record by authority: a value wins by how its record was identified (a valid
USCC or resident id first), then by its feed's authority (registry over penalty, or what the
catalogue says), then by recency; a split or unmerge chooses again from what each side keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.services import create_client
from core.models import (
    ApiClient,
    CreditRecord,
    Entity,
    EntityAttribute,
    EntityKind,
    Feed,
    RecordCategory,
    Role,
)
from core.rules.authority import DEFAULT_AUTHORITY, feed_authority
from matching.exact import party_keys
from resolution.corrections import merge_entities, split_entity, unmerge_entity
from resolution.entity_views import EntityViews
from resolution.golden import Candidate, basis_of, choose, update_golden
from tests.support.builders import make_department
from tests.support.credit import (
    USCC_XINGHE,
    entity_of,
    ingest,
    make_credit_feed,
    penalty,
    registry,
)

GUANGZHOU = "广州市天河区体育西路1号"
XIAN = "西安市雁塔区长安南路8号"


@dataclass
class Feeds:
    registry: Feed
    penalty: Feed


@pytest.fixture
def feeds(session: Session) -> Feeds:
    samr = make_department(session, code="SAMR", name="市场监督管理局")
    epb = make_department(session, code="EPB", name="生态环境局")
    return Feeds(
        registry=make_credit_feed(
            session, code="samr-registry", department=samr, record_category=RecordCategory.REGISTRY
        ),
        penalty=make_credit_feed(
            session, code="epb-penalties", department=epb, record_category=RecordCategory.PENALTY
        ),
    )


def current(session: Session, entity: Entity) -> dict[str, str | None]:
    """The entity's current golden values; exactly one current value a field."""
    rows = session.execute(
        select(EntityAttribute.field, EntityAttribute.value).where(
            EntityAttribute.entity_id == entity.id, EntityAttribute.is_current.is_(True)
        )
    ).all()
    fields = [field for field, _ in rows]
    assert len(fields) == len(set(fields)), rows
    return dict(rows)


def regulator(session: Session) -> ApiClient:
    client, _token = create_client(session=session, name="reg", role=Role.REGULATOR)
    return client


# --------------------------------------------------------------------------- the story


def test_a_code_less_namesake_never_overwrites_the_real_company(
    session: Session, feeds: Feeds
) -> None:
    """The false merge of issue 13: a namesake in another city, without a code, must not
    replace the registry's address and legal representative, so the real company's next
    record (with its USCC, at its registry address) still finds it."""
    real = ingest(
        session,
        feeds.registry,
        [registry("r1", address=GUANGZHOU, legal_rep="王五")],
    )
    company = entity_of(session, real[0])
    ingest(
        session,
        feeds.penalty,
        [penalty("p1", uscc=None, address=XIAN, legal_rep="赵六")],
    )
    assert current(session, company)["address"] == GUANGZHOU
    assert current(session, company)["legal_rep"] == "王五"
    later = ingest(session, feeds.penalty, [penalty("p2", address=GUANGZHOU, legal_rep="王五")])
    assert later[0].entity_id == company.public_id
    assert current(session, company)["address"] == GUANGZHOU


def test_a_code_less_value_stays_behind_a_coded_one_whatever_links_it(session: Session) -> None:
    """Linking may attach a code-less record by name (or by the matcher): its values are kept,
    not current, while a record identified by a valid code said otherwise."""
    feed = make_credit_feed(session, record_category=RecordCategory.REGISTRY)
    views = EntityViews(session)
    entity = views.create(
        kind=EntityKind.LEGAL_ENTITY, public_id="CHL-TEST00001", display_name="甲", region_code=None
    )
    coded = {"party_name": "甲公司", "uscc": USCC_XINGHE, "address": GUANGZHOU}
    codeless = {"party_name": "甲公司", "address": XIAN}
    for n, record in enumerate([coded, codeless], start=1):
        keys = party_keys(record)
        update_golden(views, entity, record=record, keys=keys, source_id=n, feed_id=feed.id)
    shown = {a.field: (a.value, a.basis) for a in entity.attributes if a.is_current}
    assert shown["address"] == (GUANGZHOU, "uscc")
    assert shown["name"] == ("甲公司", "uscc")


# --------------------------------------------------------------------------- the ranking


def test_the_registry_beats_a_later_penalty_and_a_later_registry_record_beats_it(
    session: Session, feeds: Feeds
) -> None:
    first = ingest(session, feeds.registry, [registry("r1", address=GUANGZHOU)])
    company = entity_of(session, first[0])
    ingest(session, feeds.penalty, [penalty("p1", address=XIAN)])
    assert current(session, company)["address"] == GUANGZHOU  # authority over recency
    ingest(session, feeds.registry, [registry("r2", address="广州市越秀区新址2号")])
    assert current(session, company)["address"] == "广州市越秀区新址2号"  # recency among equals


def test_a_penalty_first_is_replaced_when_the_registry_record_arrives(
    session: Session, feeds: Feeds
) -> None:
    first = ingest(session, feeds.penalty, [penalty("p1", address=XIAN, legal_rep="赵六")])
    company = entity_of(session, first[0])
    assert current(session, company)["address"] == XIAN
    ingest(session, feeds.registry, [registry("r1", address=GUANGZHOU)])
    assert current(session, company)["address"] == GUANGZHOU
    assert current(session, company)["legal_rep"] == "王五"
    kept = session.scalars(
        select(EntityAttribute.value).where(
            EntityAttribute.entity_id == company.id, EntityAttribute.field == "address"
        )
    ).all()
    assert sorted(kept) == sorted([XIAN, GUANGZHOU])  # the penalty's value is kept, not current


def test_the_catalogue_can_give_a_feed_more_authority_than_its_category(
    session: Session, feeds: Feeds
) -> None:
    feeds.penalty.golden_authority = 95
    session.flush()
    first = ingest(session, feeds.penalty, [penalty("p1", address=XIAN)])
    company = entity_of(session, first[0])
    ingest(session, feeds.registry, [registry("r1", address=GUANGZHOU)])
    assert current(session, company)["address"] == XIAN


def test_identification_counts_before_authority(session: Session, feeds: Feeds) -> None:
    """A registry record without a valid code never replaces a penalty record's values that
    came with the entity's USCC."""
    first = ingest(session, feeds.penalty, [penalty("p1", address=XIAN)])
    company = entity_of(session, first[0])
    ingest(session, feeds.registry, [registry("r1", uscc=None, address=GUANGZHOU)])
    assert current(session, company)["address"] == XIAN


def test_choose_says_why_each_value_won() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)

    def value(text: str, basis: str | None, category: str, minutes: int) -> Candidate:
        authority = DEFAULT_AUTHORITY[RecordCategory(category)]
        when = now + timedelta(minutes=minutes)
        return Candidate("address", text, basis, authority, category, when, minutes)

    registry_value = value("A", "uscc", "registry", 0)
    later_penalty = value("B", "uscc", "penalty", 5)
    winner, why = choose([registry_value, later_penalty])["address"]
    assert winner is registry_value
    assert why == {
        "rule": "registry linked by USCC",
        "why": "registry linked by USCC outranks penalty linked by USCC",
    }
    newer = value("C", "uscc", "registry", 9)
    winner, why = choose([registry_value, later_penalty, newer])["address"]
    assert (winner, why["rule"]) == (newer, "most recent")
    agreeing = value("A", None, "penalty", 3)
    assert choose([registry_value, agreeing])["address"][1]["rule"] == "all sources agree"
    assert choose([agreeing])["address"][1]["rule"] == "only source"
    assert "without a valid code" in choose([agreeing])["address"][1]["why"]


def test_basis_and_authority_defaults() -> None:
    assert basis_of(party_keys({"party_name": "甲", "uscc": USCC_XINGHE})) == "uscc"
    assert basis_of(party_keys({"party_name": "甲", "org_code": "60003734-1"})) == "org_code"
    assert basis_of(party_keys({"party_name": "甲"})) is None
    assert basis_of(party_keys({"party_name": "甲", "uscc": "91110000600037341A"})) is None
    assert feed_authority(RecordCategory.REGISTRY, None) > feed_authority("penalty", None)
    assert feed_authority("penalty", 99) == 99
    assert feed_authority(None, None) == feed_authority("no such category", None) == 0


# --------------------------------------------------------------------------- corrections


def test_a_split_chooses_again_on_both_sides(session: Session, feeds: Feeds) -> None:
    first = ingest(session, feeds.registry, [registry("r1", address=GUANGZHOU)])
    company = entity_of(session, first[0])
    ingest(session, feeds.penalty, [penalty("p1", address=XIAN, legal_rep="赵六")])
    assert current(session, company)["address"] == GUANGZHOU
    registry_record = session.scalar(
        select(CreditRecord.id).where(CreditRecord.feed_id == feeds.registry.id)
    )
    assert registry_record is not None
    new = split_entity(
        session=session,
        client=regulator(session),
        public_id=company.public_id,
        record_ids=[registry_record],
        reason="错挂",
    )
    assert current(session, company) == {
        "name": "北京星河科技有限公司",
        "address": XIAN,
        "legal_rep": "赵六",
    }
    assert current(session, new)["address"] == GUANGZHOU
    assert current(session, new)["legal_rep"] == "王五"


def test_an_unmerge_leaves_each_entity_its_own_values(session: Session, feeds: Feeds) -> None:
    a = entity_of(session, ingest(session, feeds.registry, [registry("r1")])[0])
    b = entity_of(
        session,
        ingest(
            session,
            feeds.penalty,
            [penalty("p1", party_name="北京华信贸易有限公司", uscc=None, address=XIAN)],
        )[0],
    )
    client = regulator(session)
    before = current(session, a), current(session, b)
    merge_entities(
        session=session, client=client, source_id=b.public_id, target_id=a.public_id, reason="x"
    )
    unmerge_entity(session=session, client=client, public_id=b.public_id, reason="x")
    assert (current(session, a), current(session, b)) == before


def test_a_split_takes_the_values_of_the_records_earlier_versions_along(
    session: Session, feeds: Feeds
) -> None:
    first = ingest(session, feeds.registry, [registry("r1", address="广州市旧址1号")])
    company = entity_of(session, first[0])
    again = ingest(session, feeds.registry, [registry("r1", address=GUANGZHOU)])
    assert again[0].status == "updated"
    ingest(session, feeds.penalty, [penalty("p1", address=XIAN)])
    registry_record = session.scalar(
        select(CreditRecord.id).where(CreditRecord.feed_id == feeds.registry.id)
    )
    assert registry_record is not None
    new = split_entity(
        session=session,
        client=regulator(session),
        public_id=company.public_id,
        record_ids=[registry_record],
        reason="错挂",
    )
    assert current(session, company)["address"] == XIAN
    assert current(session, new)["address"] == GUANGZHOU
